"""The words the delivery engine, the repositories and the handlers share, each defined once.

They are `StrEnum`s: the values are what the database stores, so a member compares equal to
the stored string and can be written to a column as it is.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryKind(StrEnum):
    """What a deliveries row sends."""

    TIP = "tip"  # the daily tip
    REMINDER = "reminder"  # one occurrence of a reminder's series
    SNOOZE = "snooze"  # the extra occurrence a snooze creates; its item is the snoozed row


class DeliveryStatus(StrEnum):
    """Where a deliveries row is: scheduled -> claimed -> sending -> one of the final states."""

    SCHEDULED = "scheduled"  # a snooze waiting for its time
    CLAIMED = "claimed"  # claimed by a dispatcher, not attempted yet
    SENDING = "sending"  # the HTTP call is (or was) under way
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot, or the account is gone
    FAILED = "failed"
    EXPIRED = "expired"  # later than its lateness budget: not sent
    UNKNOWN = "unknown"  # a tip whose send may or may not have arrived: never sent again


OPEN_STATUSES = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
"""Rows a sender still owes an outcome."""


class DoseStatus(StrEnum):
    """What the user answered to one reminder message."""

    TAKEN = "taken"
    SKIPPED = "skipped"
    SNOOZED = "snoozed"


class QuestionKind(StrEnum):
    """What the bot asked a user and waits for an answer to (a `pending` row)."""

    ZONE = "zone"  # which time zone? (a /subscribe or /remind waits for it)
    # A new value for one part of a reminder (its times, days, label, course or tablets).
    # The stored value is from when only the time could change, so older rows still match.
    CHANGE_REMINDER = "new_time"
