"""The scheduled messages: a daily tip and a supplement reminder, their text and buttons.

This is the whole reminder button protocol: the callback-data prefixes, the pattern the
handler is registered with, `parse_reminder_button`, the reminder message, and the text it
reads as once answered (built from the same first line, so a snoozed reminder still says it
was snoozed). The handlers that answer the buttons are in `bot/handlers/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content, Texts
from bot.domain.timeparse import local_clock
from bot.domain.vocabulary import DoseStatus
from bot.render import Rows

TIP_NEXT = "tip:next"  # "another tip": a tip now, from the same rotation
TIP_STOP = "tip:stop"  # "stop daily tips"
# Reminder buttons: the prefix + the id of the delivery the message came from (64 bytes at most).
REM_TAKEN = "rem:taken:"
REM_SNOOZE15 = "rem:snooze15:"
REM_SNOOZE60 = "rem:snooze60:"
REM_SKIP = "rem:skip:"
SNOOZE_MINUTES = {REM_SNOOZE15: 15, REM_SNOOZE60: 60}
# Ids are database keys (32-bit on every backend): a forged longer number matches nothing.
ROW_ID = r"[1-9]\d{0,8}"
REMINDER_PATTERN = rf"^rem:(taken|snooze15|snooze60|skip):{ROW_ID}$"  # for CallbackQueryHandler
_DOSE_OF = {
    REM_TAKEN: DoseStatus.TAKEN,
    REM_SKIP: DoseStatus.SKIPPED,
    REM_SNOOZE15: DoseStatus.SNOOZED,
    REM_SNOOZE60: DoseStatus.SNOOZED,
}


@dataclass(frozen=True)
class Draft:
    """A message ready for render: HTML text and its inline keyboard."""

    text: str
    rows: Rows


@dataclass(frozen=True)
class ReminderPress:
    """What a reminder button asks for."""

    delivery_id: int  # the reminder message's deliveries row
    status: DoseStatus
    snooze_minutes: int  # 0 unless a snooze


def parse_reminder_button(data: str | None) -> ReminderPress | None:
    """Read a reminder button's callback data; None for anything else (old or forged data)."""
    if data is None or re.match(REMINDER_PATTERN, data) is None:
        return None
    prefix, _, raw_id = data.rpartition(":")
    prefix += ":"
    return ReminderPress(int(raw_id), _DOSE_OF[prefix], SNOOZE_MINUTES.get(prefix, 0))


def tip_buttons(texts: Texts) -> Rows:
    """Return the buttons under a daily tip."""
    return (
        (
            (texts.raw("delivery.button_another_tip"), TIP_NEXT),
            (texts.raw("delivery.button_stop_tips"), TIP_STOP),
        ),
    )


def reminder_buttons(texts: Texts, delivery_id: int) -> Rows:
    """Return the Taken / Snooze / Skip buttons of the reminder sent as delivery `delivery_id`."""
    return (
        (
            (texts.raw("delivery.button_taken"), f"{REM_TAKEN}{delivery_id}"),
            (texts.raw("delivery.button_skip"), f"{REM_SKIP}{delivery_id}"),
        ),
        (
            (texts.raw("delivery.button_snooze15"), f"{REM_SNOOZE15}{delivery_id}"),
            (texts.raw("delivery.button_snooze60"), f"{REM_SNOOZE60}{delivery_id}"),
        ),
    )


def tip_message(content: Content, tip_id: str) -> Draft | None:
    """Return the daily-tip message for `tip_id`, or None when no such tip exists any more."""
    tip = next((t for t in content.tips if t.id == tip_id), None)
    if tip is None:
        return None
    text = content.texts.get("delivery.tip", text=tip.text, source=content.source_names(tip))
    return Draft(content.with_disclaimer(text, tip), tip_buttons(content.texts))


def reminder_message(
    texts: Texts,
    delivery_id: int,
    label: str,
    *,
    snoozed: bool = False,
    late_since: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> Draft:
    """Return a reminder message; `late_since` (the due time) adds "late: due at HH:MM".

    Args:
        texts: The loaded texts.
        delivery_id: The delivery the buttons answer to.
        label: The reminder's label ("magnesium glycinate 200 mg"); empty for the default.
        snoozed: True for the extra occurrence a snooze created.
        late_since: The due time, when the message goes out late enough to say so.
        zone: The user's zone, to show the due time in.
    """
    lines = [reminder_headline(texts, label, snoozed=snoozed)]
    if late_since is not None:
        local = late_since.astimezone(zone) if zone is not None else late_since
        zone_name = zone.key if zone is not None else "UTC"
        lines.append(texts.get("delivery.late", time=local.strftime("%H:%M"), zone=zone_name))
    return Draft("\n".join(lines), reminder_buttons(texts, delivery_id))


def reminder_headline(texts: Texts, label: str, *, snoozed: bool) -> str:
    """Return the first line of a reminder message, before and after it is answered."""
    label = label.strip() or texts.raw("reminders.default_label")
    return texts.get("delivery.snoozed" if snoozed else "delivery.reminder", label=label)


def answered_reminder(
    texts: Texts,
    label: str,
    *,
    snoozed: bool,
    status: DoseStatus,
    at: datetime,
    snooze_due: datetime | None,
    already: bool,
    zone: ZoneInfo,
) -> str:
    """Return the reminder message as it reads once answered: its headline, then the answer.

    Args:
        texts: The loaded texts.
        label: The label the message showed.
        snoozed: True when the message was the extra occurrence a snooze created.
        status: The answer recorded (the first one, when the message was answered before).
        at: When it was recorded.
        snooze_due: When a snoozed reminder comes back (None if that is not known).
        already: True when this press found an earlier answer and changed nothing.
        zone: The user's zone, to show the times in.
    """
    lines = [reminder_headline(texts, label, snoozed=snoozed)]
    if status == DoseStatus.TAKEN:
        lines.append(texts.get("reminders.dose_taken", time=local_clock(at, zone), zone=zone.key))
    elif status == DoseStatus.SKIPPED:
        lines.append(
            texts.get("reminders.dose_skipped", time=local_clock(at, zone), zone=zone.key)
        )
    elif snooze_due is not None:
        lines.append(
            texts.get("reminders.dose_snoozed", time=local_clock(snooze_due, zone), zone=zone.key)
        )
    else:
        lines.append(texts.raw("reminders.dose_snoozed_plain"))
    if already:
        lines.append(texts.raw("reminders.dose_already"))
    return "\n".join(lines)
