"""The dispatcher: claims due tips, reminders and snoozes, and hands them to the sender.

One repeating JobQueue job calls `Dispatcher.tick` every few seconds (never a job per item).
Each batch is one transaction that

1. reads due rows by the indexed `next_due_utc` (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
2. inserts one deliveries row per due item with insert-or-ignore: UNIQUE(kind, item_id,
   scheduled_utc) means a restart or a second worker never claims the same occurrence twice
   (and a schedule moved to later the same day is a new occurrence: it is sent).
   Items past their lateness budget (tips 2 h, reminders 6 h) are inserted as `expired`,
3. moves each schedule on to its next local occurrence (computed by its rule from the local
   dates and times in the user's zone, never +24 h; see `bot/domain/rules.py`): the one
   after the occurrence just claimed, or after the lateness budget when that is later (so
   after a downtime the occurrences still worth sending come, late, one per tick, and the
   older ones are skipped). Paused schedules and those of blocked users get no delivery and
   move to their next occurrence after now, so resuming sends no backlog. A course past its
   last day gets no next time; a one-off is removed once its day to be answered is over (or
   it expired unsent),
4. promotes snoozes whose time has come (`scheduled` -> `claimed`),

and only after the commit are the claimed rows queued for the sender. A claim takes no more
than the sender has room for; when that room runs out (a backlog after a downtime), the tick
goes on to record every item already past its budget as `expired`, in batches of the same
kind of transaction (`expire_overdue`): those never wait behind the rows still worth sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.delivery_repo import (
    ClaimedDelivery,
    DeliveryRepo,
    DueSchedule,
    NewDelivery,
    ScheduleMove,
)
from bot.domain.rules import Rule, is_spent, next_due, occurrence_date
from bot.domain.schedule import budget_for, is_expired
from bot.domain.timezones import zone_named
from bot.domain.vocabulary import DeliveryKind, DeliveryStatus

log = logging.getLogger(__name__)

RECOVERY_LEASE = timedelta(minutes=5)  # a claim untouched this long belongs to a dead worker
RECOVERY_EVERY = timedelta(minutes=1)
RENEW_EVERY = timedelta(minutes=1)  # live rows get a fresh stamp well within their lease
PRUNE_BATCH = 1000  # old deliveries deleted per idle tick: small, so a claim never waits long


class _Planner:
    """Next due times and local dates for one claim, cached: many rows share a rule and zone."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._next: dict[tuple[Rule, str, datetime], datetime | None] = {}
        self._dates: dict[tuple[datetime, Rule, str], date] = {}

    def next_due(self, rule: Rule, zone: ZoneInfo, after: datetime) -> datetime | None:
        key = (rule, zone.key, after)
        if key not in self._next:
            self._next[key] = next_due(rule, zone, after)
        return self._next[key]

    def local_date(self, due: datetime, rule: Rule, zone: ZoneInfo) -> date:
        key = (due, rule, zone.key)
        day = self._dates.get(key)
        if day is None:
            found = occurrence_date(rule, zone, due)
            day = self._dates[key] = found or due.astimezone(zone).date()
        return day


@dataclass
class ClaimResult:
    """What one claim transaction did."""

    claimed: list[ClaimedDelivery] = field(default_factory=list)
    selected: int = 0  # due rows read
    expired: int = 0
    skipped: int = 0  # paused, blocked or without a zone: moved on without a delivery
    conflicts: int = 0  # that occurrence was claimed already (a restart or another worker)
    full: bool = False  # some query hit its limit: more may be due


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, *, owner: str
) -> ClaimResult:
    """Claim up to `limit` due items (snoozes, then reminders, then tips) for `owner` in the
    caller's transaction. The caller commits, then queues `result.claimed`.
    """
    repo = DeliveryRepo(session)
    await repo.lock_for_claim()
    result = await promote_snoozes(repo, now, limit, owner)
    planner = _Planner(now)
    room = limit - result.selected
    for kind in (DeliveryKind.REMINDER, DeliveryKind.TIP):
        rows = await repo.due_schedules(kind, now, room)
        result.full = result.full or (room > 0 and len(rows) >= room)
        room -= len(rows)
        result.selected += len(rows)
        await _claim_schedules(repo, kind, rows, planner, result, owner)
    return result


