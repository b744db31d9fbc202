"""End to end: `python -m bot` as a real process, long-polling a fake Bot API over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.bot_process import bot_env as shared_bot_env
from harness.fake_bot_api_server import FakeBotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:ABC"
STARTUP = 30.0  # seconds: a cold interpreter, imports and migrations (usually about 1 s)


@pytest.fixture
def server() -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(TOKEN) as fake:
        yield fake


def bot_env(base_url: str, tmp_path: Path) -> dict[str, str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}"
    # The most talkative level: the token must not appear even here.
    return shared_bot_env(base_url, database, TOKEN, LOG_LEVEL="DEBUG")


@pytest.mark.parametrize(
    ("suffix", "stop_signal"),
    [("/bot", signal.SIGTERM), ("", signal.SIGINT)],
    ids=["base-url-with-bot-sigterm", "base-url-without-bot-sigint"],
)
def test_bot_answers_over_http_and_stops_cleanly(
    server: FakeBotApiServer, tmp_path: Path, suffix: str, stop_signal: signal.Signals
) -> None:
    base_url = f"http://127.0.0.1:{server.port}{suffix}"
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=bot_env(base_url, tmp_path),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        server.push_message("/start")
        server.push_message("/food almonds")

        welcome = server.wait_for_message(lambda m: "Hi Ada" in m["plain"], timeout=STARTUP)
        assert "magnesium" in welcome["plain"].lower()
        assert welcome["reply_markup"]["inline_keyboard"], "the welcome offers buttons"
        almonds = server.wait_for_message(lambda m: "80 mg" in m["plain"], timeout=10)
        assert "almonds" in almonds["plain"].lower()

        commands = server.wait_for_call("setMyCommands", timeout=5)["commands"]
        assert {"start", "help", "food"} <= {c["command"] for c in commands}
        assert server.bad_token_requests == 0

        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    output = out_path.read_text() + err_path.read_text()
    assert TOKEN not in output
    assert "ABC" not in output
    assert "Traceback" not in output, output


def test_reminder_set_for_the_next_minute_arrives_from_the_running_bot(
    server: FakeBotApiServer, tmp_path: Path
) -> None:
    """/timezone UTC, /remind for the next minute: the running process delivers it on time."""
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=bot_env(f"http://127.0.0.1:{server.port}/bot", tmp_path),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        server.push_message("/timezone UTC")
        server.wait_for_message(lambda m: "UTC" in m["plain"], timeout=STARTUP)
        due = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        server.push_message(f"/remind {due:%H:%M} magnesium citrate")
        confirmation = server.wait_for_message(lambda m: "Reminder set" in m["plain"], timeout=10)
        assert f"{due:%H:%M}" in confirmation["plain"]

        reminder = server.wait_for_message(
            lambda m: m["plain"].startswith("⏰") and "magnesium citrate" in m["plain"],
            timeout=(due - datetime.now(UTC)).total_seconds() + 30,
        )
        delay = reminder["at"] - due.timestamp()
        assert 0 <= delay <= 15, f"arrived {delay:.1f} s after its time"
        labels = [b["text"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
        assert any("Taken" in label for label in labels)
        assert any("Snooze 15 min" in label for label in labels)

        taken = next(
            b["callback_data"]
            for row in reminder["reply_markup"]["inline_keyboard"]
            for b in row
            if "Taken" in b["text"]
        )
        server.push_callback(taken, reminder["message_id"])
        edited = server.wait_for_message(
            lambda m: m["method"] == "editMessageText" and "Taken at" in m["plain"], timeout=10
        )
        assert edited["message_id"] == reminder["message_id"]
        server.wait_for_call("answerCallbackQuery", timeout=5)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    output = out_path.read_text() + err_path.read_text()
    assert TOKEN not in output
    assert "Traceback" not in output, output


def test_week_chart_and_data_export_arrive_as_multipart_uploads(
    server: FakeBotApiServer, tmp_path: Path
) -> None:
    """/week and /mydata from the running process: a PNG photo and a JSON document over HTTP.

    The chart is drawn in the bot's worker process (the default CHART_WORKERS=1)."""
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=bot_env(f"http://127.0.0.1:{server.port}/bot", tmp_path),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        server.push_message("/timezone UTC")
        server.wait_for_message(lambda m: "UTC" in m["plain"], timeout=STARTUP)
        server.push_message("/log almonds 50g")
        server.wait_for_message(lambda m: "Logged for today" in m["plain"], timeout=10)
        server.push_message("/week")
        photo = server.wait_for_message(lambda m: m["method"] == "sendPhoto", timeout=60)
        assert photo["file"]["data"].startswith(b"\x89PNG\r\n\x1a\n")
        assert photo["file"]["file_name"].endswith(".png")
        assert photo["plain"].startswith("📊 Your magnesium, last 7 days")
        assert "Average on the 1 of 7 days with entries: 141 mg a day" in photo["plain"]
        server.push_message("/mydata")
        export = server.wait_for_message(lambda m: m["method"] == "sendDocument", timeout=10)
        data = json.loads(export["file"]["data"])
        assert [e["food_id"] for e in data["diary"]] == ["almonds"]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    output = out_path.read_text() + err_path.read_text()
    assert TOKEN not in output
    assert "Traceback" not in output, output


