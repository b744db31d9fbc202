"""Every query of the delivery engine: claiming due rows, recording outcomes, snoozes.

Repositories never commit: the dispatcher and the sender own their transactions. Bulk paths
(the claim) use Core statements with executemany and read plain rows, not ORM objects, because
they run for every due item of a million subscribers. On PostgreSQL the reads that decide what
to claim lock their rows with `FOR UPDATE SKIP LOCKED`, so several workers never take the same
row; SQLite (one bot process per file) has no row locks and needs none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

from bot.db.models import Delivery, Reminder, TipSubscription, User

# Kinds of delivery.
TIP = "tip"
REMINDER = "reminder"
SNOOZE = "snooze"

# Statuses of a deliveries row.
SCHEDULED = "scheduled"  # a snooze waiting for its time
CLAIMED = "claimed"  # claimed by a dispatcher, not attempted yet
SENDING = "sending"  # the HTTP call is (or was) under way
SENT = "sent"
BLOCKED = "blocked"  # 403: the user blocked the bot, or the account is gone
FAILED = "failed"
EXPIRED = "expired"  # later than its lateness budget: not sent
UNKNOWN = "unknown"  # a tip whose send may or may not have arrived: never sent again
STATUSES = (SCHEDULED, CLAIMED, SENDING, SENT, BLOCKED, FAILED, EXPIRED, UNKNOWN)
OPEN = (CLAIMED, SENDING)  # rows a sender still owes an outcome

_D = cast(Table, Delivery.__table__)
_T = cast(Table, TipSubscription.__table__)
_R = cast(Table, Reminder.__table__)
_U = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class Outbound:
    """A claimed delivery, handed to the sender.

    `lease` is the row's claimed_at when it was handed over; the sender only acts on the row
    while it still carries that value, so a row recovered by another worker is never sent
    twice by this one.
    """

    id: int
    kind: str
    item_id: int
    user_id: int
    chat_id: int
    due_utc: datetime
    payload: str
    time_zone: str | None
    lease: datetime

    @classmethod
    def of_row(cls, row: Any, kind: str, lease: datetime) -> Outbound:
        """Build from a selected deliveries row (with the user's time_zone) and a new lease."""
        return cls(
            id=row.id,
            kind=kind,
            item_id=row.item_id,
            user_id=row.user_id,
            chat_id=row.chat_id,
            due_utc=row.due_utc,
            payload=row.payload,
            time_zone=row.time_zone,
            lease=lease,
        )


@dataclass(frozen=True, slots=True)
class SendState:
    """What the sender needs to know about a row just before sending it."""

    status: str
    claimed_at: datetime | None
    due_utc: datetime
    payload: str
    attempts: int
    blocked: bool
    tip_active: bool | None  # None: the tip subscription is gone (or not a tip)
    reminder_exists: bool
    reminder_active: bool


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

    async def due_schedules(self, kind: str, now: datetime, limit: int) -> Sequence[Any]:
        """Return up to `limit` tip subscriptions or reminders due at `now`, oldest first.

        Rows come with their user's chat, zone and blocked state; inactive rows and blocked
        users are included so the claim can move their schedule on without a delivery.
        Columns: id, user_id, local_time, next_due_utc, active, label, chat_id, time_zone,
        blocked_at.
        """
        if limit <= 0:
            return []
        table = _T if kind == TIP else _R
        label = _R.c.label if kind == REMINDER else literal("").label("label")
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
            )
            .join(_U, _U.c.id == table.c.user_id)
            .where(table.c.next_due_utc <= now)
            .order_by(table.c.next_due_utc)
            .limit(limit)
        )
        stmt = self._locked(stmt, table)
        return (await (await self._conn()).execute(stmt)).all()

    async def insert_claims(self, rows: list[dict[str, Any]]) -> Sequence[Any]:
        """Insert deliveries rows, skipping any that exist (same kind, item and local date).

        Each row is a dict of deliveries columns (kind, item_id, user_id, chat_id, local_date,
        due_utc, status, attempts, claimed_at, payload[, reminder_id]), all rows with the same
        keys. Returns (id, item_id, status) of the rows actually inserted: a conflict means
        another worker, or this one before a restart, already claimed that day's item.
        """
        if not rows:
            return []
        stmt = self._insert_ignoring_conflicts().returning(_D.c.id, _D.c.item_id, _D.c.status)
        return (await (await self._conn()).execute(stmt, rows)).all()

    async def advance(self, kind: str, moves: list[dict[str, Any]]) -> None:
        """Set next_due_utc for many schedules at once: [{"b_id": id, "b_next": due}, ...]."""
        if not moves:
            return
        table = _T if kind == TIP else _R
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(next_due_utc=bindparam("b_next", type_=table.c.next_due_utc.type))
        )
        await (await self._conn()).execute(stmt, moves)

    async def due_snoozes(self, now: datetime, limit: int) -> Sequence[Any]:
        """Return up to `limit` snoozes whose time has come (locked on PostgreSQL).

        Columns: id, item_id, user_id, chat_id, due_utc, payload, time_zone, blocked_at.
        """
        if limit <= 0:
            return []
        stmt = (
            select(
                _D.c.id,
                _D.c.item_id,
                _D.c.user_id,
                _D.c.chat_id,
                _D.c.due_utc,
                _D.c.payload,
                _U.c.time_zone,
                _U.c.blocked_at,
            )
            .outerjoin(_U, _U.c.id == _D.c.user_id)
            .where(_D.c.status == SCHEDULED, _D.c.due_utc <= now, _D.c.kind == SNOOZE)
            .order_by(_D.c.due_utc)
            .limit(limit)
        )
        stmt = self._locked(stmt, _D)
        return (await (await self._conn()).execute(stmt)).all()

    async def set_statuses(
        self, changes: Iterable[tuple[int, str]], now: datetime, *, error: str | None = None
    ) -> None:
        """Set the status (and claimed_at = now) of many rows: [(id, status), ...]."""
        params = [{"b_id": row_id, "b_status": status} for row_id, status in changes]
        if not params:
            return
        stmt = (
            update(_D)
            .where(_D.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), claimed_at=now, error=error)
        )
        await (await self._conn()).execute(stmt, params)

    # -- recovery -----------------------------------------------------------------------------

    async def open_rows(
        self, after_id: int, limit: int, lease_before: datetime | None
    ) -> Sequence[Any]:
        """Return claimed/sending rows with id > after_id, by id (locked on PostgreSQL).

        With `lease_before`, only rows whose claim is older than that: a live worker renews
        claimed_at when it starts sending, so its rows are never taken from it.
        Columns: id, kind, item_id, user_id, chat_id, due_utc, payload, status, time_zone.
        """
        stmt = (
            select(
                _D.c.id,
                _D.c.kind,
                _D.c.item_id,
                _D.c.user_id,
                _D.c.chat_id,
                _D.c.due_utc,
                _D.c.payload,
                _D.c.status,
                _U.c.time_zone,
            )
            .outerjoin(_U, _U.c.id == _D.c.user_id)
            .where(_D.c.status.in_(OPEN), _D.c.id > after_id)
            .order_by(_D.c.id)
            .limit(limit)
        )
        if lease_before is not None:
            stmt = stmt.where((_D.c.claimed_at < lease_before) | (_D.c.claimed_at.is_(None)))
        stmt = self._locked(stmt, _D)
        return (await (await self._conn()).execute(stmt)).all()

    # -- the sender ---------------------------------------------------------------------------

    async def send_state(self, delivery_id: int) -> SendState | None:
        """Return the row's state, its user's and its schedule's, just before sending."""
        stmt = (
            select(
                _D.c.status,
                _D.c.claimed_at,
                _D.c.due_utc,
                _D.c.payload,
                _D.c.attempts,
                _U.c.blocked_at,
                _T.c.active.label("tip_active"),
                _R.c.id.label("reminder_id"),
                _R.c.active.label("reminder_active"),
            )
            .select_from(_D)
            .outerjoin(_U, _U.c.id == _D.c.user_id)
            .outerjoin(_T, and_(_D.c.kind == TIP, _T.c.id == _D.c.item_id))
            .outerjoin(_R, _R.c.id == _D.c.reminder_id)
            .where(_D.c.id == delivery_id)
        )
        row = (await (await self._conn()).execute(stmt)).first()
        if row is None:
            return None
        return SendState(
            status=row.status,
            claimed_at=row.claimed_at,
            due_utc=row.due_utc,
            payload=row.payload,
            attempts=row.attempts,
            blocked=row.blocked_at is not None,
            tip_active=row.tip_active,
            reminder_exists=row.reminder_id is not None,
            reminder_active=bool(row.reminder_active),
        )

    async def rotation_of(self, subscription_id: int) -> tuple[str, int] | None:
        """Return (rotation, cursor) of a tip subscription."""
        row = (
            await (await self._conn()).execute(
                select(_T.c.rotation, _T.c.cursor).where(_T.c.id == subscription_id)
            )
        ).first()
        return None if row is None else (row.rotation, row.cursor)

    async def store_rotation(
        self, subscription_id: int, old: tuple[str, int], new: tuple[str, int]
    ) -> bool:
        """Save a new rotation unless it changed meanwhile (a /tip at the same moment)."""
        result = await (await self._conn()).execute(
            update(_T)
            .where(_T.c.id == subscription_id, _T.c.rotation == old[0], _T.c.cursor == old[1])
            .values(rotation=new[0], cursor=new[1])
        )
        return _rowcount(result) == 1

    async def start_sending(
        self, delivery_id: int, lease: datetime, now: datetime, payload: str
    ) -> bool:
        """Move a claimed row to sending if it still carries our lease; renew the lease.

        Returns False when another worker took the row (or it is no longer claimed).
        """
        result = await (await self._conn()).execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status == CLAIMED, _D.c.claimed_at == lease)
            .values(status=SENDING, attempts=_D.c.attempts + 1, claimed_at=now, payload=payload)
        )
        return _rowcount(result) == 1

    async def finish(
        self,
        delivery_id: int,
        status: str,
        *,
        lease: datetime,
        error: str | None = None,
        message_id: int | None = None,
        sent_at: datetime | None = None,
        only_from: str = SENDING,
    ) -> bool:
        """Record a final (or back-to-claimed) status on a row we hold."""
        values: dict[str, Any] = {"status": status, "error": error}
        if message_id is not None:
            values["message_id"] = message_id
        if sent_at is not None:
            values["sent_at"] = sent_at
        result = await (await self._conn()).execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status == only_from, _D.c.claimed_at == lease)
            .values(**values)
        )
        return _rowcount(result) == 1

    async def release(
        self,
        delivery_id: int,
        *,
        lease: datetime,
        now: datetime,
        error: str | None,
        count_attempt: bool,
    ) -> bool:
        """Put a sending row back to claimed (new lease = now) for another try."""
        values: dict[str, Any] = {"status": CLAIMED, "claimed_at": now, "error": error}
        if not count_attempt:
            values["attempts"] = _D.c.attempts - 1
        result = await (await self._conn()).execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status == SENDING, _D.c.claimed_at == lease)
            .values(**values)
        )
        return _rowcount(result) == 1

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

    async def insert_snooze(self, values: dict[str, Any]) -> int | None:
        """Insert a snooze delivery; return its id, or None if that message was snoozed before."""
        stmt = self._insert_ignoring_conflicts().values(**values).returning(_D.c.id)
        row = (await (await self._conn()).execute(stmt)).first()
        return None if row is None else int(row.id)

    # -- for /admin ---------------------------------------------------------------------------

    async def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Return {status: count} of deliveries due in [start, end)."""
        stmt = (
            select(_D.c.status, func.count())
            .where(_D.c.status.in_(STATUSES), _D.c.due_utc >= start, _D.c.due_utc < end)
            .group_by(_D.c.status)
        )
        rows = (await (await self._conn()).execute(stmt)).all()
        return {status: int(count) for status, count in rows}


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
