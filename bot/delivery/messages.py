"""The scheduled messages: a daily tip and a supplement reminder, their text and buttons.

The callback-data prefixes of their buttons live here, so one grep finds both the button and
the handler that answers it (the handlers are in `bot/handlers/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content, Texts
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


@dataclass(frozen=True)
class Outgoing:
    """A message ready for render: HTML text and its inline keyboard."""

    text: str
    rows: Rows


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


def tip_message(content: Content, tip_id: str) -> Outgoing | None:
    """Return the daily-tip message for `tip_id`, or None when no such tip exists any more."""
    tip = next((t for t in content.tips if t.id == tip_id), None)
    if tip is None:
        return None
    text = content.texts.get("delivery.tip", text=tip.text, source=content.source_names(tip))
    return Outgoing(content.with_disclaimer(text, tip), tip_buttons(content.texts))


def reminder_message(
    texts: Texts,
    delivery_id: int,
    label: str,
    *,
    snoozed: bool = False,
    late_since: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> Outgoing:
    """Return a reminder message; `late_since` (the due time) adds "late: due at HH:MM".

    Args:
        texts: The loaded texts.
        delivery_id: The delivery the buttons answer to.
        label: The reminder's label ("magnesium glycinate 200 mg"); empty for the default.
        snoozed: True for the extra occurrence a snooze created.
        late_since: The due time, when the message goes out late enough to say so.
        zone: The user's zone, to show the due time in.
    """
    label = label.strip() or texts.raw("delivery.default_label")
    if snoozed:
        lines = [texts.get("delivery.snoozed", label=label)]
    else:
        lines = [texts.get("delivery.reminder", label=label)]
    if late_since is not None:
        local = late_since.astimezone(zone) if zone is not None else late_since
        zone_name = zone.key if zone is not None else "UTC"
        lines.append(texts.get("delivery.late", time=local.strftime("%H:%M"), zone=zone_name))
    return Outgoing("\n".join(lines), reminder_buttons(texts, delivery_id))
