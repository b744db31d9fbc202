"""The sender: sends claimed deliveries, most urgent first, and records each outcome.

Claimed rows wait in a priority queue (reminders and snoozes before tips, then by due time).
Workers take them one at a time; each send goes through the token's rate limiter
(`ratelimit.py`), where user replies are served before any of them. For every row:

    claimed --(still ours, user not blocked, not too late)--> wait for the rate limiter's slot
            --slot granted--> sending (committed) --HTTP--> outcome

`sending` is committed only once the slot is granted and just before the HTTP call, so a row
waiting for its turn (a long 429 pause, a stop) is still `claimed`: never sent, safe to send
later. Each step's database work (the check before sending, the `sending` mark, the outcome) is
done in groups (`batches.py`): every message reaching a step at the same moment shares one
transaction, which is what lets the paid-broadcast rate (1000 a second) through one database.
Enough workers run for the rate at a slow Bot API (`workers_for`). After a crash, `sending`
says exactly which rows may have reached the user (see `dispatcher.recover`). The outcome of
every error is decided in `outcomes.py`; one failing chat never stops the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Message
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.content import Content
from bot.db.delivery_repo import ClaimedDelivery, DeliveryRepo, Outcome, SendState
from bot.delivery.batches import GroupCommit
from bot.delivery.messages import Draft, notes_for, reminder_message, tip_message
from bot.delivery.outcomes import RETRY_BASE, Action, backoff, decide, describe
from bot.delivery.ratelimit import PRIORITY_REMINDER, PRIORITY_TIP
from bot.domain.schedule import is_expired, is_late
from bot.domain.timezones import zone_named
from bot.domain.vocabulary import DeliveryKind, DeliveryStatus
from bot.render import NO_PREVIEW, keyboard, split_message
from bot.services.schedules import advance_rotations

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds a stopping sender waits for the sends under way
# The longest Bot API round trip at which the send rate still holds. Sends under way follow
# rate x round trip (Little's law): 28/s at 500 ms needs 14 at once, 1000/s at 200 ms needs 200.
# Workers beyond that wait for the rate limiter's slot, which costs nothing.
LATENCY_BUDGET = 1.0  # seconds


def workers_for(rate: float, base: int) -> int:
    """Return how many sends may be under way at once to hold `rate` up to LATENCY_BUDGET."""
    return base + math.ceil(rate * LATENCY_BUDGET)


@dataclass
class SenderStats:
    """Counts since start (for /admin and logs)."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0
    expired: int = 0
    unknown: int = 0
    retried: int = 0
    requeued: int = 0  # after a 429


@dataclass(frozen=True, slots=True)
class _Checked:
    """A claimed row found still ours and worth sending, with the tip it will send."""

    state: SendState
    tip_id: str | None


@dataclass(frozen=True)
class _Retry:
    item: ClaimedDelivery
    delay: float


class LeaseLost(Exception):
    """The row stopped being ours while it waited for its slot: it was not sent."""


def priority_of(kind: str) -> int:
    """Return the rate-limiter priority of a delivery kind (replies are 0)."""
    return PRIORITY_TIP if kind == DeliveryKind.TIP else PRIORITY_REMINDER


