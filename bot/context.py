"""Shared dependencies, the per-update database scope, and the typed CallbackContext.

Every update gets one `UpdateScope`: one `AsyncSession`, opened when a handler first needs it
and closed when the update is done (`BotApplication.process_update`). The user is upserted in
it first (a group -50 handler puts them on `context.user`), and the use case works in the same
session and commits at its boundary with `async with context.transaction() as session:`.
"""

from __future__ import annotations

import contextvars
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.charts import ChartRenderer
from bot.config import Settings
from bot.content import Content
from bot.db.locks import SqliteFileLock
from bot.delivery.courier import Courier
from bot.domain.timezones import Places
from bot.services.users import Person

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything handlers and jobs share, built once by `build_application`."""

    settings: Settings
    content: Content
    engine: AsyncEngine  # the database engine (SQLAlchemy's word); the courier sends messages
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    rng: random.Random  # tip rotations and /fact (tests pass a seeded one)
    delivery: Courier
    places: Places  # city names -> zones, indexed once from content/cities.toml
    charts: ChartRenderer  # draws /week and /month off the event loop (workers start on use)
    file_lock: SqliteFileLock  # SQLite: one bot process per database file (PostgreSQL: none)


class UpdateScope:
    """The one session of one update: opened on first use, committed or rolled back at the end."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Open nothing yet: an update that needs no database costs no connection."""
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self.failed = False  # set by the error handler: the end of the update rolls back
        self.closed = False  # the update is done; a non-blocking handler may still run
        self.user: Person | None = None

    @property
    def session(self) -> AsyncSession:
        """Return the update's session, opening it on first use."""
        if self._session is None:
            self._session = self._sessions()
        return self._session

    async def close(self) -> None:
        """Commit what is left (the user upsert of a read-only update), or roll back on error."""
        session, self._session = self._session, None
        self.closed = True
        if session is None:
            return
        try:
            if session.in_transaction():
                if self.failed:
                    await session.rollback()
                else:
                    await session.commit()
        finally:
            await session.close()


_SCOPE: contextvars.ContextVar[UpdateScope | None] = contextvars.ContextVar(
    "update_scope", default=None
)


class BotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application with one database scope around each update, and no per-user memory."""

    async def process_update(self, update: object) -> None:
        """Handle the update inside its own scope, closed however the handlers end."""
        scope = UpdateScope(cast(Deps, self.bot_data["deps"]).sessions)
        token = _SCOPE.set(scope)
        try:
            await super().process_update(update)
        finally:
            _SCOPE.reset(token)
            await scope.close()

    def _mark_for_persistence_update(self, *, update: object = None, job: Any = None) -> None:
        """Remember nothing for a persistence the bot does not have.

        PTB adds the chat and user id of every update to two sets that only its persistence
        empties; without one they would grow by every distinct user, forever.
        """
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the shared dependencies and the update's scope."""

    @property
    def deps(self) -> Deps:
        """Return the shared dependencies."""
        return cast(Deps, self.bot_data["deps"])

    @property
    def content(self) -> Content:
        """Return the loaded content."""
        return self.deps.content

    @property
    def scope(self) -> UpdateScope:
        """Return the update's database scope (only while an update is handled).

        Raises:
            RuntimeError: Outside an update (a job has no update scope).
        """
        scope = _SCOPE.get()
        if scope is None:
            raise RuntimeError("no update is being handled")
        return scope

    @property
    def session(self) -> AsyncSession:
        """Return the update's session: reads use it directly, writes via `transaction`."""
        return self.scope.session

    @property
    def user(self) -> Person:
        """Return the person who sent the update (stored by the group -50 handler).

        Raises:
            RuntimeError: For an update from no person (those are dropped before any handler).
        """
        user = self.scope.user
        if user is None:
            raise RuntimeError("the update has no user")
        return user

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Run a use case in the update's session; commit at the end, roll back on error.

        A non-blocking handler may outlive its update's scope: it then gets a session of its
        own for each transaction, closed at the end.
        """
        if self.scope.closed:
            async with self.deps.sessions() as own, own.begin():
                yield own
            return
        session = self.session
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()

    def now(self) -> datetime:
        """Return the current time from the injected clock."""
        return self.deps.clock()


BotApp = BotApplication


def deps_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Deps:
    """Return the dependencies stored on an application."""
    return cast(Deps, app.bot_data["deps"])
