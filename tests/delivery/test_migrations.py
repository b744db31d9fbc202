"""Migrations: `upgrade head` gives exactly the models' schema; upgrading keeps the data.

An empty database of each kind must match the models; a database at an older revision with
data in it must keep every row, and its reminders must come at the same instants as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application, on_shutdown
from bot.config import Settings
from bot.content import Content
from bot.context import deps_of
from bot.db.models import Base, Delivery, Reminder
from bot.db.session import alembic_config, upgrade_to_head, upgrade_to_head_sync
from bot.domain.rules import daily, next_due
from bot.domain.schedule import next_due_utc
from bot.domain.timeparse import stored_time
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.env import POSTGRES_URL
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running


def schema_drift(url: str) -> list[Any]:
    """Differences between the database at `url` and the models (empty: no drift)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_sqlite_schema_after_upgrade_head_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade_to_head_sync(url)
    assert schema_drift(url) == []


@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_URL.startswith("postgresql"), reason="set TEST_DATABASE_URL to a PostgreSQL URL"
)
def test_postgres_schema_after_upgrade_head_matches_the_models() -> None:
    server = make_url(POSTGRES_URL)
    name = f"{server.database}_drift_{uuid.uuid4().hex[:8]}"
    fresh = server.set(database=name).render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_to_head_sync(fresh)
        assert schema_drift(fresh) == []
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrading_a_database_with_data_keeps_every_delivery(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "001")
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO users (id, chat_id, first_name, created_at) VALUES (1, 1, 'Ada', ?)",
            ("2026-03-01 08:00:00",),
        )
        for kind, payload in (("tip", "t01"), ("reminder", "glycinate 200 mg"), ("tip", "")):
            con.execute(
                "INSERT INTO deliveries (kind, item_id, user_id, chat_id, local_date, due_utc,"
                " status, attempts, payload) VALUES (?, ?, 1, 1, '2026-03-01', ?, 'sent', 1, ?)",
                (kind, 7 if payload else 8, "2026-03-01 08:00:00", payload),
            )
    upgrade_to_head_sync(url)
    assert schema_drift(url) == []
    with sqlite3.connect(path) as con:
        got = con.execute(
            "SELECT kind, tip_id, label, scheduled_utc = due_utc FROM deliveries ORDER BY id"
        ).fetchall()
        assert got == [
            ("tip", "t01", "", 1),
            ("reminder", None, "glycinate 200 mg", 1),
            ("tip", None, "", 1),
        ]
        # AUTOINCREMENT: the newest id is never handed out again after a delete.
        con.execute("DELETE FROM deliveries WHERE id = 3")
        con.execute(
            "INSERT INTO deliveries (kind, item_id, user_id, chat_id, local_date, scheduled_utc,"
            " due_utc, status, attempts, label) VALUES ('tip', 9, 1, 1, '2026-03-02',"
            " '2026-03-02 08:00:00', '2026-03-02 08:00:00', 'sent', 1, '')"
        )
        assert con.execute("SELECT max(id) FROM deliveries").fetchone() == (4,)


# --------------------------------------------------------------------------------------------
# Reminder rules (migration 006): every reminder from before keeps its instants

