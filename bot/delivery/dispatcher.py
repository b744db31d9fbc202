"""The dispatcher: claims due tips, reminders and snoozes, and hands them to the sender.

One repeating JobQueue job calls `Dispatcher.tick` every few seconds (never a job per item).
Each batch is one transaction that

1. reads due rows by the indexed `next_due_utc` (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
2. inserts one deliveries row per due item with insert-or-ignore: UNIQUE(kind, item_id,
   local_date) means a restart or a second worker never claims the same day's item twice.
   Items past their lateness budget (tips 2 h, reminders 6 h) are inserted as `expired`,
3. moves each schedule on to its next local occurrence (computed from the local date and
   time in the user's zone, never +24 h), including paused schedules and those of blocked
   users, which get no delivery: they stay one day ahead, so resuming sends no backlog,
4. promotes snoozes whose time has come (`scheduled` -> `claimed`),

and only after the commit are the claimed rows queued for the sender.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.delivery_repo import (
    BLOCKED,
    CLAIMED,
    EXPIRED,
    REMINDER,
    SCHEDULED,
    SENDING,
    SNOOZE,
    TIP,
    UNKNOWN,
    DeliveryRepo,
    Outbound,
)
from bot.db.models import Delivery
from bot.domain.schedule import budget_for, is_expired, local_date_of, next_due_utc

log = logging.getLogger(__name__)

RECOVERY_LEASE = timedelta(minutes=5)  # a claim untouched this long belongs to a dead worker
RECOVERY_EVERY = timedelta(minutes=1)


@functools.lru_cache(maxsize=4096)
def zone_of(name: str | None) -> ZoneInfo | None:
    """Return the zone for an IANA name, or None when it is missing or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def local_time_of(value: str) -> time | None:
    """Parse a stored "HH:MM"; None when it is malformed."""
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        return None


