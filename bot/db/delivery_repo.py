"""Every query of the delivery engine: claiming due rows, recording outcomes, snoozes.

Repositories never commit: the dispatcher and the sender own their transactions. A claimed row
carries its owner (`claimed_by`, one id per running courier) and a lease stamp (`claimed_at`)
that is always written and compared in the database's own clock, so workers whose clocks
disagree never take each other's live rows. Bulk paths
(the claim) use Core statements with executemany and read plain rows, not ORM objects, because
they run for every due item of a million subscribers. On PostgreSQL the reads that decide what
to claim lock their rows with `FOR UPDATE SKIP LOCKED`, so several workers never take the same
row; SQLite (one bot process per file) has no row locks and needs none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

from bot.db.models import Delivery, Reminder, TipSubscription, User
from bot.domain.rules import Rule, rule_from_columns
from bot.domain.vocabulary import OPEN_STATUSES, DeliveryKind, DeliveryStatus

TIP = DeliveryKind.TIP
REMINDER = DeliveryKind.REMINDER
SNOOZE = DeliveryKind.SNOOZE
SCHEDULED = DeliveryStatus.SCHEDULED
CLAIMED = DeliveryStatus.CLAIMED
SENDING = DeliveryStatus.SENDING

_D = cast(Table, Delivery.__table__)
_T = cast(Table, TipSubscription.__table__)
_R = cast(Table, Reminder.__table__)
_U = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class DueSchedule:
    """A tip subscription or a reminder whose next time has come, with its user's chat and zone.

    Paused ones and those of blocked users come too: the claim moves them on without sending.
    """

    id: int
    user_id: int
    local_time: str  # "HH:MM" in the user's zone (a reminder: one or more, comma-separated)
    due_utc: datetime
    active: bool
    label: str  # the reminder's label ("" for a tip)
    chat_id: int
    time_zone: str | None
    blocked: bool
    rule: Rule | None  # when it comes (a tip: every day at local_time); None: no valid rule


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A deliveries row to insert: one occurrence of a tip, a reminder or a snooze."""

    kind: DeliveryKind
    item_id: int  # the subscription, the reminder, or (a snooze) the snoozed delivery
    user_id: int
    chat_id: int
    local_date: date
    scheduled_utc: datetime  # the occurrence (the key: one row per occurrence)
    due_utc: datetime  # when to send it
    status: DeliveryStatus
    claimed_by: str | None  # the courier that claims it (None: a snooze not due yet)
    reminder_id: int | None = None
    label: str = ""

    def values(self) -> dict[str, Any]:
        """Return the row's column values."""
        return {
            "kind": self.kind,
            "item_id": self.item_id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "local_date": self.local_date,
            "scheduled_utc": self.scheduled_utc,
            "due_utc": self.due_utc,
            "status": self.status,
            "attempts": 0,
            "claimed_by": self.claimed_by,
            "reminder_id": self.reminder_id,
            "label": self.label,
        }


@dataclass(frozen=True, slots=True)
class Inserted:
    """A deliveries row the claim inserted (a conflict inserts none)."""

    id: int
    item_id: int
    status: DeliveryStatus