# -- the fake server itself: it must behave like the Bot API, or the test above proves nothing --


def call(server: FakeBotApiServer, method: str, token: str = TOKEN, **params: Any) -> Any:
    data = urllib.parse.urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    ).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/bot{token}/{method}", data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_fake_server_checks_token_and_methods(server: FakeBotApiServer) -> None:
    assert call(server, "getMe")[1]["result"]["is_bot"] is True
    assert call(server, "getMe", token="123:WRONG")[0] == 401
    status, body = call(server, "frobnicate")
    assert (status, body["ok"]) == (404, False)


def test_fake_server_records_messages_and_checks_html(server: FakeBotApiServer) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = call(
        server, "sendMessage", chat_id="5", text="<b>Hi</b> &amp; bye", parse_mode="HTML",
        reply_markup=markup,
    )  # fmt: skip
    assert status == 200
    assert body["result"]["text"] == "Hi & bye"
    assert server.messages[-1]["reply_markup"] == markup
    message_id = body["result"]["message_id"]
    assert call(server, "sendMessage", chat_id="5", text="<p>x</p>", parse_mode="HTML")[0] == 400
    assert call(server, "sendMessage", chat_id="5", text="a & b", parse_mode="HTML")[0] == 400

    edit = {"chat_id": "5", "message_id": str(message_id), "parse_mode": "HTML"}
    assert call(server, "editMessageText", text="<i>New</i>", **edit)[0] == 200
    assert call(server, "editMessageText", text="<i>New</i>", **edit)[0] == 400  # not modified
    assert server.wait_for_message(lambda m: m["plain"] == "New")["method"] == "editMessageText"


def test_fake_server_long_polls_and_honours_offset(server: FakeBotApiServer) -> None:
    started = time.monotonic()
    assert call(server, "getUpdates", timeout="0")[1]["result"] == []
    assert time.monotonic() - started < 1

    first = server.push_message("/start")
    second = server.push_message("/help")
    updates = call(server, "getUpdates", timeout="1")[1]["result"]
    assert [u["update_id"] for u in updates] == [first, second]
    assert updates[0]["message"]["entities"][0]["type"] == "bot_command"
    updates = call(server, "getUpdates", offset=str(second), timeout="1")[1]["result"]
    assert [u["update_id"] for u in updates] == [second]

    started = time.monotonic()
    assert call(server, "getUpdates", offset=str(second + 1), timeout="0.3")[1]["result"] == []
    assert 0.25 < time.monotonic() - started < 3  # held until the poll timeout

    pusher = threading.Timer(0.2, server.push_message, args=("/foods",))
    pusher.start()
    started = time.monotonic()
    updates = call(server, "getUpdates", offset=str(second + 1), timeout="10")[1]["result"]
    pusher.join()
    assert [u["message"]["text"] for u in updates] == ["/foods"]
    assert time.monotonic() - started < 5  # released as soon as the update arrived
