"""Shared fixtures: a migrated database, settings, the real application with a fake request."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import build_application, on_shutdown, on_stop
from bot.config import Settings
from bot.content import Content, load_content
from bot.context import BotApp
from bot.db.session import upgrade_to_head_sync
from bot.handlers import errors
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.env import ADMIN_ID, POSTGRES_URL
from tests.support.fake_request import FakeRequest


def pytest_configure(config: pytest.Config) -> None:
    # As `python -m bot` does: PTB's RetryAfter gives retry_after as a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    config.addinivalue_line(
        "markers", "error_handler_expected: the test makes the bot's error handler run"
    )


class _ErrorHandlerRuns(logging.Handler):
    """Collects what the bot's error handler logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_unexpected_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test in which the error handler ran: an exception nobody expected."""
    runs = _ErrorHandlerRuns()
    logger = logging.getLogger(errors.__name__)
    logger.addHandler(runs)
    try:
        yield
    finally:
        logger.removeHandler(runs)
    if runs.records and request.node.get_closest_marker("error_handler_expected") is None:
        first = runs.records[0]
        detail = logging.Formatter().formatException(first.exc_info) if first.exc_info else ""
        pytest.fail(f"the error handler ran {len(runs.records)} time(s):\n{detail}")


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A SQLite file migrated to head once; each test gets a copy."""
    if POSTGRES_URL:
        upgrade_to_head_sync(POSTGRES_URL)
        return None
    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    upgrade_to_head_sync(f"sqlite+aiosqlite:///{path}")
    return path


def _truncate_postgres(url: str) -> None:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.models import Base

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def db_url(template_db: Path | None, tmp_path: Path) -> str:
    if template_db is None:
        _truncate_postgres(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path / "bot.sqlite3"
    shutil.copy(template_db, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        _env_file=None,
        telegram_bot_token="123456:TEST-TOKEN",
        database_url=db_url,
        admin_ids=frozenset({ADMIN_ID}),
        chart_workers=0,  # charts in a thread: no worker process per test (tests/test_charts.py)
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake() -> FakeRequest:
    return FakeRequest()


@pytest.fixture
async def app(
    settings: Settings, fake: FakeRequest, clock: FakeClock, content: Content
) -> AsyncIterator[BotApp]:
    application = build_application(settings, request=fake, clock=clock, content=content)
    async with application:
        yield application
        await on_stop(application)  # the hooks PTB runs after polling: stop, then shut down
    await on_shutdown(application)


@pytest.fixture
def chat(app: BotApp, fake: FakeRequest) -> Chat:
    return Chat(app, fake)
