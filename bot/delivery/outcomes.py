"""What each Bot API error means for a delivery, and what the sender does about it.

| error                                   | tip                      | reminder / snooze        |
|-----------------------------------------|--------------------------|--------------------------|
| 429 RetryAfter                          | pause all, re-queue, not an attempt                 |
| 403 Forbidden (blocked, deactivated)    | `blocked`, user marked blocked, schedules stop      |
| 400 chat not found                      | `failed`, the user's tip and reminders deactivated  |
| timeout / network error on connect      | retried with backoff (the request never went out)   |
| timeout / network error after sending   | `unknown` (at most once) | retried (at least once)  |
| anything else                           | `failed` with the reason                            |
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.domain.vocabulary import DeliveryKind

MAX_ATTEMPTS = 5  # HTTP attempts per delivery before it is recorded as failed
RETRY_BASE = 2.0  # seconds; the n-th retry waits RETRY_BASE * 2 ** (n - 1), at most RETRY_CAP
RETRY_CAP = 60.0

# Errors raised before the request reached Telegram: sending again cannot duplicate a message.
_NOT_SENT_CAUSES = (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout)
# PTB's words for them. "not initialized": the bot's HTTP client is closed. The life cycle
# stops the sender before that happens (bot/app.py); this only keeps a stray send retryable.
_NOT_SENT_WORDS = (
    "connecttimeout",
    "connecterror",
    "pool timeout",
    "pooltimeout",
    "not initialized",
)


class LimiterClosed(NetworkError):
    """The rate limiter is shutting down: the request was never sent (safe to send again)."""

    def __init__(self) -> None:
        """Say what happened."""
        super().__init__("rate limiter is shut down: request not sent")


class Failure(enum.Enum):
    """The kinds of failure the sender tells apart."""

    FLOOD = "flood"  # 429: too many requests
    BLOCKED = "blocked"  # 403: the user blocked the bot or was deactivated
    CHAT_NOT_FOUND = "chat_not_found"
    NOT_SENT = "not_sent"  # connect-phase timeout or network error: safe to retry
    UNCERTAIN = "uncertain"  # the request went out; Telegram may have delivered it
    OTHER = "other"


class Action(enum.Enum):
    """What the sender does with a delivery after a failure."""

    REQUEUE = "requeue"  # try again after the pause, the attempt does not count
    RETRY = "retry"  # try again after a backoff
    BLOCK = "block"  # status blocked, mark the user blocked
    DEACTIVATE = "deactivate"  # status failed, deactivate the user's schedules
    UNKNOWN = "unknown"  # status unknown: not sent again
    FAIL = "fail"  # status failed with the reason


@dataclass(frozen=True)
class Verdict:
    """A failure, how to handle it, and the reason to record."""

    failure: Failure
    action: Action
    reason: str


def request_went_out(exc: BaseException) -> bool:
    """Return False only when the request certainly never reached Telegram."""
    if isinstance(exc, LimiterClosed):
        return False
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, _NOT_SENT_CAUSES):
        return False
    text = str(exc).lower()
    return not any(word in text for word in _NOT_SENT_WORDS)


def classify(exc: BaseException) -> Failure:
    """Sort a send error into one of the failures the sender handles."""
    if isinstance(exc, RetryAfter):
        return Failure.FLOOD
    if isinstance(exc, Forbidden):
        return Failure.BLOCKED
    if isinstance(exc, BadRequest):
        return Failure.CHAT_NOT_FOUND if "chat not found" in str(exc).lower() else Failure.OTHER
    if isinstance(exc, TimedOut | NetworkError):  # TimedOut is a NetworkError; both say so
        return Failure.UNCERTAIN if request_went_out(exc) else Failure.NOT_SENT
    return Failure.OTHER


def decide(kind: str, exc: BaseException, attempts: int) -> Verdict:
    """Return what to do after `exc` on the `attempts`-th attempt of a delivery of `kind`."""
    failure = classify(exc)
    reason = describe(exc)
    if failure is Failure.FLOOD:
        return Verdict(failure, Action.REQUEUE, reason)
    if failure is Failure.BLOCKED:
        return Verdict(failure, Action.BLOCK, reason)
    if failure is Failure.CHAT_NOT_FOUND:
        return Verdict(failure, Action.DEACTIVATE, reason)
    if failure is Failure.UNCERTAIN and kind == DeliveryKind.TIP:
        return Verdict(failure, Action.UNKNOWN, reason)  # a tip is sent at most once
    if failure in (Failure.NOT_SENT, Failure.UNCERTAIN):
        if attempts < MAX_ATTEMPTS:
            return Verdict(failure, Action.RETRY, reason)
        return Verdict(failure, Action.FAIL, f"gave up after {attempts} attempts: {reason}")
    return Verdict(failure, Action.FAIL, reason)


def backoff(attempts: int, base: float = RETRY_BASE) -> float:
    """Return the wait in seconds before retrying after the `attempts`-th attempt."""
    return min(RETRY_CAP, base * 2 ** max(0, attempts - 1))


def describe(exc: BaseException) -> str:
    """Return a short reason for the deliveries row (no message text: it may hold health data)."""
    message = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:500]


def retry_after_seconds(exc: RetryAfter) -> float:
    """Return the pause a 429 asks for, in seconds (without PTB's deprecation warning)."""
    value = getattr(exc, "_retry_after", None)  # a timedelta since PTB 22.2
    if not isinstance(value, timedelta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = exc.retry_after
    if isinstance(value, timedelta):
        return max(0.0, value.total_seconds())
    return max(0.0, float(value))
