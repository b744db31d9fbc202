"""The person behind an update: stored or refreshed once per update, before any feature runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories import UserRepo


@dataclass(frozen=True)
class Person:
    """What the handlers read of the user (a snapshot: a rollback cannot expire it)."""

    id: int
    chat_id: int
    first_name: str
    time_zone: str | None
    created: bool  # first time we hear from them
    hide_labels: bool = False  # reminder notifications without their label


async def remember(
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    first_name: str,
    language: str | None,
    now: datetime,
) -> Person:
    """Create or refresh the user; a message from them also means they unblocked the bot."""
    user, created = await UserRepo(session).upsert(user_id, chat_id, first_name, language, now)
    if user.blocked_at is not None:
        user.blocked_at = None
    return Person(
        user.id, user.chat_id, user.first_name, user.time_zone, created, bool(user.hide_labels)
    )


async def hide_labels(session: AsyncSession, user_id: int, hidden: bool) -> None:
    """Hide (or show again) the labels of the user's reminder notifications.

    Raises:
        LookupError: If the user does not exist (callers remember the user first).
    """
    user = await UserRepo(session).get(user_id)
    if user is None:
        raise LookupError(f"user {user_id} is not stored")
    user.hide_labels = hidden
