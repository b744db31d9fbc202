"""Queries. Repositories never commit: the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User


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
