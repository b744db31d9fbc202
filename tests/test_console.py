"""The offline console: the real bot in a terminal, fed by piped or interactive stdin."""

from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.console.terminal import Console, linger_seconds, visible
from bot.context import BotContext

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60  # seconds; a run takes about one


def console_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "CONSOLE_"))
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}",
        PYTHONIOENCODING="utf-8",
        **extra,
    )
    return env


def run_console(tmp_path: Path, *lines: str, **env: str) -> str:
    """Pipe `lines` into `python -m bot console`; return stdout once it exited with 0."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=console_env(tmp_path, **env),
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def reply_to(output: str, line: str) -> str:
    """What the console printed after the input `line`, up to the next input."""
    marker = f"you> {line}\n"
    assert marker in output, output
    return output.split(marker, 1)[1].split("\nyou> ", 1)[0]


@pytest.fixture(scope="module")
def transcript(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One session for the tests below (a console start costs about a second)."""
    lines = ("/start", "1", "99", "/help", "/frobnicate now", "/food almonds")
    return run_console(tmp_path_factory.mktemp("console"), *lines)


def test_start_shows_the_welcome_and_numbered_buttons(transcript: str) -> None:
    assert "offline" in transcript.lower()
    assert "/quit" in transcript
    reply = reply_to(transcript, "/start")
    assert reply.startswith("bot> Hi Friend! 👋 I help you learn about magnesium and your nerves.")
    assert "<b>" not in reply  # HTML is shown as a person sees it
    assert "  [1] 🥜 Foods  [2] 🩺 Symptoms\n" in reply
    assert "[6] ⏰ Reminders" in reply


def test_a_number_presses_that_button_of_the_last_message(transcript: str) -> None:
    reply = reply_to(transcript, "1")
    assert reply.startswith("(pressed 🥜 Foods)\n")
    assert re.search(r"^bot( \(edited\))?> \S", reply, re.MULTILINE), reply  # it answered
    assert reply_to(transcript, "99").startswith("(no button 99")


def test_help_lists_the_commands(transcript: str) -> None:
    reply = reply_to(transcript, "/help")
    assert "/food – Look up one food" in reply
    assert "/remind – " in reply


def test_an_unknown_command_points_to_help(transcript: str) -> None:
    reply = reply_to(transcript, "/frobnicate now")
    assert "I don't know the command /frobnicate" in reply
    assert "/help" in reply


def test_food_almonds_shows_its_magnesium(transcript: str) -> None:
    reply = reply_to(transcript, "/food almonds")
    assert "80 mg" in reply
    assert "almonds" in reply.lower()


def test_odd_input_never_ends_the_session(tmp_path: Path) -> None:
    output = run_console(
        tmp_path, "", "   ", "/", "5", "/location", "/location 95 10", "é\x00", "x" * 5000, "/help"
    )
    assert "usage: /location" in output
    assert "/food – Look up one food" in reply_to(output, "/help")  # still answering


def test_every_line_is_answered_in_order_and_quit_ends_early(tmp_path: Path) -> None:
    output = run_console(tmp_path, "/help", "/frobnicate", "/quit", "/start")
    assert output.index("What I can do") < output.index("I don't know the command /frobnicate")
    assert "Hi Friend" not in output  # /quit came first


def test_interactive_stdin_is_answered_line_by_line(tmp_path: Path) -> None:
    """Keep stdin open: each reply arrives before the next line is typed (no EOF needed)."""
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=console_env(tmp_path),
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                lines.put(line)

        reader = threading.Thread(target=read)
        reader.start()

        def type_and_wait(line: str, marker: str) -> None:
            assert process.stdin is not None
            process.stdin.write(f"{line}\n")
            process.stdin.flush()
            deadline = time.monotonic() + TIMEOUT
            while marker not in lines.get(timeout=max(0.01, deadline - time.monotonic())):
                pass

        try:
            type_and_wait("/start", "[1] 🥜 Foods")
            type_and_wait("/help", "/food – ")
            process.stdin.close()
            assert process.wait(timeout=TIMEOUT) == 0
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(timeout=5)