OLD_REMINDERS = (  # (user, zone, local time, active): DST gaps and repeats, no-DST, a pause
    (1, "Europe/Berlin", "02:30", True),
    (2, "America/New_York", "21:00", True),
    (3, "Asia/Kolkata", "09:00", True),
    (4, "Australia/Sydney", "02:30", False),
)
OLD_NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def seed_before_rules(path: Path) -> dict[int, datetime]:
    """Reminders, deliveries, doses and a pending question as revision 004 stores them.

    Returns each active reminder's stored next due instant.
    """
    due: dict[int, datetime] = {}
    stamp = "2026-03-02 07:00:00"
    with sqlite3.connect(path) as con:
        for user_id, zone, at, active in OLD_REMINDERS:
            con.execute(
                "INSERT INTO users (id, chat_id, first_name, time_zone, created_at)"
                " VALUES (?, ?, 'Ada', ?, ?)",
                (user_id, user_id, zone, stamp),
            )
            next_due = next_due_utc(stored_time(at), ZoneInfo(zone), OLD_NOW) if active else None
            con.execute(
                "INSERT INTO reminders (id, user_id, label, local_time, active, next_due_utc,"
                " created_at) VALUES (?, ?, 'magnesium', ?, ?, ?, ?)",
                (
                    user_id,
                    user_id,
                    at,
                    active,
                    None if next_due is None else next_due.replace(tzinfo=None).isoformat(" "),
                    stamp,
                ),
            )
            if next_due is not None:
                due[user_id] = next_due
        # Yesterday's message to user 1, answered; and one claimed but not sent yet.
        con.execute(
            "INSERT INTO deliveries (id, kind, item_id, user_id, chat_id, local_date,"
            " scheduled_utc, due_utc, status, attempts, reminder_id, label) VALUES (1,"
            " 'reminder', 1, 1, 1, '2026-03-01', '2026-03-01 01:30:00', '2026-03-01 01:30:00',"
            " 'sent', 1, 1, 'magnesium')"
        )
        con.execute(
            "INSERT INTO doses (reminder_id, delivery_id, local_date, status, at_utc)"
            " VALUES (1, 1, '2026-03-01', 'taken', '2026-03-01 01:31:00')"
        )
        con.execute(
            "INSERT INTO deliveries (id, kind, item_id, user_id, chat_id, local_date,"
            " scheduled_utc, due_utc, status, attempts, claimed_at, reminder_id, label)"
            " VALUES (2, 'reminder', 2, 2, 2, '2026-03-01', '2026-03-02 02:00:00',"
            " '2026-03-02 02:00:00', 'claimed', 0, '2026-03-02 02:00:00', 2, 'magnesium')"
        )
        con.execute(
            "INSERT INTO pending (user_id, kind, key, data, asked_at, expires_at) VALUES"
            " (3, 'new_time', '3', '{\"reminder_id\": \"3\"}', ?, '2026-03-03 07:00:00')",
            (stamp,),
        )
    return due


async def test_reminders_from_before_rules_come_at_the_same_instants_after_the_upgrade(
    tmp_path: Path, content: Content
) -> None:
    path = tmp_path / "before_rules.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "004")
    stored_due = seed_before_rules(path)
    await upgrade_to_head(url)
    assert await asyncio.to_thread(schema_drift, url) == []
    with sqlite3.connect(path) as con:
        table_sql = con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reminders'"
        ).fetchone()[0]
        assert "AUTOINCREMENT" in table_sql  # ids are still never reused
        assert con.execute("SELECT count(*) FROM doses").fetchone() == (1,)
        assert con.execute("SELECT hide_labels FROM users").fetchall() == [(0,)] * 4

    clock = FakeClock(OLD_NOW)
    fake = FakeRequest()
    settings = Settings(_env_file=None, telegram_bot_token="123456:TEST", database_url=url)
    app = build_application(settings, request=fake, clock=clock, content=content)
    async with app:
        sessions = deps_of(app).sessions
        async with sessions() as session:
            reminders = {r.id: r for r in await session.scalars(select(Reminder))}
        for user_id, zone, at, active in OLD_REMINDERS:
            reminder = reminders[user_id]
            # The rule is the one the row always meant: that time, every day, no end.
            assert reminder.rule == daily(stored_time(at))
            assert (reminder.stock, reminder.per_dose, reminder.active) == (None, 1, active)
            assert reminder.next_due_utc == stored_due.get(user_id)
            tz = ZoneInfo(zone)
            after = OLD_NOW
            for _ in range(400):  # a year and more of instants, DST changes included
                rule = reminder.rule
                assert rule is not None
                assert next_due(rule, tz, after) == next_due_utc(stored_time(at), tz, after)
                after += timedelta(hours=23)

        # The running dispatcher and sender: the open claim from before, then a week of days.
        async with running(app) as engine:
            await engine.dispatcher.recover(everything=True)
            await engine.drain()
            expected: list[tuple[int, datetime]] = [(2, datetime(2026, 3, 2, 2, tzinfo=UTC))]
            for user_id, due in stored_due.items():
                wall = stored_time(reminders[user_id].local_time)
                user_zone = ZoneInfo(OLD_REMINDERS[user_id - 1][1])
                for _ in range(7):
                    expected.append((user_id, due))
                    due = next_due_utc(wall, user_zone, due)
            for moment in sorted({due for _, due in expected[1:]}):
                clock.set(moment)
                await engine.tick()
                await engine.drain()
        async with sessions() as session:
            sent = list(await session.scalars(select(Delivery).where(Delivery.id > 1)))
        assert sorted((row.item_id, row.scheduled_utc) for row in sent) == sorted(expected)
        assert {row.status for row in sent} == {"sent"}
        assert all("Reminder: magnesium" in text for text in fake.sent_texts())
        # The old question for a new time (asked before the upgrade) is still answered as one.
        clock.set(OLD_NOW + timedelta(hours=1))
        chat = Chat(app, fake, user_id=3)
        assert "now comes every day at 22:15" in await chat.send("22:15")
    await on_shutdown(app)