async def _claim_schedules(
    repo: DeliveryRepo,
    kind: DeliveryKind,
    rows: list[DueSchedule],
    planner: _Planner,
    result: ClaimResult,
    owner: str,
) -> None:
    """Insert the deliveries for due schedule rows of one kind and move the schedules on.

    This loop runs for every due item of every subscriber: it stays flat and allocates little.
    """
    now = planner.now
    budget = budget_for(kind)  # expired: now - due > budget, as domain.schedule.is_expired
    is_reminder = kind == DeliveryKind.REMINDER
    moves: list[ScheduleMove] = []
    inserts: list[NewDelivery] = []
    removals: list[int] = []  # one-offs that are over
    waiting: dict[int, tuple[DueSchedule, str]] = {}  # item id -> (row, label)
    for row in rows:
        zone = zone_named(row.time_zone)
        rule = row.rule
        if zone is None or rule is None:  # cannot schedule: wait until the user sets a zone
            moves.append(ScheduleMove(row.id, None))
            result.skipped += 1
            continue
        if rule.once and is_spent(rule, zone, row.due_utc):  # its day to be answered is over
            removals.append(row.id)
            continue
        if not row.active or row.blocked:  # moved on without a delivery
            moves.append(ScheduleMove(row.id, planner.next_due(rule, zone, now)))
            result.skipped += 1
            continue
        # The next occurrence after this one, unless it is too late to send already: after a
        # downtime the 12:00 dose still comes (late) when the 08:00 one is claimed at 13:00.
        after = max(row.due_utc, now - budget)
        moves.append(ScheduleMove(row.id, planner.next_due(rule, zone, after)))
        label = row.label if is_reminder else ""
        expired = now - row.due_utc > budget
        if expired and rule.once:
            removals.append(row.id)  # never sent, so never answered: it is over
        inserts.append(
            NewDelivery(
                kind=kind,
                item_id=row.id,
                user_id=row.user_id,
                chat_id=row.chat_id,
                local_date=planner.local_date(row.due_utc, rule, zone),
                scheduled_utc=row.due_utc,
                due_utc=row.due_utc,
                status=DeliveryStatus.EXPIRED if expired else DeliveryStatus.CLAIMED,
                claimed_by=owner,
                reminder_id=row.id if is_reminder else None,
                label=label,
            )
        )
        waiting[row.id] = (row, label)
    inserted = await repo.insert_claims(inserts)
    await repo.advance(kind, moves)
    await repo.remove_reminders(removals)
    result.conflicts += len(inserts) - len(inserted)
    for claim in inserted:
        if claim.status == DeliveryStatus.EXPIRED:
            result.expired += 1
            continue
        row, label = waiting[claim.item_id]
        result.claimed.append(
            ClaimedDelivery(
                id=claim.id,
                kind=kind,
                item_id=row.id,
                user_id=row.user_id,
                chat_id=row.chat_id,
                due_utc=row.due_utc,
                label=label,
                tip_id=None,
                time_zone=row.time_zone,
            )
        )


def _too_late_at(kind: DeliveryKind, now: datetime) -> datetime:
    """Return the latest due time that is expired at `now` (later than the budget, strictly)."""
    return now - budget_for(kind) - timedelta(microseconds=1)


