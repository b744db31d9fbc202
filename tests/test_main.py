"""`python -m bot`: the mode chosen from the arguments and the token; settings from the env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    # Set empty rather than unset, so a developer's .env (read from the cwd) can't add a token.
    env.update(
        TELEGRAM_BOT_TOKEN="",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'main.sqlite3'}",
        PYTHONIOENCODING="utf-8",
        **extra,
    )
    return env


def test_run_without_a_token_exits_with_a_helpful_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(tmp_path),
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert "TELEGRAM_BOT_TOKEN is not set" in done.stderr
    assert "python -m bot console" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_token_and_without_a_mode_the_console_opens(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="/start\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=clean_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "offline" in done.stdout
    assert "Hi Friend" in done.stdout


def test_an_unknown_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["polling"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1, 2", {1, 2}), ("1,2", {1, 2}), ("1 2  3", {1, 2, 3}), ("7", {7}), ("", set())],
)
def test_settings_parse_admin_ids(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: set[int]
) -> None:
    monkeypatch.setenv("ADMIN_IDS", raw)
    assert Settings(_env_file=None).admin_ids == frozenset(expected)


def test_settings_treat_an_empty_token_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    assert Settings(_env_file=None).telegram_bot_token is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.telegram.org/bot"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081/bot"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot"),
    ],
)
def test_settings_base_url_gets_the_bot_suffix_once(given: str | None, expected: str) -> None:
    settings = Settings(_env_file=None, telegram_base_url=given)
    assert settings.base_url == expected
    assert settings.base_file_url == expected.replace("/bot", "/file/bot")
