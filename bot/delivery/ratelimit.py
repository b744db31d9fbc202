"""The rate limiter for the whole token: every message the bot sends passes through it.

Telegram allows a bot about 30 messages a second in total. This limiter spaces sends evenly at
`SEND_RATE` (default 28/s: one every ~36 ms, so there is no burst at start), never lets more
than 30 through in any one-second window (checked over 1.05 s: a margin for jitter), and hands
each free slot to the most urgent waiting request: user replies first (the default), then
reminders, then tips. A 429 (`RetryAfter`)
pauses every sender for the time Telegram asks, then the same request is tried again first in
line; that retry is not an attempt of the delivery.

It is a PTB `BaseRateLimiter`, so it sits under `ExtBot` and also limits command replies and
button edits. Calls that produce no message (getUpdates, answerCallbackQuery, getMe, ...) pass
straight through. The time source (`Timer`) is injectable so tests can run it on virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.outcomes import LimiterClosed, retry_after_seconds

log = logging.getLogger(__name__)

PRIORITY_REPLY = 0  # answers to what a user just did: never wait behind a broadcast
PRIORITY_REMINDER = 1
PRIORITY_TIP = 2

TELEGRAM_MAX_PER_SECOND = 30
# The cap is checked over a window a little longer than Telegram's second, so that jitter on the
# way (two requests a few ms closer together on arrival than when sent) cannot make it 31.
WINDOW = 1.05  # seconds
# A send that finds its slot up to this many intervals in the past keeps the cadence (the loop was
# busy for a moment: a claim, a GC pause). Without it every stall would lose a slot and the rate
# would sag below SEND_RATE; the window cap still bounds the catch-up. Longer gaps start afresh.
CATCH_UP_SLOTS = 3
# A granted send runs its `on_slot` (the sender commits the row `sending`) before its HTTP call,
# and no further slot is handed out while too many are still getting ready, so sends reach the
# wire in the order and at the spacing they were granted. At 30 a second that is one at a time;
# at paid-broadcast rates one at a time would cap the rate at one commit per slot, so as many may
# get ready together as the rate grants in this long (the sender commits them as one group).
PRIMING_SPAN = 0.02  # seconds
_EPSILON = 1e-6

# Methods that put a message in a chat. Everything else is not limited.
_LIMITED_PREFIXES = ("send", "copyMessage", "forwardMessage", "editMessage")
_NOT_LIMITED = frozenset({"sendChatAction"})

RateLimitArgs = dict[str, Any]


class Timer(Protocol):
    """A monotonic time source and a way to wait on it."""

    def now(self) -> float:
        """Return the current time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class MonotonicTimer:
    """Real time: `time.monotonic` and `asyncio.sleep`."""

    def now(self) -> float:
        """Return the monotonic clock."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep on the event loop."""
        await asyncio.sleep(seconds)


def is_limited(endpoint: str) -> bool:
    """Return True for Bot API methods that produce a message in a chat."""
    return endpoint.startswith(_LIMITED_PREFIXES) and endpoint not in _NOT_LIMITED


def weight_of(endpoint: str, data: dict[str, Any]) -> int:
    """Return how many messages one call produces (an album is one message per item)."""
    if endpoint == "sendMediaGroup":
        return max(1, len(data.get("media") or ()))
    if endpoint in ("copyMessages", "forwardMessages"):
        return max(1, len(data.get("message_ids") or ()))
    return 1


class PriorityRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """Evenly spaced, prioritised sending under Telegram's per-token limit.

    Pass `rate_limit_args={"priority": PRIORITY_TIP}` (or `PRIORITY_REMINDER`) on broadcast
    sends; anything without it is treated as a reply to a user.
    """

    def __init__(
        self,
        rate: float = 28.0,
        *,
        max_per_second: int = TELEGRAM_MAX_PER_SECOND,
        max_retries: int = 5,
        timer: Timer | None = None,
    ) -> None:
        """Send at most `rate` messages a second, and never more than `max_per_second`."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.max_per_second = max_per_second
        self.max_priming = max(1, int(rate * PRIMING_SPAN))
        self.max_retries = max_retries
        self.timer: Timer = timer or MonotonicTimer()
        self.granted = 0  # messages let through
        self.floods = 0  # 429 answers seen
        # Told of every pause Telegram orders (seconds), so it can outlive a restart.
        self.on_pause: Callable[[float], None] | None = None
        self._waiting: list[tuple[int, int, asyncio.Future[None], int]] = []
        self._order = itertools.count()
        self._next_slot = float("-inf")
        self._paused_until = float("-inf")
        self._recent: deque[float] = deque()
        self._pump: asyncio.Task[None] | None = None
        self._priming = 0  # granted sends whose on_slot still runs
        self._primed = asyncio.Event()
        self._closed = False

    # -- BaseRateLimiter ------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Accept requests (the pump starts with the first one)."""
        self._closed = False

    async def shutdown(self) -> None:
        """Stop the pump; whoever still waits for a slot gets LimiterClosed (nothing was sent).

        PTB calls this before it closes the HTTP client, so no request starts after it.
        """
        self._closed = True
        pump, self._pump = self._pump, None
        if pump is not None and not pump.done():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        for _, _, future, _ in self._waiting:
            if not future.done():
                future.set_exception(LimiterClosed())
        self._waiting.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot (by priority), make the call, and on a 429 pause all and retry.

        `rate_limit_args` may hold "priority" and "on_slot": a coroutine function awaited once,
        when the first slot is granted and before the HTTP call (the sender marks its row
        `sending` there); if it raises, nothing is sent.
        """
        if not is_limited(endpoint):
            return await callback(*args, **kwargs)
        options = rate_limit_args or {}
        priority = int(options.get("priority", PRIORITY_REPLY))
        on_slot = options.get("on_slot")
        weight = weight_of(endpoint, data)
        order = next(self._order)  # kept across 429 retries: first in line after the pause
        for retry in itertools.count():
            await self.acquire(priority, weight=weight, order=order)
            if retry == 0 and on_slot is not None:
                self._priming += 1  # counted until this request is on its way
                try:
                    await on_slot()
                finally:
                    self._priming -= 1
                    if self._priming < self.max_priming:
                        self._primed.set()
                if self._paused_until > self.timer.now():
                    # A 429 arrived while on_slot ran: that slot is void, wait for a new one
                    # after the pause (first in line: the same order).
                    await self.acquire(priority, weight=weight, order=order)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.floods += 1
                self.pause(seconds)
                if self.on_pause is not None:
                    self.on_pause(seconds)
                log.warning("Telegram asked to slow down: all sending paused for %.1f s", seconds)
                if retry >= self.max_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the limiter ----------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Return how many requests wait for a slot."""
        return sum(1 for _, _, future, _ in self._waiting if not future.done())

    @property
    def paused_for(self) -> float:
        """Return how many seconds the current 429 pause still lasts (0 if none)."""
        return max(0.0, self._paused_until - self.timer.now())

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` from now (a 429 applies to the whole token)."""
        self._paused_until = max(self._paused_until, self.timer.now() + seconds)

    async def acquire(
        self, priority: int = PRIORITY_REPLY, *, weight: int = 1, order: int = -1
    ) -> None:
        """Wait until this request may be sent; lower `priority` values go first."""
        if self._closed:
            raise LimiterClosed
        if order < 0:
            order = next(self._order)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, order, future, weight))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="rate-limiter")
        await future

    async def _run(self) -> None:
        """Hand out slots, one interval apart, to the most urgent waiting request."""
        try:
            while self._waiting:
                _, _, future, weight = self._waiting[0]
                if future.done():  # its caller was cancelled
                    heapq.heappop(self._waiting)
                    continue
                if self._priming >= self.max_priming:  # granted sends go out first
                    self._primed.clear()
                    await self._primed.wait()
                    continue
                now = self.timer.now()
                ready = max(self._next_slot, self._paused_until, self._window_opens(now, weight))
                if ready > now:
                    await self.timer.sleep(ready - now)
                    continue  # someone more urgent may have arrived, or a pause begun
                heapq.heappop(self._waiting)
                self._grant(now, weight)
                future.set_result(None)
        finally:
            if self._pump is asyncio.current_task():
                self._pump = None

    def _window_opens(self, now: float, weight: int) -> float:
        """Return when `weight` more sends fit into the last window (see WINDOW)."""
        recent = self._recent
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        excess = len(recent) + weight - self.max_per_second
        if excess <= 0:
            return now
        return recent[min(excess, len(recent)) - 1] + WINDOW + _EPSILON

    def _grant(self, now: float, weight: int) -> None:
        """Record a send at `now` and book the next slot."""
        # Keep the cadence when the loop woke a little late (see CATCH_UP_SLOTS); after an idle
        # spell or a 429 pause, start again from now: no burst.
        late = now - self._next_slot
        on_time = late <= CATCH_UP_SLOTS * self.interval and self._paused_until < self._next_slot
        base = self._next_slot if on_time else now
        self._next_slot = base + self.interval * weight
        self._recent.extend([now] * weight)
        self.granted += weight