@dataclass(frozen=True, slots=True)
class ScheduleMove:
    """A schedule's next time (None: it cannot be scheduled until the user sets a zone)."""

    id: int
    next_due_utc: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A claimed deliveries row, handed to the sender.

    The sender only acts on the row while its `claimed_by` is still the sender's own courier,
    so a row recovered by another worker is never sent twice by this one.
    """

    id: int
    kind: DeliveryKind
    item_id: int
    user_id: int
    chat_id: int
    due_utc: datetime
    label: str  # the reminder's label as it was when claimed
    tip_id: str | None  # the tip chosen for it (set before its send starts)
    time_zone: str | None


@dataclass(frozen=True, slots=True)
class OpenDelivery:
    """A deliveries row that is due to be sent or was left open (a snooze, a recovered row)."""

    delivery: ClaimedDelivery  # what the sender gets if this row is (re)claimed
    status: DeliveryStatus
    blocked: bool  # its user blocked the bot


@dataclass(frozen=True, slots=True)
class Outcome:
    """A final status for a row its owner holds (recorded in groups: `finish_many`)."""

    delivery_id: int
    status: DeliveryStatus
    only_from: DeliveryStatus = SENDING  # the status the row must still have
    error: str | None = None
    message_id: int | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SendState:
    """What the sender needs to know about a row just before sending it."""

    status: str
    claimed_by: str | None
    due_utc: datetime
    tip_id: str | None
    attempts: int
    blocked: bool
    tip_active: bool | None  # None: the tip subscription is gone (or not a tip)
    reminder_exists: bool
    reminder_active: bool
    # What the reminder message says besides its label (see delivery/messages.py).
    scheduled_utc: datetime | None = None  # the occurrence
    hide_labels: bool = False  # the user's privacy setting
    rule: Rule | None = None
    stock: int | None = None
    per_dose: int = 1


class DeliveryRepo:
    """Queries on deliveries and on the schedules they come from. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session and transaction."""
        self.session = session

    @property
    def dialect(self) -> str:
        """Return the database dialect name ("sqlite", "postgresql")."""
        return self.session.get_bind().dialect.name

    @property
    def locks_rows(self) -> bool:
        """Return True when claims must lock rows (several workers may share the database)."""
        return self.dialect == "postgresql"

    async def _conn(self) -> AsyncConnection:
        return await self.session.connection()

    def _insert_ignoring_conflicts(self) -> Insert:
        """Return INSERT ... ON CONFLICT DO NOTHING for deliveries on this dialect."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(_D).on_conflict_do_nothing()
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(_D).on_conflict_do_nothing()
        raise NotImplementedError(f"no insert-or-ignore for {self.dialect}")

    def db_now(self, ago: timedelta = timedelta(0)) -> Any:
        """Return the database's current time (minus `ago`) as a SQL expression.

        Leases are stamped and compared with this, never with a worker's own clock. On SQLite
        it is written in the same text form as every other stored time, so the two compare.
        """
        if self.dialect == "sqlite":
            return func.strftime("%Y-%m-%d %H:%M:%f000", "now", f"-{ago.total_seconds()} seconds")
        return func.now() - ago if ago else func.now()

    def _locked(self, stmt: Select[Any], *tables: Any) -> Select[Any]:
        if self.locks_rows:
            return stmt.with_for_update(skip_locked=True, of=list(tables) or None)
        return stmt

    async def lock_for_claim(self) -> None:
        """Make the claim's reads and writes one transaction on SQLite too.

        The sqlite3 module opens a transaction only at the first write, so the reads before it
        would see a snapshot that a concurrent write (a handler moving the same reminder) could
        make stale. BEGIN IMMEDIATE takes the database's write lock first; other writers wait
        (busy timeout) for the few milliseconds of the claim. PostgreSQL locks the rows instead.
        """
        if self.dialect != "sqlite":
            return
        conn = await self._conn()
        raw = await conn.get_raw_connection()
        if not getattr(raw.driver_connection, "in_transaction", True):
            await conn.exec_driver_sql("BEGIN IMMEDIATE")

    # -- the claim ----------------------------------------------------------------------------

    async def due_schedules(
        self, kind: DeliveryKind, now: datetime, limit: int
    ) -> list[DueSchedule]:
        """Return up to `limit` tip subscriptions or reminders due at `now`, oldest first.

        Rows come with their user's chat, zone and blocked state; inactive rows and blocked
        users are included so the claim can move their schedule on without a delivery.
        """
        if limit <= 0:
            return []
        table = _T if kind == TIP else _R
        label = _R.c.label if kind == REMINDER else literal("").label("label")
        rule_columns = (
            (_R.c.weekdays, _R.c.every_days, _R.c.anchor_date, _R.c.until_date, _R.c.once)
            if kind == REMINDER
            else ()
        )
        stmt = (
            select(
                table.c.id,
                table.c.user_id,
                table.c.local_time,
                table.c.next_due_utc,
                table.c.active,
                label,
                _U.c.chat_id,
                _U.c.time_zone,
                _U.c.blocked_at,
                *rule_columns,
            )
            .join(_U, _U.c.id == table.c.user_id)
            .where(table.c.next_due_utc <= now)
            .order_by(table.c.next_due_utc)
            .limit(limit)
        )
        stmt = self._locked(stmt, table)
        return [
            DueSchedule(
                row.id,
                row.user_id,
                row.local_time,
                row.next_due_utc,
                row.active,
                row.label,
                row.chat_id,
                row.time_zone,
                row.blocked_at is not None,
                rule_from_columns(row.local_time, *row[9:]),  # a tip: the daily rule
            )
            for row in await (await self._conn()).execute(stmt)
        ]

    async def insert_claims(self, rows: list[NewDelivery]) -> list[Inserted]:
        """Insert deliveries rows, skipping any that exist (same kind, item and occurrence).

        Returns the rows actually inserted: a conflict means another worker, or this one
        before a restart, already claimed that occurrence.
        """
        if not rows:
            return []
        stmt = (
            self._insert_ignoring_conflicts()
            .values(claimed_at=self.db_now())
            .returning(_D.c.id, _D.c.item_id, _D.c.status)
        )
        result = await (await self._conn()).execute(stmt, [row.values() for row in rows])
        return [Inserted(r.id, r.item_id, DeliveryStatus(r.status)) for r in result]

    async def advance(self, kind: DeliveryKind, moves: list[ScheduleMove]) -> None:
        """Set next_due_utc for many schedules of one kind at once."""
        if not moves:
            return
        table = _T if kind == TIP else _R
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(next_due_utc=bindparam("b_next", type_=table.c.next_due_utc.type))
        )
        params = [{"b_id": move.id, "b_next": move.next_due_utc} for move in moves]
        await (await self._conn()).execute(stmt, params)

    async def remove_reminders(self, reminder_ids: list[int]) -> None:
        """Delete reminders that are over (one-offs answered or past), with their doses."""
        if reminder_ids:
            await (await self._conn()).execute(delete(_R).where(_R.c.id.in_(reminder_ids)))

    def _open_rows(self) -> Select[Any]:
        """Select deliveries rows as `OpenDelivery` reads them (with the user's zone)."""
        return select(
            _D.c.id,
            _D.c.kind,
            _D.c.item_id,
            _D.c.user_id,
            _D.c.chat_id,
            _D.c.due_utc,
            _D.c.status,
            _D.c.label,
            _D.c.tip_id,
            _U.c.time_zone,
            _U.c.blocked_at,
        ).outerjoin(_U, _U.c.id == _D.c.user_id)

    async def _read_open(self, stmt: Select[Any]) -> list[OpenDelivery]:
        return [
            OpenDelivery(
                ClaimedDelivery(
                    row.id,
                    DeliveryKind(row.kind),
                    row.item_id,
                    row.user_id,
                    row.chat_id,
                    row.due_utc,
                    row.label,
                    row.tip_id,
                    row.time_zone,
                ),
                DeliveryStatus(row.status),
                row.blocked_at is not None,
            )
            for row in await (await self._conn()).execute(stmt)
        ]

    async def due_snoozes(self, now: datetime, limit: int) -> list[OpenDelivery]:
        """Return up to `limit` snoozes whose time has come (locked on PostgreSQL)."""
        if limit <= 0:
            return []
        stmt = (
            self._open_rows()
            .where(_D.c.status == SCHEDULED, _D.c.due_utc <= now, _D.c.kind == SNOOZE)
            .order_by(_D.c.due_utc)
            .limit(limit)
        )
        return await self._read_open(self._locked(stmt, _D))

    async def set_statuses(
        self,
        changes: Iterable[tuple[int, DeliveryStatus]],
        owner: str,
        *,
        error: str | None = None,
    ) -> None:
        """Set the status of many rows, [(id, status), ...], each now claimed by `owner`."""
        params = [{"b_id": row_id, "b_status": status} for row_id, status in changes]
        if not params:
            return
        stmt = (
            update(_D)
            .where(_D.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                claimed_by=owner,
                claimed_at=self.db_now(),
                error=error,
            )
        )
        await (await self._conn()).execute(stmt, params)

    # -- recovery -----------------------------------------------------------------------------

    async def open_rows(
        self, after_id: int, limit: int, lease: timedelta | None
    ) -> list[OpenDelivery]:
        """Return claimed/sending rows with id > after_id, by id (locked on PostgreSQL).

        With `lease`, only rows whose stamp is older than that in the database's clock: a live
        worker renews the stamps of the rows it holds, so they are never taken from it.
        """
        stmt = (
            self._open_rows()
            .where(_D.c.status.in_(OPEN_STATUSES), _D.c.id > after_id)
            .order_by(_D.c.id)
            .limit(limit)
        )
        if lease is not None:
            stmt = stmt.where((_D.c.claimed_at < self.db_now(lease)) | (_D.c.claimed_at.is_(None)))
        return await self._read_open(self._locked(stmt, _D))

    # -- the sender ---------------------------------------------------------------------------

    async def send_states(self, delivery_ids: Sequence[int]) -> dict[int, SendState]:
        """Return each row's state, its user's and its schedule's, just before sending (one query;
        rows that are gone are left out)."""
        stmt = (
            select(
                _D.c.id,
                _D.c.status,
                _D.c.claimed_by,
                _D.c.due_utc,
                _D.c.tip_id,
                _D.c.attempts,
                _U.c.blocked_at,
                _T.c.active.label("tip_active"),
                _R.c.id.label("reminder_id"),
                _R.c.active.label("reminder_active"),
                _D.c.scheduled_utc,
                _U.c.hide_labels,
                _R.c.local_time,
                _R.c.weekdays,
                _R.c.every_days,
                _R.c.anchor_date,
                _R.c.until_date,
                _R.c.once,
                _R.c.stock,
                _R.c.per_dose,
            )
            .select_from(_D)
            .outerjoin(_U, _U.c.id == _D.c.user_id)
            .outerjoin(_T, and_(_D.c.kind == TIP, _T.c.id == _D.c.item_id))
            .outerjoin(_R, _R.c.id == _D.c.reminder_id)
            .where(_D.c.id.in_(list(delivery_ids)))
        )
        rows = (await (await self._conn()).execute(stmt)).all()
        return {row.id: _send_state(row) for row in rows}

    async def finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        owner: str,
        error: str | None = None,
        message_id: int | None = None,
        sent_at: datetime | None = None,
        only_from: DeliveryStatus = SENDING,
    ) -> bool:
        """Record a final status on a row `owner` holds."""
        values: dict[str, Any] = {"status": status, "error": error}
        if message_id is not None:
            values["message_id"] = message_id
        if sent_at is not None:
            values["sent_at"] = sent_at
        result = await (await self._conn()).execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status == only_from, _D.c.claimed_by == owner)
            .values(**values)
        )
        return _rowcount(result) == 1

    async def choose_tips(self, owner: str, choices: Sequence[tuple[int, str]]) -> None:
        """Record, for many claimed rows of `owner`, the tip each will send (one statement)."""
        if not choices:
            return
        stmt = (
            update(_D)
            .where(_D.c.id == bindparam("b_id"), _D.c.status == CLAIMED, _D.c.claimed_by == owner)
            .values(tip_id=bindparam("b_tip_id"))
        )
        await (await self._conn()).execute(
            stmt, [{"b_id": delivery_id, "b_tip_id": tip_id} for delivery_id, tip_id in choices]
        )

    async def start_sending_many(self, delivery_ids: Sequence[int], owner: str) -> set[int]:
        """Move claimed rows of `owner` to sending and renew their stamps (one statement); return
        the ids that were ours."""
        if not delivery_ids:
            return set()
        stmt = (
            update(_D)
            .where(
                _D.c.id.in_(list(delivery_ids)), _D.c.status == CLAIMED, _D.c.claimed_by == owner
            )
            .values(status=SENDING, attempts=_D.c.attempts + 1, claimed_at=self.db_now())
            .returning(_D.c.id)
        )
        result = await (await self._conn()).execute(stmt)
        return {int(row[0]) for row in result}

    async def finish_many(self, owner: str, outcomes: Sequence[Outcome]) -> None:
        """`finish` for many rows of `owner` in one statement (an executemany)."""
        if not outcomes:
            return
        stmt = (
            update(_D)
            .where(
                _D.c.id == bindparam("b_id"),
                _D.c.status == bindparam("b_from"),
                _D.c.claimed_by == owner,
            )
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                message_id=func.coalesce(
                    bindparam("b_message_id", type_=_D.c.message_id.type), _D.c.message_id
                ),
                sent_at=func.coalesce(
                    bindparam("b_sent_at", type_=_D.c.sent_at.type), _D.c.sent_at
                ),
            )
        )
        await (await self._conn()).execute(
            stmt,
            [
                {
                    "b_id": outcome.delivery_id,
                    "b_from": outcome.only_from,
                    "b_status": outcome.status,
                    "b_error": outcome.error,
                    "b_message_id": outcome.message_id,
                    "b_sent_at": outcome.sent_at,
                }
                for outcome in outcomes
            ],
        )

    async def release(
        self, delivery_id: int, *, owner: str, error: str | None, count_attempt: bool
    ) -> bool:
        """Put a sending row of `owner` back to claimed (stamp renewed) for another try."""
        values: dict[str, Any] = {"status": CLAIMED, "claimed_at": self.db_now(), "error": error}
        if not count_attempt:
            values["attempts"] = _D.c.attempts - 1
        result = await (await self._conn()).execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status == SENDING, _D.c.claimed_by == owner)
            .values(**values)
        )
        return _rowcount(result) == 1

    async def renew(self, owner: str, delivery_ids: Iterable[int]) -> None:
        """Renew the stamps of open rows `owner` still works on (queued, waiting or sending)."""
        ids = list(delivery_ids)
        conn = await self._conn()
        for start in range(0, len(ids), 500):
            await conn.execute(
                update(_D)
                .where(
                    _D.c.id.in_(ids[start : start + 500]),
                    _D.c.claimed_by == owner,
                    _D.c.status.in_(OPEN_STATUSES),
                )
                .values(claimed_at=self.db_now())
            )

    async def block_user(self, user_id: int, now: datetime) -> None:
        """Mark a user blocked: the dispatcher then moves their schedules on without sending."""
        await (await self._conn()).execute(
            update(_U).where(_U.c.id == user_id, _U.c.blocked_at.is_(None)).values(blocked_at=now)
        )

    async def deactivate_schedules(self, user_id: int) -> None:
        """Switch off a user's daily tip and every reminder (their chat no longer exists)."""
        conn = await self._conn()
        await conn.execute(update(_T).where(_T.c.user_id == user_id).values(active=False))
        await conn.execute(update(_R).where(_R.c.user_id == user_id).values(active=False))

    # -- snoozes ------------------------------------------------------------------------------

    async def insert_snooze(self, snooze: NewDelivery) -> int | None:
        """Insert a snooze delivery; return its id, or None if that message was snoozed before."""
        stmt = self._insert_ignoring_conflicts().values(**snooze.values()).returning(_D.c.id)
        row = (await (await self._conn()).execute(stmt)).first()
        return None if row is None else int(row.id)

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` finished rows due before `before`; return how many went.

        Open rows (scheduled, claimed, sending) are never deleted, however old.
        """
        finished = [s for s in DeliveryStatus if s not in (SCHEDULED, *OPEN_STATUSES)]
        oldest = (
            select(_D.c.id)
            .where(_D.c.due_utc < before, _D.c.status.in_(finished))
            .order_by(_D.c.id)
            .limit(limit)
        )
        result = await (await self._conn()).execute(delete(_D).where(_D.c.id.in_(oldest)))
        return _rowcount(result)

    # -- for /admin ---------------------------------------------------------------------------

    async def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Return {status: count} of deliveries due in [start, end)."""
        stmt = (
            select(_D.c.status, func.count())
            .where(
                _D.c.status.in_(list(DeliveryStatus)), _D.c.due_utc >= start, _D.c.due_utc < end
            )
            .group_by(_D.c.status)
        )
        rows = (await (await self._conn()).execute(stmt)).all()
        return {status: int(count) for status, count in rows}


def _send_state(row: Any) -> SendState:
    return SendState(
        status=row.status,
        claimed_by=row.claimed_by,
        due_utc=row.due_utc,
        tip_id=row.tip_id,
        attempts=row.attempts,
        blocked=row.blocked_at is not None,
        tip_active=row.tip_active,
        reminder_exists=row.reminder_id is not None,
        reminder_active=bool(row.reminder_active),
        scheduled_utc=row.scheduled_utc,
        hide_labels=bool(row.hide_labels),
        rule=(
            None
            if row.local_time is None
            else rule_from_columns(
                row.local_time,
                row.weekdays,
                row.every_days,
                row.anchor_date,
                row.until_date,
                bool(row.once),
            )
        ),
        stock=row.stock,
        per_dose=row.per_dose or 1,
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
