"""The questions the bot asks and waits for (which zone? which new time?), kept in the database.

A question survives a restart and is answered whichever worker gets the answer. It expires
after QUESTION_TTL: an answer after that is told so instead of being acted on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.pending_repo import PendingRepo
from bot.domain.vocabulary import QuestionKind

QUESTION_TTL = timedelta(hours=24)
MAX_WAITING = 11  # questions of one kind per user: more than one person can use


@dataclass(frozen=True)
class Waiting:
    """A user's questions of one kind: those still open and those that expired unanswered."""

    live: list[dict[str, str]]
    expired: list[dict[str, str]]

    def __bool__(self) -> bool:
        """Return True when any question (open or expired) is there."""
        return bool(self.live or self.expired)


async def ask(
    session: AsyncSession,
    user_id: int,
    kind: QuestionKind,
    data: Mapping[str, str],
    now: datetime,
    *,
    key: str = "",
) -> None:
    """Remember a question; one of the same kind and key is replaced (the newer one wins)."""
    repo = PendingRepo(session)
    await repo.put(user_id, kind, key, json.dumps(dict(data)), now, now + QUESTION_TTL)
    rows = await repo.of_user(user_id, kind)
    await repo.drop_ids([row.id for row in rows[:-MAX_WAITING]])


async def waiting(
    session: AsyncSession, user_id: int, kind: QuestionKind, now: datetime
) -> Waiting:
    """Return the user's questions of one kind, oldest first, without answering them."""
    rows = await PendingRepo(session).of_user(user_id, kind)
    return Waiting(
        live=[_data(row.data) for row in rows if row.expires_at > now],
        expired=[_data(row.data) for row in rows if row.expires_at <= now],
    )


async def answer(
    session: AsyncSession, user_id: int, kind: QuestionKind, now: datetime
) -> Waiting:
    """Take the user's questions of one kind: they are answered now (and forgotten)."""
    found = await waiting(session, user_id, kind, now)
    await PendingRepo(session).drop(user_id, kind)
    return found


async def forget(
    session: AsyncSession, user_id: int, kind: QuestionKind, key: str | None = None
) -> None:
    """Drop a question without answering it (cancelled, or the user moved on)."""
    await PendingRepo(session).drop(user_id, kind, key)


def _data(raw: str) -> dict[str, str]:
    value = json.loads(raw or "{}")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