async def expire_overdue(
    session: AsyncSession, now: datetime, limit: int, *, owner: str
) -> ClaimResult:
    """Decide up to `limit` due items of each kind that are already past their lateness budget,
    oldest first, in the caller's transaction: snoozes recorded `expired` (or `blocked`),
    tips and reminders exactly as `claim_due` does (an `expired` row, the schedule moved on).

    None of them is sent, so none needs room in the sender: after a downtime they are all
    decided in bulk at once, however many rows still worth sending wait for their turn.
    """
    repo = DeliveryRepo(session)
    await repo.lock_for_claim()
    result = ClaimResult()
    snoozes = await repo.due_snoozes(_too_late_at(DeliveryKind.SNOOZE, now), limit)
    changes: list[tuple[int, DeliveryStatus]] = []
    for row in snoozes:
        if row.blocked:
            changes.append((row.delivery.id, DeliveryStatus.BLOCKED))
        else:
            changes.append((row.delivery.id, DeliveryStatus.EXPIRED))
            result.expired += 1
    await repo.set_statuses(changes, owner)
    result.selected = len(snoozes)
    result.full = len(snoozes) >= limit
    planner = _Planner(now)
    for kind in (DeliveryKind.REMINDER, DeliveryKind.TIP):
        rows = await repo.due_schedules(kind, _too_late_at(kind, now), limit)
        result.full = result.full or len(rows) >= limit
        result.selected += len(rows)
        await _claim_schedules(repo, kind, rows, planner, result, owner)
    return result


async def promote_snoozes(
    repo: DeliveryRepo, now: datetime, limit: int, owner: str
) -> ClaimResult:
    """Claim snoozes whose time has come; expired or blocked ones are recorded, not sent."""
    result = ClaimResult()
    rows = await repo.due_snoozes(now, limit)
    result.selected = len(rows)
    result.full = limit > 0 and len(rows) >= limit
    changes: list[tuple[int, DeliveryStatus]] = []
    for row in rows:
        snooze = row.delivery
        if row.blocked:
            changes.append((snooze.id, DeliveryStatus.BLOCKED))
        elif is_expired(DeliveryKind.SNOOZE, snooze.due_utc, now):
            changes.append((snooze.id, DeliveryStatus.EXPIRED))
            result.expired += 1
        else:
            changes.append((snooze.id, DeliveryStatus.CLAIMED))
            result.claimed.append(snooze)
    await repo.set_statuses(changes, owner)
    return result


@dataclass
class Recovery:
    """What a recovery pass found: rows to send again, and rows closed without sending."""

    claimed: list[ClaimedDelivery] = field(default_factory=list)
    expired: int = 0
    unknown: int = 0


async def recover(
    session: AsyncSession,
    now: datetime,
    *,
    lease: timedelta | None,
    limit: int,
    owner: str,
    skip: Callable[[int], bool] = lambda _id: False,
) -> Recovery:
    """Take over rows left `claimed` or `sending` (by a crash, or by a dead worker).

    `claimed` rows were never attempted: they are sent. `sending` rows may have reached the
    user: reminders are sent again (at least once), tips are closed as `unknown` (at most
    once). Rows past their lateness budget are closed as `expired`. Each row taken becomes
    `owner`'s, with a fresh stamp, so no other recovering worker takes it too.

    Args:
        session: The caller's session; the caller commits.
        now: The current time (for lateness budgets).
        lease: Only rows whose stamp is older than this in database time (None: every open
            row; SQLite at start-up, where this process is the only one).
        limit: Rows per query.
        owner: The courier taking them over.
        skip: Rows this process is working on itself.
    """
    repo = DeliveryRepo(session)
    await repo.lock_for_claim()
    found = Recovery()
    after_id = 0
    while True:
        rows = await repo.open_rows(after_id, limit, lease)
        changes: list[tuple[int, DeliveryStatus]] = []
        for row in rows:
            item = row.delivery
            after_id = item.id
            if skip(item.id):
                continue
            if is_expired(item.kind, item.due_utc, now):
                changes.append((item.id, DeliveryStatus.EXPIRED))
                found.expired += 1
            elif row.status == DeliveryStatus.SENDING and item.kind == DeliveryKind.TIP:
                changes.append((item.id, DeliveryStatus.UNKNOWN))
                found.unknown += 1
            else:
                changes.append((item.id, DeliveryStatus.CLAIMED))
                found.claimed.append(item)
        await repo.set_statuses(changes, owner)
        if len(rows) < limit:
            return found


