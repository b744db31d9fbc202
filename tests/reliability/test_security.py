"""Security: the token never reaches a log, admin commands refuse others, SQL stays text."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, BotContext, deps_of
from bot.db.models import Reminder, User
from bot.db.session import upgrade_to_head_sync
from harness.fake_bot_api_server import ApiError, FakeBotApiServer, Record
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.env import ADMIN_ID
from tests.support.fake_request import BLOCKED, FakeRequest, TimedOut, flood
from tests.support.schedules import running

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "987654:SECRET-token-never-logged"
SECRET = TOKEN.split(":")[1]
SQL_LABEL = "Robert'); DROP TABLE reminders; -- <b>&</b>"


class StrictServer(FakeBotApiServer):
    """The e2e fake Bot API, plus a chat that has blocked the bot."""

    def __init__(self, token: str, blocked_chat: int) -> None:
        super().__init__(token)
        self.blocked_chat = blocked_chat

    def _m_sendmessage(self, params: Record) -> Any:
        if self._chat_id(params) == self.blocked_chat:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return super()._m_sendmessage(params)


def seed_due(db: Path, users: list[int], now: datetime) -> None:
    """Users with a tip and a reminder due 30 s ago (the first tick sends them)."""
    upgrade_to_head_sync(f"sqlite+aiosqlite:///{db}")
    stamp = (now - timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S.%f")
    local = (now - timedelta(seconds=30)).strftime("%H:%M")
    con = sqlite3.connect(db)
    with con:
        for user in users:
            con.execute(
                "INSERT INTO users (id, chat_id, first_name, language, time_zone, created_at)"
                " VALUES (?, ?, 'Eve', 'en', 'UTC', ?)",
                (user, user, stamp),
            )
            con.execute(
                "INSERT INTO tip_subscriptions (user_id, local_time, active, next_due_utc,"
                " rotation, \"cursor\", created_at) VALUES (?, ?, 1, ?, '', 0, ?)",
                (user, local, stamp, stamp),
            )
            con.execute(
                "INSERT INTO reminders (user_id, label, local_time, active, next_due_utc,"
                " created_at) VALUES (?, 'zinc', ?, 1, ?, ?)",
                (user, local, stamp, stamp),
            )
    con.close()


def sends_to(server: FakeBotApiServer, chat_id: int) -> list[Record]:
    return [p for m, p in server.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id]


def test_the_token_never_appears_in_the_logs_of_a_full_run(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    seed_due(db, [7101, 7102], datetime.now(UTC))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "ADMIN_")) and "proxy" not in k.lower()
    }
    with StrictServer(TOKEN, blocked_chat=7102) as server:
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=server.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{db}",
            LOG_LEVEL="DEBUG",  # the most talkative level
            ADMIN_IDS="7001",
            NO_PROXY="127.0.0.1",
            PYTHONIOENCODING="utf-8",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            for text in (
                "/start",
                "/timezone Europe/Berlin",
                f"/remind 21:00 {SQL_LABEL}",
                "/reminders",
                "/admin",
                "/food almonds",
                "/nosuchcommand",
                "<b>hi",
            ):
                server.push_message(text)
            server.wait_for_message(lambda m: m["chat_id"] == 7101 and "zinc" in m["plain"], 30)
            server.wait_for_message(lambda m: "Tip" in m["plain"] and m["chat_id"] == 7101, 30)
            server.wait_for_message(lambda m: "nosuchcommand" in m["plain"], 30)
            server.wait_for(lambda: sends_to(server, 7102), 10, "a send to the blocked chat")
            process.terminate()
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
    log = output.decode(errors="replace")
    assert process.returncode == 0, log[-3000:]
    assert "Forbidden" in log  # the log covered an error path (the blocked chat)
    assert "Dispatcher" in log
    assert TOKEN not in log
    assert SECRET not in log
    assert server.bad_token_requests == 0


@pytest.mark.error_handler_expected  # a reply fails on purpose: its traceback is logged
async def test_the_token_never_appears_in_captured_logs(
    app: BotApp, chat: Chat, fake: FakeRequest, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "bot", "sqlalchemy", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    token = deps_of(app).settings.telegram_bot_token
    assert token is not None
    await chat.send("/start")
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 magnesium")
    await chat.send("/tip")
    fake.fail_chat(chat.user_id, BLOCKED, times=1)
    fake.raise_for_chat(chat.user_id, TimedOut("Timed out"), times=1)
    fake.fail_chat(chat.user_id, flood(1), times=1)
    clock.advance(hours=13)
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
    await chat.send("/help")  # the error handler: the reply fails once more
    secret = token.get_secret_value()
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert "Forbidden" in messages  # the 403 path
    assert "Error while handling update" in messages  # the error handler, with a traceback
    assert "slow down" in messages  # the 429 path
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "") + repr(record.args)
        assert secret not in text
        assert secret.split(":")[1] not in text
    assert secret not in caplog.text


async def test_admin_commands_refuse_everyone_else(
    app: BotApp, fake: FakeRequest, content: Content
) -> None:
    stranger = Chat(app, fake, user_id=5555)
    unknown = await stranger.send("/nosuchcommand")
    for text in ("/admin", "/admin users", "/ADMIN", "/admin@magnesium_nerves_bot"):
        answer = await stranger.send(text)
        # Word for word what an unknown command gets: /admin's existence is not revealed.
        assert answer.lower() == unknown.replace("/nosuchcommand", "/admin").lower(), text
    assert "/admin" not in await stranger.send("/help")
    admin = Chat(app, fake, user_id=ADMIN_ID)
    answer = await admin.send("/admin")
    assert "don't know" not in answer
    header = content.texts.raw("admin.header")
    assert header.replace("<b>", "").replace("</b>", "").strip() in answer
    assert "/admin" in await admin.send("/help")


async def test_sql_looking_input_is_stored_and_shown_literally(
    app: BotApp, chat: Chat, fake: FakeRequest, clock: FakeClock, settings: Settings
) -> None:
    errors: list[BaseException | None] = []

    async def spy(update: object, context: BotContext) -> None:
        errors.append(context.error)

    app.add_error_handler(spy)
    await chat.send("/timezone Europe/Berlin")
    answer = await chat.send(f"/remind 21:00 {SQL_LABEL}")
    assert SQL_LABEL in answer  # shown as typed: the HTML-looking part too
    assert SQL_LABEL in await chat.send("/reminders")
    await chat.send("/timezone '; DROP TABLE users; --")
    await chat.send("/food ' OR 1=1 --")
    await chat.send("/subscribe 09:00'; DELETE FROM tip_subscriptions; --")
    await chat.send("'; UPDATE users SET blocked_at = NULL; --")

    sessions = deps_of(app).sessions
    async with sessions() as session:
        [label] = list(await session.scalars(select(Reminder.label)))
        user = await session.get(User, chat.user_id)
        users = await session.scalar(select(func.count()).select_from(User))
    assert label == SQL_LABEL
    assert user is not None
    assert user.time_zone == "Europe/Berlin"
    assert users == 1

    clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=UTC))  # 21:00 in Berlin
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
    assert any(SQL_LABEL in text for text in fake.sent_texts(chat.user_id)[-1:])
    assert errors == []