def test_scheduled_messages_arrive_while_lingering_at_the_end_of_input(tmp_path: Path) -> None:
    """CONSOLE_LINGER keeps piped sessions open, so scheduled messages can still arrive."""
    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'linger.sqlite3'}"
    )
    out = io.StringIO()
    console = Console(settings, io.StringIO(""), out)

    async def remind(context: BotContext) -> None:
        await context.bot.send_message(chat_id=1, text="⏰ Time for <b>magnesium</b> &amp; water")
        assert context.job is not None
        context.job.schedule_removal()

    assert console.app.job_queue is not None
    console.app.job_queue.run_repeating(remind, interval=0.05)
    asyncio.run(console.run(linger=0.5))
    assert "bot> ⏰ Time for magnesium & water" in out.getvalue()


def test_messages_are_shown_as_plain_text_with_link_addresses() -> None:
    text = 'Per <b>ODS</b> &amp; <a href="https://ods.od.nih.gov/?a=1&amp;b=2">the NIH</a>'
    assert visible(text) == "Per ODS & the NIH (https://ods.od.nih.gov/?a=1&b=2)"
    assert visible('<a href="https://x.org">https://x.org</a>') == "https://x.org"


@pytest.mark.parametrize(("raw", "seconds"), [("2.5", 2.5), ("", 0.0), ("soon", 0.0), ("-1", 0.0)])
def test_console_linger_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, seconds: float
) -> None:
    monkeypatch.setenv("CONSOLE_LINGER", raw)
    assert linger_seconds() == seconds


def test_week_and_mydata_write_files_the_console_names(tmp_path: Path) -> None:
    """A chart and an export arrive as files: saved, shown as [photo] / [document] PATH."""
    files = tmp_path / "received"
    output = run_console(
        tmp_path,
        "/timezone Europe/Berlin",
        "/profile 35 f",
        "/log almonds 50g",
        "/log supplement 400 mg",
        "/today",
        "/week",
        "/mydata",
        CONSOLE_FILES_DIR=str(files),
    )
    today = reply_to(output, "/today")
    assert "🥗 Food: 141 mg of your 320 mg (44%)" in today
    assert "above the upper limit for supplements (350 mg a day)" in today

    week = reply_to(output, "/week")
    match = re.match(r"bot> \[photo\] (\S+\.png)\n", week)
    assert match, week
    chart = Path(match[1])
    assert chart.parent == files
    from PIL import Image

    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 700
    assert "📊 Your magnesium, last 7 days" in week  # the caption follows, as plain text
    assert "<b>" not in week

    export = reply_to(output, "/mydata")
    match = re.match(r"bot> \[document\] (\S+\.json)\n", export)
    assert match, export
    data = json.loads(Path(match[1]).read_text(encoding="utf-8"))
    assert data["profile"]["age_years"] == 35
    assert [entry["mg"] for entry in data["diary"]] == [141.1, 400.0]


def test_without_a_folder_files_go_to_a_new_temporary_one(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'files.sqlite3'}",
        chart_workers=0,
    )
    console = Console(settings, io.StringIO("/timezone UTC\n/week\n"), out)
    asyncio.run(console.run())
    assert console.files_dir is not None
    [chart] = console.files_dir.glob("*.png")
    assert f"bot> [photo] {chart}" in out.getvalue()
    shutil.rmtree(console.files_dir)


def test_a_piped_session_shows_a_stock_warning_and_the_privacy_setting(tmp_path: Path) -> None:
    output = run_console(
        tmp_path,
        "/timezone Europe/Berlin",
        "/remind 08:00 20:00 magnesium",
        "/stock 10",
        "/reminders",
        "/settings",
        "4",
    )
    stock = reply_to(output, "/stock 10")
    assert "magnesium: 10 tablets, 1 a dose. That lasts about 5 days" in stock
    assert "⚠️ That is about 5 days: time to refill soon." in stock
    assert "💊 10 left, about 5 days: time to refill" in reply_to(output, "/reminders")
    settings = reply_to(output, "/settings")
    assert "Reminder labels: shown in notifications" in settings
    assert "[4] 🔒 Hide labels in reminders" in settings
    pressed = reply_to(output, "4")
    assert pressed.startswith("(pressed 🔒 Hide labels in reminders)")
    assert "From now on, reminder notifications don't show their label." in pressed
    assert "[4] 🔓 Show labels in reminders" in pressed
