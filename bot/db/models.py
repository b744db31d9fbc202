"""Database models. Portable types only; Telegram ids are BigInteger."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import expression

from bot.db.base import Base, UTCDateTime
from bot.domain.rules import EVERY_DAY, Rule, rule_from_columns


class User(Base):
    """A person who has talked to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))  # "m" / "f"
    life_stage: Mapped[str | None] = mapped_column(String(16))  # pregnant / lactating
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 403 from Telegram
    # Privacy: reminder notifications say "Time for your reminder" without the label.
    hide_labels: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )


class TipSubscription(Base):
    """The daily tip for one user, and their place in their own shuffled tip order."""

    __tablename__ = "tip_subscriptions"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are never reused: rows name them

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    local_time: Mapped[str] = mapped_column(String(5), default="09:00")  # HH:MM in user's zone
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    next_due_utc: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    rotation: Mapped[str] = mapped_column(Text, default="")  # tip ids, comma-separated
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A supplement reminder: a label, a rule (when it comes, in the user's zone), a stock.

    The rule's columns are read and written through `rule` (see `bot/domain/rules.py`). A row
    from before rules existed (one time, every day) needs nothing else: the server defaults
    make it that daily rule.
    """

    __tablename__ = "reminders"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are never reused: rows name them

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    # The local times of day in the user's zone: "21:00", or up to four: "08:00,20:00".
    local_time: Mapped[str] = mapped_column(String(23))
    weekdays: Mapped[int] = mapped_column(
        Integer, default=EVERY_DAY, server_default=str(EVERY_DAY)
    )  # bit 0 Monday .. bit 6 Sunday
    every_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    anchor_date: Mapped[date | None] = mapped_column(Date)  # every N days from; a one-off's day
    until_date: Mapped[date | None] = mapped_column(Date)  # the last day of a course
    once: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    stock: Mapped[int | None] = mapped_column(Integer)  # tablets left; None: not counted
    stock_refill: Mapped[int | None] = mapped_column(Integer)  # what "Refilled" brings back
    per_dose: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: paused
    next_due_utc: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def rule(self) -> Rule | None:
        """Return the reminder's rule (None only for a row written by hand that holds none)."""
        return rule_from_columns(
            self.local_time,
            self.weekdays,
            self.every_days,
            self.anchor_date,
            self.until_date,
            self.once,
        )

    @rule.setter
    def rule(self, rule: Rule) -> None:
        self.local_time = rule.times_text
        self.weekdays = rule.weekdays
        self.every_days = rule.every
        self.anchor_date = rule.anchor
        self.until_date = rule.until
        self.once = rule.once


class Delivery(Base):
    """One scheduled message: claimed -> sending -> sent | blocked | failed | expired | unknown.

    Kinds and statuses are the `DeliveryKind` and `DeliveryStatus` values (bot/domain/vocabulary).
    A snooze is a delivery of kind "snooze" created in status "scheduled" with its own due time;
    its item_id is the delivery it snoozes, so a repeated press cannot schedule it twice.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # One row per occurrence: a restart or a second worker never claims it twice, and a
        # schedule moved to later the same day is a new occurrence, so it is still sent.
        # Time first: new rows land at the index's recent end, however long the history.
        UniqueConstraint("scheduled_utc", "kind", "item_id"),
        Index("ix_deliveries_status_due_utc", "status", "due_utc"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # tip / reminder / snooze
    item_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[date] = mapped_column(Date)
    # The occurrence: the schedule's instant (a snooze: that of the message it snoozes).
    scheduled_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    due_utc: Mapped[datetime] = mapped_column(UTCDateTime)  # when it is to be sent
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(32))  # the courier that holds it
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its lease, database time
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    reminder_id: Mapped[int | None] = mapped_column(Integer, index=True)  # reminder / snooze
    label: Mapped[str] = mapped_column(Text, default="")  # the reminder's label when claimed
    tip_id: Mapped[str | None] = mapped_column(String(32))  # the tip sent (chosen at send time)
    error: Mapped[str | None] = mapped_column(Text)


class Dose(Base):
    """What the user did with one reminder message: taken, skipped or snoozed."""

    __tablename__ = "doses"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    delivery_id: Mapped[int] = mapped_column(Integer, unique=True)  # one answer per message
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class Pending(Base):
    """A question the bot asked and waits for an answer to; it survives a restart.

    `kind` is a `QuestionKind`; `key` tells apart several questions of one kind (two /remind
    waiting for the zone); `data` is what the answer completes, as JSON.
    """

    __tablename__ = "pending"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[str] = mapped_column(Text, default="{}")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotState(Base):
    """Small facts about the bot as a whole that must outlive a restart (the token's 429 pause)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DiaryEntry(Base):
    """One entry of a person's magnesium diary: a food or a supplement dose on a local date.

    Only supplement entries count toward the supplement upper limit. An entry logged by
    pressing Taken on a reminder keeps the dose it came from (one entry per dose).
    """

    __tablename__ = "diary"
    __table_args__ = (Index("ix_diary_user_id_local_date", "user_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)  # in the user's zone when it was logged
    kind: Mapped[str] = mapped_column(String(16))  # food / supplement (domain.diary.EntryKind)
    mg: Mapped[float] = mapped_column(Float)
    food_id: Mapped[str | None] = mapped_column(String(64))  # foods.toml id, for food entries
    label: Mapped[str] = mapped_column(String(200), default="")  # food name or supplement label
    amount: Mapped[str] = mapped_column(String(16), default="")  # "g50" / "s2"; "" for doses
    dose_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("doses.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
