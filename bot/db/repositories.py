"""Queries. Repositories never commit: the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import BotState, User


class UserRepo:
    """Queries on users."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def get(self, user_id: int) -> User | None:
        """Return the user, if known."""
        return await self.session.get(User, user_id)

    async def upsert(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        language: str | None,
        now: datetime,
    ) -> tuple[User, bool]:
        """Create the user or refresh their name and chat; return (user, created)."""
        user = await self.session.get(User, user_id)
        if user is None:
            user = User(
                id=user_id,
                chat_id=chat_id,
                first_name=first_name[:128],
                language=language,
                created_at=now,
            )
            self.session.add(user)
            await self.session.flush()
            return user, True
        user.chat_id = chat_id
        user.first_name = first_name[:128]
        user.language = language
        return user, False


class StateRepo:
    """The bot-wide facts of `bot_state`, by key."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def get(self, key: str) -> str | None:
        """Return the value stored under `key`, if any."""
        row = await self.session.get(BotState, key)
        return None if row is None else row.value

    async def put(self, key: str, value: str, now: datetime) -> None:
        """Store `value` under `key`."""
        row = await self.session.get(BotState, key)
        if row is None:
            self.session.add(BotState(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        await self.session.flush()
