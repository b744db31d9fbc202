"""One delivery leader per token: PostgreSQL elects it, SQLite allows one process per file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import DISPATCH_JOB, build_application, on_init, on_shutdown, on_stop
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp
from bot.db.locks import DatabaseInUse, SqliteFileLock
from harness.bot_process import bot_env
from harness.fake_bot_api_server import FakeBotApiServer
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.env import ADMIN_ID, POSTGRES_URL
from tests.support.fake_request import FakeRequest
from tests.support.schedules import add_reminder, add_user, courier, limiter_of, wait_until
from tests.support.timer import VirtualTimer

ROOT = Path(__file__).resolve().parent.parent.parent
EVERY = 0.2  # seconds between tries for the lock, in these tests
postgres_only = pytest.mark.skipif(
    not POSTGRES_URL.startswith("postgresql"), reason="set TEST_DATABASE_URL to a PostgreSQL URL"
)


@asynccontextmanager
async def worker(
    settings: Settings, clock: FakeClock, content: Content
) -> AsyncIterator[tuple[BotApp, FakeRequest]]:
    """One bot process's application, started as `python -m bot` starts it (without updates)."""
    fake = FakeRequest()
    app = build_application(settings, request=fake, clock=clock, content=content)
    limiter_of(app).timer = VirtualTimer()
    try:
        async with app:
            await on_init(app)
            try:
                yield app, fake
            finally:
                await on_stop(app)
    finally:
        await on_shutdown(app)


async def run_dispatcher_job(app: BotApp) -> None:
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(DISPATCH_JOB)
    await job.run(app)


# -- SQLite: one process per database file -------------------------------------------------------


def test_the_sqlite_lock_file_admits_one_holder_and_names_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    first, second = SqliteFileLock(url), SqliteFileLock(url)
    first.acquire()
    assert first.path == tmp_path / "bot.sqlite3.lock"
    with pytest.raises(DatabaseInUse) as refused:
        second.acquire()
    message = str(refused.value)
    assert f"(pid {os.getpid()})" in message
    assert "exactly one bot process may run per database file" in message
    assert "PostgreSQL" in message
    first.release()
    second.acquire()  # free again once released
    assert second.held
    second.release()
    memory = SqliteFileLock("sqlite+aiosqlite://")
    memory.acquire()  # an in-memory database has no file to share: nothing to lock
    assert memory.path is None


async def test_a_second_application_on_the_same_sqlite_file_is_refused(
    settings: Settings, clock: FakeClock, content: Content
) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite only")
    async with worker(settings, clock, content) as (first, _):
        assert courier(first).leading  # the only process leads from the start
        second = build_application(settings, request=FakeRequest(), clock=clock, content=content)
        async with second:
            with pytest.raises(DatabaseInUse, match="exactly one bot process"):
                await on_init(second)
            assert not courier(second).leading
            assert not courier(second).running
        await on_shutdown(second)
    async with worker(settings, clock, content) as (third, _):  # the first one stopped
        assert courier(third).leading


def test_python_m_bot_refuses_a_second_process_on_the_same_sqlite_file(tmp_path: Path) -> None:
    token = "123:ABC"
    with FakeBotApiServer(token) as server:
        env = bot_env(server.base_url, f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}", token)
        log_path = tmp_path / "first.log"
        with log_path.open("w") as log:
            first = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            server.wait_for_call("getUpdates", timeout=30)  # the first one runs
            second = subprocess.run(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            assert first.poll() is None, "the first process must keep running"
        finally:
            first.terminate()
            first.wait(timeout=15)
    assert second.returncode == 1
    assert f"Another bot process (pid {first.pid}) is already using" in second.stderr
    assert "exactly one bot process may run per database file" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0


# -- PostgreSQL: an advisory lock elects the one leader ------------------------------------------


async def terminate_backend(pid: int) -> None:
    """End a server session from outside, as when its process dies or its connection breaks."""
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            ended = await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert ended.scalar_one() is True
    finally:
        await engine.dispose()


def leader_pid(app: BotApp) -> int:
    lock = getattr(courier(app).leader, "lock", None)
    assert lock is not None
    assert lock.backend_pid is not None
    return int(lock.backend_pid)


@postgres_only
async def test_one_of_two_workers_leads_and_the_other_takes_over_when_its_session_ends(
    settings: Settings, clock: FakeClock, content: Content
) -> None:
    fast = settings.model_copy(update={"leader_retry": EVERY})
    async with (
        worker(fast, clock, content) as (a, fake_a),
        worker(fast, clock, content) as (b, fake_b),
    ):
        for user_id in (1, 2):
            await add_user(a, user_id, zone="UTC")
        await add_reminder(a, 1, due=clock())
        await wait_until(lambda: courier(a).leading or courier(b).leading)
        await asyncio.sleep(5 * EVERY)  # the other keeps trying, and keeps failing
        assert [courier(a).leading, courier(b).leading].count(True) == 1
        leader, follower = (a, b) if courier(a).leading else (b, a)
        fakes = {id(a): fake_a, id(b): fake_b}

        for app in (a, b):
            await run_dispatcher_job(app)
        await courier(leader).drain()
        assert courier(follower).last_tick is None  # only the leader ticks
        assert len(fakes[id(leader)].sent(1)) == 1
        assert fakes[id(follower)].sent() == []
        admin = await Chat(follower, fakes[id(follower)], user_id=ADMIN_ID).send("/admin")
        assert "not the delivery leader" in admin

        # The leader's session ends (its process died, or its connection broke): the other
        # worker takes over within a few intervals, and the old one stops sending.
        await terminate_backend(leader_pid(leader))
        await wait_until(lambda: courier(follower).leading, within=5)
        assert not courier(leader).leading
        assert not courier(leader).running

        await add_reminder(a, 2, due=clock())
        for app in (a, b):
            await run_dispatcher_job(app)
        await courier(follower).drain()
        assert len(fakes[id(follower)].sent(2)) == 1
        assert fakes[id(leader)].sent(2) == []
        admin = await Chat(follower, fakes[id(follower)], user_id=ADMIN_ID).send("/admin")
        assert "This process: delivery leader" in admin

        # The old leader is a follower now: it tries again, and waits while the lock is taken.
        await asyncio.sleep(5 * EVERY)
        assert not courier(leader).leading


@postgres_only
async def test_a_stopping_leader_hands_over_and_the_next_one_takes_its_open_rows(
    settings: Settings, clock: FakeClock, content: Content
) -> None:
    fast = settings.model_copy(update={"leader_retry": EVERY})
    async with worker(fast, clock, content) as (a, fake_a):
        await wait_until(lambda: courier(a).leading)
        await add_user(a, 1, zone="UTC")
        await add_reminder(a, 1, due=clock())
        await courier(a).sender.stop()  # the leader claims the reminder but does not send it
        await run_dispatcher_job(a)
        assert courier(a).queue_length == 1
        async with worker(fast, clock, content) as (b, fake_b):
            await asyncio.sleep(3 * EVERY)
            assert not courier(b).leading
            await on_stop(a)  # a clean stop: sends end, then the lock is released
            await wait_until(lambda: courier(b).leading, within=5)
            await courier(b).drain()  # the claimed row was taken over at once, not after a lease
            assert len(fake_b.sent(1)) == 1
    assert fake_a.sent() == []
