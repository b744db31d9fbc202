"""Virtual time for the rate limiter, and a record of when it let each message through."""

from __future__ import annotations

import asyncio

from bot.delivery.ratelimit import PriorityRateLimiter


class VirtualTimer:
    """Virtual time for tests and simulations: sleeping moves the clock instead of waiting."""

    def __init__(self, start: float = 0.0) -> None:
        """Start the clock at `start`."""
        self.current = start

    def now(self) -> float:
        """Return the virtual time."""
        return self.current

    async def sleep(self, seconds: float) -> None:
        """Advance the virtual time, then let other tasks run."""
        if seconds > 0:
            self.current += seconds
        await asyncio.sleep(0)


def record_grants(limiter: PriorityRateLimiter) -> list[float]:
    """Return a list that fills with the time of every message `limiter` lets through."""
    times: list[float] = []
    grant = limiter._grant

    def recording(now: float, weight: int) -> None:
        grant(now, weight)
        times.extend([now] * weight)

    limiter._grant = recording  # type: ignore[method-assign]
    return times


class RecordingLimiter(PriorityRateLimiter):
    """A limiter that keeps the time of every message it lets through in `grant_times`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.grant_times: list[float] = record_grants(self)