class Sender:
    """A prioritised queue of claimed deliveries and the workers that send them."""

    def __init__(
        self,
        bot: ExtBot[Any],
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Callable[[], datetime],
        *,
        owner: str,
        workers: int = 8,
        rng: random.Random | None = None,
        retry_base: float = RETRY_BASE,
        paid_broadcast: bool = False,
    ) -> None:
        """Send through `bot` as `owner`, record in `sessions`, read time from `clock`."""
        self.owner = owner
        self.bot = bot
        self.sessions = sessions
        self.content = content
        self.clock = clock
        self.workers = workers
        self.rng = rng or random.Random()
        self.retry_base = retry_base
        self.paid_broadcast = paid_broadcast  # scheduled sends may go past 30/s, for Stars
        self.stats = SenderStats()
        # The database work of each message, in groups (one transaction for every message that
        # reaches the same step at the same moment; see batches.py).
        self._checks: GroupCommit[ClaimedDelivery, _Checked | None] = GroupCommit(
            self._check_group, skip_abandoned=True
        )
        self._marks: GroupCommit[int, bool] = GroupCommit(self._mark_group, skip_abandoned=True)
        self._outcomes: GroupCommit[Outcome, None] = GroupCommit(self._record_group)
        self._queue: asyncio.PriorityQueue[tuple[int, float, int, ClaimedDelivery]] = (
            asyncio.PriorityQueue()
        )
        self._order = itertools.count()
        self._held: set[int] = set()  # ids queued, waiting for a retry, or being sent
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()  # workers in the middle of a delivery
        self._stopping = False
        self._timers: set[asyncio.TimerHandle] = set()

    # -- queue ----------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Return how many deliveries this process holds (queued, waiting or being sent)."""
        return len(self._held)

    @property
    def running(self) -> bool:
        """Return True while the workers run."""
        return bool(self._tasks)

    def in_flight(self, delivery_id: int) -> bool:
        """Return True if this process holds the row (recovery must leave it alone)."""
        return delivery_id in self._held

    def held(self) -> list[int]:
        """Return the ids of every row this process holds (their leases are renewed)."""
        return list(self._held)

    def enqueue(self, items: list[ClaimedDelivery]) -> None:
        """Queue claimed rows; rows already held are ignored."""
        for item in items:
            if item.id in self._held:
                continue
            self._held.add(item.id)
            self._put(item)

    def _put(self, item: ClaimedDelivery) -> None:
        self._idle.clear()
        key = (priority_of(item.kind), item.due_utc.timestamp(), next(self._order), item)
        self._queue.put_nowait(key)

    def _put_later(self, item: ClaimedDelivery, delay: float) -> None:
        if delay <= 0:
            self._put(item)
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            self._put(item)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    def _release_hold(self, delivery_id: int) -> None:
        self._held.discard(delivery_id)
        if not self._held:
            self._idle.set()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers (idempotent)."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._work(), name=f"sender-{n}") for n in range(self.workers)
        ]

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the workers, letting sends under way finish for up to `grace` seconds.

        Rows not finished stay claimed (or sending) and are recovered at the next start.
        """
        self._stopping = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        tasks, self._tasks = self._tasks, []
        busy = [task for task in tasks if task in self._busy]
        for task in tasks:
            if task not in self._busy:
                task.cancel()  # idle: waiting for the queue
        if busy:
            await asyncio.wait(busy, timeout=grace)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for group in (self._checks, self._marks, self._outcomes):
            await group.close()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._held.clear()
        self._busy.clear()
        self._idle.set()
        self._stopping = False

    async def drain(self) -> None:
        """Wait until every held delivery has an outcome (tests, and a graceful stop)."""
        if not self._tasks and self._held:
            raise RuntimeError("the sender is not running")
        while self._held:
            await self._idle.wait()

    async def _work(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping:
            *_, item = await self._queue.get()
            self._busy.add(task)
            retry: _Retry | None = None
            try:
                retry = await self.deliver(item)
            except asyncio.CancelledError:
                raise  # stopping: a `sending` row is recovered at the next start
            except Exception:
                # The row stays open in the database; recovery takes it after the lease.
                log.exception("Delivery %s failed unexpectedly", item.id)
            finally:
                self._busy.discard(task)
                self._queue.task_done()
            if retry is None:
                self._release_hold(item.id)
            else:
                self._put_later(retry.item, retry.delay)

    # -- one delivery ---------------------------------------------------------------------------

    async def deliver(self, item: ClaimedDelivery) -> _Retry | None:
        """Send one claimed row and record the outcome; return a retry when one is due."""
        now = self.clock()
        checked = await self._checks.submit(item)
        if checked is None:
            return None  # not ours any more, or closed without sending (recorded)
        item = replace(item, tip_id=checked.tip_id)
        message = self._render(item, now, checked.state)
        if message is None:
            await self._finish(
                item,
                DeliveryStatus.FAILED,
                error="nothing to send: the tip no longer exists",
                only_from=DeliveryStatus.CLAIMED,
            )
            return None
        started = False

        async def start_sending() -> None:
            """Called once the rate limiter grants the slot, right before the HTTP call."""
            nonlocal started
            started = await self._marks.submit(item.id)
            if not started:
                raise LeaseLost

        try:
            sent = await self._send(item, message, start_sending)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            return None  # recovered by another worker before its turn came: theirs now
        except Exception as exc:
            if not started:  # never on the wire: the row is still claimed, recovered later
                log.warning("Delivery %s not sent: %s", item.id, describe(exc))
                return None
            return await self._failed(item, exc, checked.state.attempts + 1)
        await self._finish(
            item, DeliveryStatus.SENT, message_id=sent.message_id, sent_at=self.clock()
        )
        return None

    # -- the database work, in groups -----------------------------------------------------------

    async def _check_group(self, items: list[ClaimedDelivery]) -> list[_Checked | None]:
        """Read the state of claimed rows; close those not worth sending; choose their tips."""
        now = self.clock()
        results: list[_Checked | None] = [None] * len(items)
        closed: list[Outcome] = []
        async with self.sessions() as session, session.begin():
            repo = DeliveryRepo(session)
            if any(item.kind == DeliveryKind.TIP for item in items):
                await repo.lock_for_claim()  # SQLite: nothing moves a rotation until the commit
            states = await repo.send_states([item.id for item in items])
            need_tip: list[int] = []
            for index, item in enumerate(items):
                state = states.get(item.id)
                if (
                    state is None
                    or state.status != DeliveryStatus.CLAIMED
                    or state.claimed_by != self.owner
                ):
                    continue  # another worker recovered it, or it is closed already
                closing = self._closing(item, state, now)
                if closing is not None:
                    status, error = closing
                    closed.append(
                        Outcome(item.id, status, only_from=DeliveryStatus.CLAIMED, error=error)
                    )
                    continue
                results[index] = _Checked(state, state.tip_id)
                if item.kind == DeliveryKind.TIP and not state.tip_id:
                    need_tip.append(index)
            if need_tip:
                tip_ids = [tip.id for tip in self.content.tips]
                chosen = await advance_rotations(
                    session, [items[index].item_id for index in need_tip], tip_ids, self.rng
                )
                choices: list[tuple[int, str]] = []
                for index, tip_id in zip(need_tip, chosen, strict=True):
                    checked = results[index]
                    assert checked is not None
                    results[index] = replace(checked, tip_id=tip_id)
                    if tip_id:
                        choices.append((items[index].id, tip_id))
                await repo.choose_tips(self.owner, choices)
            await repo.finish_many(self.owner, closed)
        for outcome in closed:
            self._count(outcome.status)
        return results

    async def _mark_group(self, delivery_ids: list[int]) -> list[bool]:
        """Commit rows `sending` whose slots were just granted; False for rows not ours."""
        async with self.sessions() as session, session.begin():
            ours = await DeliveryRepo(session).start_sending_many(delivery_ids, self.owner)
        return [delivery_id in ours for delivery_id in delivery_ids]

    async def _record_group(self, outcomes: list[Outcome]) -> list[None]:
        """Record final statuses."""
        async with self.sessions() as session, session.begin():
            await DeliveryRepo(session).finish_many(self.owner, outcomes)
        for outcome in outcomes:
            self._count(outcome.status)
        return [None] * len(outcomes)

    def _closing(
        self, item: ClaimedDelivery, state: SendState, now: datetime
    ) -> tuple[DeliveryStatus, str | None] | None:
        """Return (status, error) when the row must be closed without sending."""
        if state.blocked:
            return DeliveryStatus.BLOCKED, "the user has blocked the bot"
        if item.kind == DeliveryKind.TIP and state.tip_active is not True:
            return DeliveryStatus.FAILED, "cancelled: the daily tip was stopped"
        if item.kind != DeliveryKind.TIP and not state.reminder_exists:
            return DeliveryStatus.FAILED, "cancelled: the reminder was deleted"
        if item.kind not in (DeliveryKind.TIP, DeliveryKind.SNOOZE) and not state.reminder_active:
            return DeliveryStatus.FAILED, "cancelled: the reminder is paused"
        if is_expired(item.kind, state.due_utc, now):
            return DeliveryStatus.EXPIRED, None
        return None

    def _render(self, item: ClaimedDelivery, now: datetime, state: SendState) -> Draft | None:
        """Build the message text and buttons for a delivery."""
        if item.kind == DeliveryKind.TIP:
            return tip_message(self.content, item.tip_id) if item.tip_id else None
        zone = zone_named(item.time_zone)
        notes = notes_for(
            state.rule,
            state.stock,
            state.per_dose,
            occurrence=state.scheduled_utc,
            zone=zone or ZoneInfo("UTC"),
            private=state.hide_labels,
        )
        return reminder_message(
            self.content.texts,
            item.id,
            item.label,
            snoozed=item.kind == DeliveryKind.SNOOZE,
            late_since=item.due_utc if is_late(item.due_utc, now) else None,
            zone=zone,
            notes=notes,
        )

    async def _send(
        self, item: ClaimedDelivery, message: Draft, on_slot: Callable[[], Awaitable[None]]
    ) -> Message:
        """Send the message (split if long; buttons on the last part) at the kind's priority.

        `on_slot` runs once, when the first part's slot is granted, before its HTTP call.
        """
        parts = split_message(message.text) or ["…"]
        markup = keyboard(message.rows)
        sent: Message | None = None
        for index, part in enumerate(parts):
            limit: dict[str, Any] = {}
            if self.bot.rate_limiter is not None:
                args: dict[str, Any] = {"priority": priority_of(item.kind)}
                if index == 0:
                    args["on_slot"] = on_slot
                limit["rate_limit_args"] = args
            elif index == 0:
                await on_slot()
            sent = await self.bot.send_message(
                chat_id=item.chat_id,
                text=part,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if index == len(parts) - 1 else None,
                link_preview_options=NO_PREVIEW,
                allow_paid_broadcast=True if self.paid_broadcast else None,
                **limit,
            )
        assert sent is not None  # split_message gave at least one part
        return sent

    async def _failed(self, item: ClaimedDelivery, exc: Exception, attempts: int) -> _Retry | None:
        """Record what a send error means for this row (see outcomes.py)."""
        verdict = decide(item.kind, exc, attempts)
        now = self.clock()
        log.warning(
            "Delivery %s (%s) to user %s: %s -> %s",
            item.id,
            item.kind,
            item.user_id,
            describe(exc),
            verdict.action.value,
        )
        async with self.sessions() as session, session.begin():
            repo = DeliveryRepo(session)
            if verdict.action in (Action.REQUEUE, Action.RETRY):
                requeue = verdict.action is Action.REQUEUE
                released = await repo.release(
                    item.id,
                    owner=self.owner,
                    error=verdict.reason,
                    count_attempt=not requeue,  # a 429 is not an attempt
                )
                if not released:
                    return None
                if requeue:
                    self.stats.requeued += 1
                    # The limiter already holds every send until the pause is over.
                    return _Retry(item, 0.0)
                self.stats.retried += 1
                return _Retry(item, backoff(attempts, self.retry_base))
            if verdict.action is Action.BLOCK:
                await repo.finish(
                    item.id, DeliveryStatus.BLOCKED, owner=self.owner, error=verdict.reason
                )
                await repo.block_user(item.user_id, now)
                self._count(DeliveryStatus.BLOCKED)
            elif verdict.action is Action.DEACTIVATE:
                await repo.finish(
                    item.id,
                    DeliveryStatus.FAILED,
                    owner=self.owner,
                    error=f"{verdict.reason} (daily tip and reminders deactivated)",
                )
                await repo.deactivate_schedules(item.user_id)
                self._count(DeliveryStatus.FAILED)
            elif verdict.action is Action.UNKNOWN:
                await repo.finish(
                    item.id, DeliveryStatus.UNKNOWN, owner=self.owner, error=verdict.reason
                )
                self._count(DeliveryStatus.UNKNOWN)
            else:
                await repo.finish(
                    item.id, DeliveryStatus.FAILED, owner=self.owner, error=verdict.reason
                )
                self._count(DeliveryStatus.FAILED)
        return None

    async def _finish(
        self,
        item: ClaimedDelivery,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        message_id: int | None = None,
        sent_at: datetime | None = None,
        only_from: DeliveryStatus = DeliveryStatus.SENDING,
    ) -> None:
        """Record a final status (with the other rows finishing at the same moment)."""
        await self._outcomes.submit(
            Outcome(item.id, status, only_from, error, message_id=message_id, sent_at=sent_at)
        )

    def _count(self, status: DeliveryStatus) -> None:
        if status == DeliveryStatus.SENT:
            self.stats.sent += 1
        elif status == DeliveryStatus.BLOCKED:
            self.stats.blocked += 1
        elif status == DeliveryStatus.EXPIRED:
            self.stats.expired += 1
        elif status == DeliveryStatus.UNKNOWN:
            self.stats.unknown += 1
        elif status == DeliveryStatus.FAILED:
            self.stats.failed += 1
