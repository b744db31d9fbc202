"""The token's rate limiter, on virtual time: spacing, the 30-per-second cap, priority, 429."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.context import BotApp
from bot.delivery.outcomes import Action, decide
from bot.delivery.ratelimit import (
    PRIORITY_REMINDER,
    PRIORITY_REPLY,
    PRIORITY_TIP,
    WINDOW,
    LimiterClosed,
    PriorityRateLimiter,
    is_limited,
)
from tests.support.chat import Chat
from tests.support.schedules import limiter_of
from tests.support.timer import RecordingLimiter, VirtualTimer


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events inside any half-open window [t, t + window)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, moment in enumerate(ordered):
        while moment - ordered[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def make(rate: float = 28.0) -> RecordingLimiter:
    return RecordingLimiter(rate, timer=VirtualTimer(start=100.0))


async def send(
    limiter: PriorityRateLimiter,
    label: str,
    log: list[str],
    priority: int | None = None,
    endpoint: str = "sendMessage",
) -> Any:
    async def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
        log.append(label)
        return {"ok": label}

    args = None if priority is None else {"priority": priority}
    return await limiter.process_request(call, (), {}, endpoint, {}, args)


@pytest.mark.parametrize("rate", [28.0, 30.0])
async def test_sends_are_spaced_and_never_more_than_30_in_a_second(rate: float) -> None:
    limiter = make(rate)
    log: list[str] = []
    await asyncio.gather(*(send(limiter, f"m{n}", log, PRIORITY_TIP) for n in range(300)))
    times = limiter.grant_times
    assert times is not None
    assert len(times) == 300
    assert max_in_window(times) <= 30
    assert max_in_window(times) <= int(rate) + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 1 / rate - 1e-9  # evenly spaced: no burst at start or later
    if rate <= 28:  # at the default rate the cap never binds: exactly the rate, no slower
        assert times[-1] - times[0] == pytest.approx(299 / rate)
    else:  # at 30/s the cap (checked over 1.05 s) spaces them a little more
        assert times[-1] - times[0] >= 299 / rate
    await limiter.shutdown()


async def test_no_burst_after_an_idle_spell_or_a_stalled_loop() -> None:
    limiter = make()
    timer = limiter.timer
    assert isinstance(timer, VirtualTimer)
    log: list[str] = []
    await send(limiter, "first", log)
    timer.current += 60  # a minute of silence
    await asyncio.gather(*(send(limiter, f"m{n}", log) for n in range(40)))
    times = limiter.grant_times or []
    gaps = [
        later - earlier for earlier, later in itertools.pairwise(times[1:])
    ]  # after the idle spell
    assert min(gaps) >= 1 / 28 - 1e-9
    assert max_in_window(times) <= 29
    await limiter.shutdown()


async def test_a_stalled_loop_catches_up_within_the_cap() -> None:
    limiter = make()
    timer = limiter.timer
    assert isinstance(timer, VirtualTimer)
    log: list[str] = []

    async def stall_now_and_then() -> None:
        for _ in range(20):
            for _ in range(5):
                await asyncio.sleep(0)
            timer.current += 0.09  # the loop was busy for 90 ms: under three slots

    stalls = asyncio.create_task(stall_now_and_then())
    await asyncio.gather(*(send(limiter, f"m{n}", log) for n in range(200)))
    await stalls
    times = limiter.grant_times or []
    assert max_in_window(times, WINDOW) <= 30  # Telegram's cap, with the jitter margin
    assert max_in_window(times) <= 30
    # No slot lost to the stalls: 200 sends take as long as the rate says, not longer.
    assert times[-1] - times[0] == pytest.approx(199 / 28, abs=1 / 28)
    await limiter.shutdown()


async def test_replies_never_wait_behind_a_broadcast() -> None:
    limiter = make()
    log: list[str] = []
    tips = [asyncio.create_task(send(limiter, f"tip{n}", log, PRIORITY_TIP)) for n in range(30)]
    for _ in range(100):  # let the broadcast get going
        if len(log) >= 3:
            break
        await asyncio.sleep(0)
    queued_at: dict[str, int] = {}

    async def arrive(label: str, priority: int | None) -> None:
        queued_at[label] = len(log)  # how many were sent when this one asked
        await send(limiter, label, log, priority)

    reminder = asyncio.create_task(arrive("reminder", PRIORITY_REMINDER))
    reply = asyncio.create_task(arrive("reply", None))  # replies need no argument
    await asyncio.gather(*tips, reminder, reply)
    position = {label: n for n, label in enumerate(log)}
    # The next free slot is the reply's: at most one tip (already promised its slot) goes first.
    assert position["reply"] - queued_at["reply"] <= 1
    assert position["reminder"] - queued_at["reminder"] <= 2
    assert position["reply"] < position["reminder"] < position["tip10"]
    await limiter.shutdown()


async def test_a_429_pauses_every_sender_and_the_request_goes_first_after_it() -> None:
    limiter = make()
    timer = limiter.timer
    assert isinstance(timer, VirtualTimer)
    attempts: list[float] = []
    log: list[str] = []

    async def flooded(*args: Any, **kwargs: Any) -> dict[str, Any]:
        attempts.append(timer.now())
        if len(attempts) == 1:
            raise RetryAfter(5)
        log.append("flooded")
        return {}

    first = asyncio.create_task(
        limiter.process_request(flooded, (), {}, "sendMessage", {}, {"priority": PRIORITY_TIP})
    )
    await asyncio.sleep(0)
    others = [asyncio.create_task(send(limiter, f"m{n}", log, PRIORITY_TIP)) for n in range(5)]
    await asyncio.gather(first, *others)
    times = limiter.grant_times or []
    assert limiter.floods == 1
    assert attempts[1] - attempts[0] >= 5  # retried after the pause ...
    assert all(t >= attempts[0] + 5 for t in times[1:])  # ... and nothing else went out during it
    assert log[0] == "flooded"  # first in line when the pause ends
    await limiter.shutdown()


async def test_a_429_past_the_retries_reaches_the_caller() -> None:
    limiter = make()
    limiter.max_retries = 1

    async def always_flooded(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always_flooded, (), {}, "sendMessage", {}, None)
    assert limiter.floods == 2
    await limiter.shutdown()


async def test_calls_that_send_no_message_are_not_limited() -> None:
    limiter = make()
    log: list[str] = []
    for endpoint in ("answerCallbackQuery", "getMe", "sendChatAction", "setMyCommands"):
        await send(limiter, endpoint, log, endpoint=endpoint)
    assert limiter.granted == 0
    assert len(log) == 4
    assert is_limited("sendMessage")
    assert is_limited("editMessageText")
    assert is_limited("sendPhoto")
    assert is_limited("copyMessage")
    assert not is_limited("getUpdates")
    assert not is_limited("answerCallbackQuery")
    await limiter.shutdown()


async def test_an_album_counts_as_one_message_per_item() -> None:
    limiter = make()

    async def call(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    await limiter.process_request(call, (), {}, "sendMediaGroup", {"media": [1, 2, 3]}, None)
    assert limiter.granted == 3
    await limiter.shutdown()


async def test_a_cancelled_waiter_gives_its_slot_to_the_next(app: BotApp) -> None:
    limiter = make()
    log: list[str] = []
    await send(limiter, "first", log)
    doomed = asyncio.create_task(send(limiter, "doomed", log))
    later = asyncio.create_task(send(limiter, "later", log))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.gather(later)
    assert log == ["first", "later"]
    assert limiter.waiting == 0
    await limiter.shutdown()


async def test_every_reply_of_the_bot_goes_through_the_limiter(app: BotApp, chat: Chat) -> None:
    limiter = limiter_of(app)
    limiter.timer = VirtualTimer()
    before = limiter.granted
    await chat.send("/start")
    assert limiter.granted == before + 1
    assert limiter.interval == pytest.approx(1 / app.bot_data["deps"].settings.send_rate)


async def test_shutdown_turns_waiters_away_as_not_sent() -> None:
    limiter = make()
    log: list[str] = []
    await send(limiter, "first", log)
    waiter = asyncio.create_task(send(limiter, "second", log))
    await asyncio.sleep(0)
    await limiter.shutdown()
    with pytest.raises(LimiterClosed):
        await waiter
    with pytest.raises(LimiterClosed):
        await send(limiter, "third", log)
    assert log == ["first"]
    assert decide("tip", LimiterClosed(), 1).action is Action.RETRY  # never sent: safe
    assert PRIORITY_REPLY < PRIORITY_REMINDER < PRIORITY_TIP
