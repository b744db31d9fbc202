"""Webhook mode: its settings, and `python -m bot` serving a webhook against a fake Bot API."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.config import Settings
from harness.bot_process import bot_env
from harness.fake_bot_api_server import FakeBotApiServer
from harness.webhook import get_json, post_update

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:WEBHOOK-token"
SECRET = "webhook_Secret-42"
STARTUP = 30.0  # seconds: a cold interpreter, imports and migrations (usually about 1 s)

# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org/telegram", "/telegram"),
        ("https://bot.example.org:8443/a/b/", "/a/b/"),
        ("https://bot.example.org", "/"),
        ("http://127.0.0.1:8080/hook", "/hook"),
        ("http://localhost/hook", "/hook"),
        ("http://[::1]:8443/hook", "/hook"),
    ],
)
def test_webhook_urls_that_work(url: str, path: str) -> None:
    settings = Settings(_env_file=None, webhook_url=url, webhook_secret=SECRET)
    assert settings.webhook_url == url
    assert settings.webhook_path == path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhook_url": "http://bot.example.org/hook"}, "must start with https://"),
        ({"webhook_url": "http://10.0.0.5/hook"}, "must start with https://"),
        ({"webhook_url": "bot.example.org/hook"}, "must be a full address"),
        ({"webhook_url": "ftp://bot.example.org/hook"}, "must be a full address"),
        ({"webhook_url": "https:///hook"}, "must be a full address"),
        ({"webhook_url": "https://bot.example.org/hook?x=1"}, "must not have a query"),
        ({"webhook_secret": "has space"}, "WEBHOOK_SECRET must be 1-256 characters"),
        ({"webhook_secret": "semi;colon"}, "WEBHOOK_SECRET must be 1-256 characters"),
        ({"webhook_secret": "x" * 257}, "WEBHOOK_SECRET must be 1-256 characters"),
        ({"webhook_secret": ""}, "WEBHOOK_SECRET is required with WEBHOOK_URL"),
        ({"webhook_secret": None}, "WEBHOOK_SECRET is required with WEBHOOK_URL"),
    ],
)
def test_webhook_settings_that_are_refused_say_why(values: dict[str, Any], message: str) -> None:
    given = {"webhook_url": "https://bot.example.org/hook", "webhook_secret": SECRET, **values}
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **given)
    assert message in str(refused.value)


def test_without_a_webhook_url_the_bot_polls_and_needs_no_secret() -> None:
    settings = Settings(_env_file=None, webhook_url="", webhook_secret="")
    assert settings.webhook_url is None
    assert settings.webhook_secret is None


def test_python_m_bot_names_the_wrong_setting_without_echoing_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "http://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "not a valid secret")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "The settings are not valid:" in err
    assert "WEBHOOK_URL: WEBHOOK_URL must start with https://" in err
    assert "WEBHOOK_SECRET: WEBHOOK_SECRET must be 1-256 characters" in err
    assert "not a valid secret" not in err
    assert "Traceback" not in err


# -- `python -m bot` in webhook mode -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(TOKEN) as fake:
        yield fake


def wait_healthy(url: str, timeout: float) -> tuple[int, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get_json(url, timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_webhook_mode_sets_the_webhook_checks_the_secret_and_answers_healthz(
    server: FakeBotApiServer, tmp_path: Path
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    env = bot_env(
        server.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'webhook.sqlite3'}",
        TOKEN,
        WEBHOOK_URL=hook,
        WEBHOOK_SECRET=SECRET,
        LISTEN="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="DEBUG",  # the most talkative level: neither secret may appear even here
    )
    out_path = tmp_path / "bot.log"
    with out_path.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        server.wait_for(lambda: server.webhook, STARTUP, "setWebhook")
        assert server.webhook == {
            "url": hook,
            "secret_token": SECRET,
            "allowed_updates": ["message", "callback_query"],
        }
        health = wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health == (200, {"database": "ok", "delivery_leader": True})

        # Refused: no update is queued, so nothing answers them (updates are handled in order).
        assert post_update(hook, server.message_update("/food almonds"), "wrong-secret") == 403
        assert post_update(hook, server.message_update("/food almonds"), None) == 403
        assert post_update(hook, {"no": "update"}, SECRET) == 400
        assert post_update(hook, server.message_update("/start"), SECRET) == 200
        welcome = server.wait_for_message(lambda m: "Hi Ada" in m["plain"], timeout=10)
        assert "magnesium" in welcome["plain"].lower()
        assert not [m for m in server.messages if "80 mg" in m["plain"]]
        assert post_update(hook, server.message_update("/food almonds"), SECRET) == 200
        server.wait_for_message(lambda m: "80 mg" in m["plain"], timeout=10)

        assert "getUpdates" not in [method for method, _ in server.calls]  # no polling
        assert server.bad_token_requests == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    output = out_path.read_text()
    assert TOKEN.split(":")[1] not in output
    assert SECRET not in output
    assert "Traceback" not in output, output


# -- the fake server's webhook side: it must behave like the Bot API, or the test above proves
# nothing --


def call(server: FakeBotApiServer, method: str, **params: Any) -> tuple[int, Any]:
    data = urllib.parse.urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    ).encode()
    request = urllib.request.Request(f"{server.base_url}{TOKEN}/{method}", data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_fake_server_checks_set_webhook_and_refuses_polling_while_one_is_set(
    server: FakeBotApiServer,
) -> None:
    assert (
        call(server, "setWebhook", url="https://x.org/hook", secret_token="bad secret")[0] == 400
    )
    assert call(server, "setWebhook", url="no-url")[0] == 400
    assert call(server, "getUpdates", timeout="0")[0] == 200  # no webhook yet: polling works
    hook = {"url": "https://x.org/hook", "secret_token": SECRET, "allowed_updates": ["message"]}
    assert call(server, "setWebhook", **hook)[0] == 200
    assert server.webhook == hook
    assert call(server, "getWebhookInfo")[1]["result"]["url"] == "https://x.org/hook"
    status, body = call(server, "getUpdates", timeout="0")
    assert (status, body["error_code"]) == (409, 409)  # as Telegram: not while a webhook is set
    assert call(server, "deleteWebhook")[0] == 200
    assert call(server, "getUpdates", timeout="0")[0] == 200
