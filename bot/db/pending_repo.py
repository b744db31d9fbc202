"""Queries on the questions the bot waits for an answer to. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Pending
from bot.domain.vocabulary import QuestionKind


class PendingRepo:
    """Pending questions: one row per question, oldest first."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def of_user(self, user_id: int, kind: QuestionKind) -> list[Pending]:
        """Return the user's questions of one kind, oldest first."""
        stmt = (
            select(Pending)
            .where(Pending.user_id == user_id, Pending.kind == kind)
            .order_by(Pending.id)
        )
        return list(await self.session.scalars(stmt))

    async def put(
        self,
        user_id: int,
        kind: QuestionKind,
        key: str,
        data: str,
        asked_at: datetime,
        expires_at: datetime,
    ) -> Pending:
        """Store a question, replacing one of the same kind and key (the newer one wins)."""
        await self.drop(user_id, kind, key)
        row = Pending(
            user_id=user_id,
            kind=kind,
            key=key,
            data=data,
            asked_at=asked_at,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def drop(self, user_id: int, kind: QuestionKind, key: str | None = None) -> None:
        """Forget the user's questions of one kind (only the one with `key`, when given)."""
        stmt = delete(Pending).where(Pending.user_id == user_id, Pending.kind == kind)
        if key is not None:
            stmt = stmt.where(Pending.key == key)
        await self.session.execute(stmt.execution_options(synchronize_session=False))

    async def drop_ids(self, ids: list[int]) -> None:
        """Forget these questions."""
        if ids:
            stmt = delete(Pending).where(Pending.id.in_(ids))
            await self.session.execute(stmt.execution_options(synchronize_session=False))
