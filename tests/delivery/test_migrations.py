"""`alembic upgrade head` on an empty database of each kind gives exactly the models' schema."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.models import Base
from bot.db.session import alembic_config, upgrade_to_head_sync
from tests.support.env import POSTGRES_URL


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