class Enqueue(Protocol):
    """Where claimed rows go: the sender."""

    @property
    def pending(self) -> int:
        """Rows queued or being sent."""
        ...

    def in_flight(self, delivery_id: int) -> bool:
        """Return True if this process holds the row."""
        ...

    def held(self) -> list[int]:
        """Return the ids of every row this process holds (queued, waiting or sending)."""
        ...

    def enqueue(self, items: list[ClaimedDelivery]) -> None:
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
    expiry_batches: int = 0  # transactions that only recorded items too late to send
    pruned: int = 0

    def add(self, result: ClaimResult) -> None:
        """Count what one claim (or expiry) transaction did."""
        self.claimed += len(result.claimed)
        self.expired += result.expired
        self.skipped += result.skipped
        self.conflicts += result.conflicts


class Dispatcher:
    """Claims due rows in batches and queues them; one instance per process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        sender: Enqueue,
        *,
        batch: int,
        owner: str,
        high_water: int | None = None,
        lease: timedelta = RECOVERY_LEASE,
        retention: timedelta = timedelta(days=60),
    ) -> None:
        """Claim `batch` rows per transaction, as `owner`, while the sender holds fewer than
        `high_water`."""
        self.sessions = sessions
        self.owner = owner
        self.clock = clock
        self.sender = sender
        self.batch = batch
        self.high_water = high_water or 2 * batch
        self.lease = lease
        self.retention = retention
        self.last_tick: datetime | None = None
        self._last_recovery: datetime | None = None
        self._last_renewal: datetime | None = None
        self._lock = asyncio.Lock()

    async def recover(self, *, everything: bool = False) -> int:
        """Take over abandoned rows; `everything` takes all open rows (start-up on SQLite)."""
        now = self.clock()
        self._last_recovery = now
        async with self.sessions() as session, session.begin():
            found = await recover(
                session,
                now,
                lease=None if everything else self.lease,
                limit=self.batch,
                owner=self.owner,
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

    async def renew(self) -> None:
        """Give the rows this process still holds a fresh stamp (database time).

        A row waiting long for its turn (a 429 pause, a big queue) stays this worker's; only
        rows nobody renews, those of a dead worker, run out of lease.
        """
        self._last_renewal = self.clock()
        held = self.sender.held()
        if held:
            async with self.sessions() as session, session.begin():
                await DeliveryRepo(session).renew(self.owner, held)

    async def prune(self, now: datetime) -> int:
        """Delete one small batch of finished deliveries older than the retention window."""
        async with self.sessions() as session, session.begin():
            return await DeliveryRepo(session).prune(now - self.retention, PRUNE_BATCH)

    async def expire(self, now: datetime, report: TickReport) -> None:
        """Record every due item past its lateness budget as expired, batch by batch."""
        while True:
            async with self.sessions() as session, session.begin():
                result = await expire_overdue(session, now, self.batch, owner=self.owner)
            self.sender.enqueue(result.claimed)  # (empty: every row was too late to send)
            report.expiry_batches += 1
            report.add(result)
            if not result.full:
                return

    async def tick(self) -> TickReport:
        """Claim what is due now, batch by batch, and queue it (the repeating job's body)."""
        async with self._lock:  # a slow tick is never overlapped by the next one
            now = self.clock()
            self.last_tick = now
            report = TickReport(at=now)
            if self._last_renewal is None or now - self._last_renewal >= RENEW_EVERY:
                await self.renew()
            if self._last_recovery is None or now - self._last_recovery >= RECOVERY_EVERY:
                report.recovered = await self.recover()
            backlog = False
            while True:
                room = self.high_water - self.sender.pending
                if room <= 0:
                    backlog = True
                    break
                async with self.sessions() as session, session.begin():
                    result = await claim_due(session, now, min(self.batch, room), owner=self.owner)
                # Committed: only now may anything be sent.
                self.sender.enqueue(result.claimed)
                report.batches += 1
                report.add(result)
                if not result.full:
                    break
            if backlog:  # rows wait for room: those too late to send need none, decide them
                await self.expire(now, report)
            if not report.claimed and self.sender.pending == 0:  # idle: tidy up a little
                report.pruned = await self.prune(now)
            if report.claimed or report.expired:
                log.info(
                    "Dispatcher: %d claimed, %d expired, %d moved on without sending",
                    report.claimed,
                    report.expired,
                    report.skipped,
                )
            return report