class _Planner:
    """Next occurrences and local dates for one claim, cached: many rows share a zone and time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._next: dict[tuple[time, str], datetime] = {}
        self._dates: dict[tuple[datetime, time, str], date] = {}

    def next_due(self, at: time, zone: ZoneInfo) -> datetime:
        key = (at, zone.key)
        due = self._next.get(key)
        if due is None:
            due = self._next[key] = next_due_utc(at, zone, self.now)
        return due

    def local_date(self, due: datetime, at: time, zone: ZoneInfo) -> date:
        key = (due, at, zone.key)
        day = self._dates.get(key)
        if day is None:
            day = self._dates[key] = local_date_of(due, zone, at)
        return day


@dataclass
class ClaimResult:
    """What one claim transaction did."""

    claimed: list[Outbound] = field(default_factory=list)
    selected: int = 0  # due rows read
    expired: int = 0
    skipped: int = 0  # paused, blocked or without a zone: moved on without a delivery
    conflicts: int = 0  # already claimed for that local date (a restart or another worker)
    full: bool = False  # some query hit its limit: more may be due


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> ClaimResult:
    """Claim up to `limit` due items (snoozes, then reminders, then tips) in the caller's
    transaction. The caller commits, then queues `result.claimed`.
    """
    repo = DeliveryRepo(session)
    await repo.lock_for_claim()
    result = await promote_snoozes(repo, now, limit)
    planner = _Planner(now)
    room = limit - result.selected
    for kind in (REMINDER, TIP):
        rows = await repo.due_schedules(kind, now, room)
        result.full = result.full or (room > 0 and len(rows) >= room)
        room -= len(rows)
        result.selected += len(rows)
        await _claim_schedules(repo, kind, rows, planner, result)
    return result


async def _claim_schedules(
    repo: DeliveryRepo, kind: str, rows: Any, planner: _Planner, result: ClaimResult
) -> None:
    """Insert the deliveries for due schedule rows of one kind and move the schedules on.

    This loop runs for every due item of every subscriber: it stays flat and allocates little.
    """
    now = planner.now
    budget = budget_for(kind)  # expired: now - due > budget, as domain.schedule.is_expired
    is_reminder = kind == REMINDER
    moves: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    waiting: dict[int, tuple[int, int, datetime, str, str]] = {}
    for item_id, user_id, local_time, due, active, label, chat_id, zone_name, blocked in rows:
        zone = zone_of(zone_name)
        at = local_time_of(local_time)
        if zone is None or at is None:  # cannot schedule: wait until the user sets a zone
            moves.append({"b_id": item_id, "b_next": None})
            result.skipped += 1
            continue
        moves.append({"b_id": item_id, "b_next": planner.next_due(at, zone)})
        if not active or blocked is not None:  # moved on without a delivery
            result.skipped += 1
            continue
        payload = (label or "") if is_reminder else ""
        params = {
            "kind": kind,
            "item_id": item_id,
            "user_id": user_id,
            "chat_id": chat_id,
            "local_date": planner.local_date(due, at, zone),
            "due_utc": due,
            "status": EXPIRED if now - due > budget else CLAIMED,
            "attempts": 0,
            "claimed_at": now,
            "payload": payload,
        }
        if is_reminder:
            params["reminder_id"] = item_id
        inserts.append(params)
        waiting[item_id] = (user_id, chat_id, due, payload, zone_name)
    inserted = await repo.insert_claims(inserts)
    await repo.advance(kind, moves)
    result.conflicts += len(inserts) - len(inserted)
    for delivery_id, item_id, status in inserted:
        if status == EXPIRED:
            result.expired += 1
            continue
        user_id, chat_id, due, payload, zone_name = waiting[item_id]
        result.claimed.append(
            Outbound(delivery_id, kind, item_id, user_id, chat_id, due, payload, zone_name, now)
        )


async def promote_snoozes(repo: DeliveryRepo, now: datetime, limit: int) -> ClaimResult:
    """Claim snoozes whose time has come; expired or blocked ones are recorded, not sent."""
    result = ClaimResult()
    rows = await repo.due_snoozes(now, limit)
    result.selected = len(rows)
    result.full = limit > 0 and len(rows) >= limit
    changes: list[tuple[int, str]] = []
    for row in rows:
        if row.blocked_at is not None:
            changes.append((row.id, BLOCKED))
        elif is_expired(SNOOZE, row.due_utc, now):
            changes.append((row.id, EXPIRED))
            result.expired += 1
        else:
            changes.append((row.id, CLAIMED))
            result.claimed.append(Outbound.of_row(row, SNOOZE, now))
    await repo.set_statuses(changes, now)
    return result


@dataclass
class Recovery:
    """What a recovery pass found: rows to send again, and rows closed without sending."""

    claimed: list[Outbound] = field(default_factory=list)
    expired: int = 0
    unknown: int = 0


async def recover(
    session: AsyncSession,
    now: datetime,
    *,
    lease_before: datetime | None,
    limit: int,
    skip: Callable[[int], bool] = lambda _id: False,
) -> Recovery:
    """Take over rows left `claimed` or `sending` (by a crash, or by a dead worker).

    `claimed` rows were never attempted: they are sent. `sending` rows may have reached the
    user: reminders are sent again (at least once), tips are closed as `unknown` (at most
    once). Rows past their lateness budget are closed as `expired`. Each row taken gets a new
    lease (claimed_at = now), so no other recovering worker takes it too.

    Args:
        session: The caller's session; the caller commits.
        now: The current time.
        lease_before: Only rows claimed before this (None: every open row; SQLite at start-up,
            where this process is the only one).
        limit: Rows per query.
        skip: Rows this process is working on itself.
    """
    repo = DeliveryRepo(session)
    await repo.lock_for_claim()
    found = Recovery()
    after_id = 0
    while True:
        rows = await repo.open_rows(after_id, limit, lease_before)
        changes: list[tuple[int, str]] = []
        for row in rows:
            after_id = row.id
            if skip(row.id):
                continue
            if is_expired(row.kind, row.due_utc, now):
                changes.append((row.id, EXPIRED))
                found.expired += 1
            elif row.status == SENDING and row.kind == TIP:
                changes.append((row.id, UNKNOWN))
                found.unknown += 1
            else:
                changes.append((row.id, CLAIMED))
                found.claimed.append(Outbound.of_row(row, row.kind, now))
        await repo.set_statuses(changes, now)
        if len(rows) < limit:
            return found


async def schedule_snooze(
    session: AsyncSession, delivery_id: int, minutes: int, now: datetime
) -> Delivery | None:
    """Schedule one extra occurrence of a reminder, `minutes` from now.

    The daily series is unchanged. The snooze is a delivery of kind "snooze" whose item is the
    snoozed delivery, so a repeated press (or a second button on the same message) finds the
    UNIQUE(kind, item_id, local_date) taken and creates nothing. Does not commit.

    Returns:
        The new snooze delivery; None when that message was snoozed already, or when
        `delivery_id` is not a reminder (or snooze) delivery.
    """
    original = await session.get(Delivery, delivery_id)
    if original is None or original.kind not in (REMINDER, SNOOZE) or minutes <= 0:
        return None
    new_id = await DeliveryRepo(session).insert_snooze(
        {
            "kind": SNOOZE,
            "item_id": original.id,
            "user_id": original.user_id,
            "chat_id": original.chat_id,
            "local_date": original.local_date,
            "due_utc": now + timedelta(minutes=minutes),
            "status": SCHEDULED,
            "attempts": 0,
            "reminder_id": original.reminder_id,
            "payload": original.payload,
        }
    )
    if new_id is None:
        return None
    return await session.get(Delivery, new_id)


class Enqueue(Protocol):
    """Where claimed rows go: the sender."""

    @property
    def pending(self) -> int:
        """Rows queued or being sent."""
        ...

    def in_flight(self, delivery_id: int) -> bool:
        """Return True if this process holds the row."""
        ...

    def enqueue(self, items: list[Outbound]) -> None:
        """Queue rows for sending."""
        ...


@dataclass
class TickReport:
    """What one dispatcher tick did (for logs and tests)."""

    at: datetime
    claimed: int = 0
    expired: int = 0
    skipped: int = 0
    conflicts: int = 0
    recovered: int = 0
    batches: int = 0


class Dispatcher:
    """Claims due rows in batches and queues them; one instance per process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        sender: Enqueue,
        *,
        batch: int,
        high_water: int | None = None,
        lease: timedelta = RECOVERY_LEASE,
    ) -> None:
        """Claim `batch` rows per transaction while the sender has fewer than `high_water`."""
        self.sessions = sessions
        self.clock = clock
        self.sender = sender
        self.batch = batch
        self.high_water = high_water or 2 * batch
        self.lease = lease
        self.last_tick: datetime | None = None
        self._last_recovery: datetime | None = None
        self._lock = asyncio.Lock()

    async def recover(self, *, everything: bool = False) -> int:
        """Take over abandoned rows; `everything` takes all open rows (start-up on SQLite)."""
        now = self.clock()
        self._last_recovery = now
        async with self.sessions() as session, session.begin():
            found = await recover(
                session,
                now,
                lease_before=None if everything else now - self.lease,
                limit=self.batch,
                skip=self.sender.in_flight,
            )
        self.sender.enqueue(found.claimed)
        if found.claimed or found.expired or found.unknown:
            log.info(
                "Recovered deliveries: %d to send, %d expired, %d tips closed as unknown",
                len(found.claimed),
                found.expired,
                found.unknown,
            )
        return len(found.claimed)

    async def tick(self) -> TickReport:
        """Claim what is due now, batch by batch, and queue it (the repeating job's body)."""
        async with self._lock:  # a slow tick is never overlapped by the next one
            now = self.clock()
            self.last_tick = now
            report = TickReport(at=now)
            if self._last_recovery is None or now - self._last_recovery >= RECOVERY_EVERY:
                report.recovered = await self.recover()
            while True:
                room = self.high_water - self.sender.pending
                if room <= 0:
                    break
                async with self.sessions() as session, session.begin():
                    result = await claim_due(session, now, min(self.batch, room))
                # Committed: only now may anything be sent.
                self.sender.enqueue(result.claimed)
                report.batches += 1
                report.claimed += len(result.claimed)
                report.expired += result.expired
                report.skipped += result.skipped
                report.conflicts += result.conflicts
                if not result.full:
                    break
            if report.claimed or report.expired:
                log.info(
                    "Dispatcher: %d claimed, %d expired, %d moved on without sending",
                    report.claimed,
                    report.expired,
                    report.skipped,
                )
            return report


def utc_midnight(moment: datetime) -> datetime:
    """Return the start of the UTC day containing `moment`."""
    day = moment.astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
