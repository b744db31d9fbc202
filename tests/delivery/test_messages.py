"""The scheduled messages: valid Telegram HTML, sources, buttons and their callback data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.delivery.messages import (
    REM_SKIP,
    REM_SNOOZE15,
    REM_SNOOZE60,
    REM_TAKEN,
    REMINDER_PATTERN,
    SNOOZE_MINUTES,
    TIP_NEXT,
    TIP_STOP,
    reminder_message,
    tip_message,
)
from bot.render import check_html, keyboard


def test_every_tip_renders_as_valid_html_with_its_source(content: Content) -> None:
    for tip in content.tips:
        message = tip_message(content, tip.id)
        assert message is not None
        check_html(message.text)
        assert content.source_names(tip).split(";")[0].strip() in message.text.replace(
            "&amp;", "&"
        )
        assert [data for row in message.rows for _, data in row] == [TIP_NEXT, TIP_STOP]
    assert tip_message(content, "no-such-tip") is None


def test_a_reminder_escapes_its_label_and_carries_four_buttons(content: Content) -> None:
    message = reminder_message(content.texts, 123456789, "Mg <b>citrate</b> & B6")
    check_html(message.text)
    assert "Mg &lt;b&gt;citrate&lt;/b&gt; &amp; B6" in message.text
    data = [data for row in message.rows for _, data in row]
    assert data == [
        f"{REM_TAKEN}123456789",
        f"{REM_SKIP}123456789",
        f"{REM_SNOOZE15}123456789",
        f"{REM_SNOOZE60}123456789",
    ]
    assert all(re.match(REMINDER_PATTERN, item) for item in data)
    keyboard(message.rows)  # every callback data fits Telegram's 64 bytes
    assert SNOOZE_MINUTES == {REM_SNOOZE15: 15, REM_SNOOZE60: 60}


def test_a_late_reminder_says_when_it_was_due_in_the_users_zone(content: Content) -> None:
    due = datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
    message = reminder_message(
        content.texts, 1, "magnesium", late_since=due, zone=ZoneInfo("Europe/Berlin")
    )
    check_html(message.text)
    assert "late: due at 21:00 (Europe/Berlin)" in message.text


def test_an_empty_label_and_a_snooze_read_well(content: Content) -> None:
    plain = reminder_message(content.texts, 1, "  ")
    assert content.texts.raw("reminders.default_label") in plain.text
    snoozed = reminder_message(content.texts, 1, "zinc", snoozed=True)
    assert "Snoozed reminder" in snoozed.text
    assert "late" not in snoozed.text
