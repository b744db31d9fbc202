"""The scheduled messages: a daily tip and a supplement reminder, their text and buttons.

This is the whole reminder button protocol: the callback-data prefixes, the patterns the
handlers are registered with, `parse_reminder_button`, the reminder message, and the text it
reads as once answered (built from the same first line, so a snoozed reminder still says it
was snoozed). Besides its label a reminder message may say more (`Notes`): that its label is
hidden (privacy: "Time for your reminder", with a Show button), that its tablets run low or
out (with a Refilled button), that it is the last one of a course. The handlers that answer
the buttons are in `bot/handlers/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content, Texts
from bot.domain.rules import Rule, Stock, is_last, stock_of
from bot.domain.timeparse import local_clock
from bot.domain.vocabulary import DoseStatus
from bot.render import Button, Rows

TIP_NEXT = "tip:next"  # "another tip": a tip now, from the same rotation
TIP_STOP = "tip:stop"  # "stop daily tips"
# Reminder buttons: the prefix + the id of the delivery the message came from (64 bytes at most).
REM_TAKEN = "rem:taken:"
REM_SNOOZE15 = "rem:snooze15:"
REM_SNOOZE60 = "rem:snooze60:"
REM_SKIP = "rem:skip:"
REM_SHOW = "rem:show:"  # show a hidden label in the chat
REM_REFILL = "rem:refill:"  # the tablets were refilled
SNOOZE_MINUTES = {REM_SNOOZE15: 15, REM_SNOOZE60: 60}
# Ids are database keys (32-bit on every backend): a forged longer number matches nothing.
ROW_ID = r"[1-9]\d{0,8}"
REMINDER_PATTERN = rf"^rem:(taken|snooze15|snooze60|skip):{ROW_ID}$"  # for CallbackQueryHandler
SHOW_PATTERN = rf"^{REM_SHOW}{ROW_ID}$"
REFILL_PATTERN = rf"^{REM_REFILL}{ROW_ID}$"
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
class Notes:
    """What a reminder message says besides its label.

    Attributes:
        private: The label is hidden (the user's privacy setting): "Time for your reminder".
        stock: The tablets left, when the user counts them.
        last: The last reminder of a course.
    """

    private: bool = False
    stock: Stock | None = None
    last: bool = False


def notes_for(
    rule: Rule | None,
    stock: int | None,
    per_dose: int,
    *,
    occurrence: datetime | None,
    zone: ZoneInfo,
    private: bool = False,
) -> Notes:
    """Return the notes of a reminder message from its reminder's rule and stock.

    Args:
        rule: The reminder's rule (None: a row without one; only `private` is noted).
        stock: Tablets left (None: not counted).
        per_dose: Tablets per dose.
        occurrence: The occurrence the message is for (its scheduled instant).
        zone: The user's zone.
        private: The user hides labels in notifications.
    """
    if rule is None:
        return Notes(private=private)
    today = occurrence.astimezone(zone).date() if occurrence is not None else None
    return Notes(
        private=private,
        stock=stock_of(rule, stock, per_dose, today),
        last=occurrence is not None and is_last(rule, zone, occurrence),
    )


def id_of(data: str | None) -> int:
    """Return the delivery id at the end of a reminder button's data (0 when there is none)."""
    tail = (data or "").rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


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


def reminder_buttons(texts: Texts, delivery_id: int, notes: Notes | None = None) -> Rows:
    """Return the buttons of the reminder sent as delivery `delivery_id`.

    Taken / Skip / Snooze, then Show when its label is hidden and Refilled when its tablets
    run low or out.
    """
    rows: list[list[Button]] = [
        [
            (texts.raw("delivery.button_taken"), f"{REM_TAKEN}{delivery_id}"),
            (texts.raw("delivery.button_skip"), f"{REM_SKIP}{delivery_id}"),
        ],
        [
            (texts.raw("delivery.button_snooze15"), f"{REM_SNOOZE15}{delivery_id}"),
            (texts.raw("delivery.button_snooze60"), f"{REM_SNOOZE60}{delivery_id}"),
        ],
    ]
    extra: list[Button] = []
    if notes is not None and notes.private:
        extra.append((texts.raw("delivery.button_show"), f"{REM_SHOW}{delivery_id}"))
    if notes is not None and notes.stock is not None and notes.stock.needs_refill:
        extra.append((texts.raw("delivery.button_refilled"), f"{REM_REFILL}{delivery_id}"))
    if extra:
        rows.append(extra)
    return rows


def answered_buttons(texts: Texts, delivery_id: int, notes: Notes) -> Rows:
    """Return the buttons left on an answered reminder: Refilled, when the tablets run low."""
    if notes.stock is not None and notes.stock.needs_refill:
        return [[(texts.raw("delivery.button_refilled"), f"{REM_REFILL}{delivery_id}")]]
    return []


def stock_line(texts: Texts, stock: Stock | None, *, answered: bool = False) -> str | None:
    """Return the line about the tablets left (None when there is nothing to say).

    A reminder message speaks of the stock only when it runs low or out; an answered one
    always says what is left.
    """
    if stock is None:
        return None
    if stock.out:
        return texts.raw("delivery.stock_out")
    if stock.low:
        return texts.get("delivery.stock_low", days=stock.days_left, count=stock.count)
    if answered:
        if stock.days_left is None:
            return texts.get("delivery.stock_left_count", count=stock.count)
        return texts.get("delivery.stock_left", count=stock.count, days=stock.days_left)
    return None


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
    notes: Notes | None = None,
) -> Draft:
    """Return a reminder message; `late_since` (the due time) adds "late: due at HH:MM".

    Args:
        texts: The loaded texts.
        delivery_id: The delivery the buttons answer to.
        label: The reminder's label ("magnesium citrate 200 mg"); empty for the default.
        snoozed: True for the extra occurrence a snooze created.
        late_since: The due time, when the message goes out late enough to say so.
        zone: The user's zone, to show the due time in.
        notes: What else it says: a hidden label, the tablets left, the end of a course.
    """
    notes = notes or Notes()
    if notes.private:
        lines = [texts.raw("delivery.snoozed_private" if snoozed else "delivery.reminder_private")]
    else:
        lines = [reminder_headline(texts, label, snoozed=snoozed)]
    if late_since is not None:
        local = late_since.astimezone(zone) if zone is not None else late_since
        zone_name = zone.key if zone is not None else "UTC"
        lines.append(texts.get("delivery.late", time=local.strftime("%H:%M"), zone=zone_name))
    stock = stock_line(texts, notes.stock)
    if stock is not None:
        lines.append(stock)
    if notes.last:
        lines.append(texts.raw("delivery.course_last"))
    return Draft("\n".join(lines), reminder_buttons(texts, delivery_id, notes))


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
    notes: Notes | None = None,
    removed: bool = False,
) -> str:
    """Return the reminder message as it reads once answered: its headline, then the answer.

    The label shows again (an edit makes no notification, and the person is looking at it).

    Args:
        texts: The loaded texts.
        label: The label the message showed.
        snoozed: True when the message was the extra occurrence a snooze created.
        status: The answer recorded (the first one, when the message was answered before).
        at: When it was recorded.
        snooze_due: When a snoozed reminder comes back (None if that is not known).
        already: True when this press found an earlier answer and changed nothing.
        zone: The user's zone, to show the times in.
        notes: The tablets left and whether it was the last one of a course.
        removed: True when the answer ended a one-off, which is then removed.
    """
    notes = notes or Notes()
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
    stock = stock_line(texts, notes.stock, answered=True)
    if stock is not None:
        lines.append(stock)
    if notes.last and status != DoseStatus.SNOOZED:
        lines.append(texts.raw("reminders.course_complete"))
    if removed:
        lines.append(texts.raw("reminders.once_done"))
    if already:
        lines.append(texts.raw("reminders.dose_already"))
    return "\n".join(lines)
