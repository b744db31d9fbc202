"""Shared dependencies and the typed CallbackContext every handler receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.content import Content

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class Deps:
    """Everything handlers and jobs share: settings, content, database, clock."""

    settings: Settings
    content: Content
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = utc_now
    extras: dict[str, Any] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the shared dependencies."""

    @property
    def deps(self) -> Deps:
        """Return the shared dependencies."""
        return cast(Deps, self.bot_data["deps"])

    @property
    def content(self) -> Content:
        """Return the loaded content."""
        return self.deps.content

    def db(self) -> AsyncSession:
        """Return a new session: one per update or job, never kept."""
        return self.deps.sessions()

    def now(self) -> datetime:
        """Return the current time from the injected clock."""
        return self.deps.clock()


BotApp = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


def deps_of(app: BotApp) -> Deps:
    """Return the dependencies stored on an application."""
    return cast(Deps, app.bot_data["deps"])
