"""Scheduled delivery: the dispatcher claims due rows, the sender sends them under the limit.

See `dispatcher.py` for how due rows are claimed, `sender.py` and `outcomes.py` for what
happens to each send, and `ratelimit.py` for the token's rate limiter.
"""

from __future__ import annotations

from bot.delivery.dispatcher import schedule_snooze
from bot.delivery.engine import DeliveryEngine, engine_of, register
from bot.delivery.messages import (
    REM_SKIP,
    REM_SNOOZE15,
    REM_SNOOZE60,
    REM_TAKEN,
    REMINDER_PATTERN,
    SNOOZE_MINUTES,
    TIP_NEXT,
    TIP_STOP,
    reminder_buttons,
    tip_buttons,
)
from bot.delivery.ratelimit import PriorityRateLimiter

__all__ = [
    "REMINDER_PATTERN",
    "REM_SKIP",
    "REM_SNOOZE15",
    "REM_SNOOZE60",
    "REM_TAKEN",
    "SNOOZE_MINUTES",
    "TIP_NEXT",
    "TIP_STOP",
    "DeliveryEngine",
    "PriorityRateLimiter",
    "engine_of",
    "register",
    "reminder_buttons",
    "schedule_snooze",
    "tip_buttons",
]
