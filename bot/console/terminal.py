"""The offline console: the real Application, its handlers and database, driven from a terminal.

Only the transport differs from production: Bot API calls are answered in-process by
`FakeBotApi`, and updates come from stdin instead of long polling. The JobQueue runs, so
scheduled messages arrive while the console is open. Piped input is read line by line; each
line is handled completely before the next one. At end of input the console stays open for
`CONSOLE_LINGER` seconds (default 0), then shuts down.

Photos and documents the bot sends (a /week chart, a /mydata export) are saved to a folder,
`CONSOLE_FILES_DIR` or a new temporary one (kept after the console exits, so the files can
be opened), and shown as `[photo] PATH` or `[document] PATH`, then the caption.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application, started
from bot.config import Settings
from bot.console.fake_api import FakeApiRequest, FakeBotApi, SentMessage, strip_html
from bot.context import BotApp

log = logging.getLogger(__name__)

USER = {"id": 1, "is_bot": False, "first_name": "Friend", "language_code": "en"}
CHAT = {"id": 1, "type": "private", "first_name": "Friend"}
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@\w+)?(?=\s|$)")
LINK = re.compile(r"""<a\s+href=(["'])(.*?)\1\s*>(.*?)</a>""", re.DOTALL)
LOCATION_USAGE = "usage: /location LATITUDE LONGITUDE, e.g. /location 52.52 13.40"
BANNER = """\
Magnesium bot, offline console: no Telegram connection, you chat with the bot right here.
Type /start to begin, /help for the commands. A number presses that button of the last
message with buttons. /location 52.52 13.40 shares a location. /quit or Ctrl-D leaves.
"""


def visible(text: str) -> str:
    """Return what a person sees of an HTML message; a link shows its address after the text."""
    return strip_html(
        LINK.sub(
            lambda m: m[3] if strip_html(m[3]) == strip_html(m[2]) else f"{m[3]} ({m[2]})", text
        )
    )


class Console:
    """A chat between one console user and the bot."""

    def __init__(
        self,
        settings: Settings,
        stdin: TextIO,
        stdout: TextIO,
        files_dir: Path | None = None,
    ) -> None:
        """Build the application against an in-process fake Bot API.

        Files the bot sends are saved in `files_dir` (default: a new temporary folder, made
        when the first file arrives).
        """
        self.api = FakeBotApi(on_message=self.show)
        self.files_dir = files_dir
        self.app = build_application(settings, request=FakeApiRequest(self.api))
        self.stdin, self.stdout = stdin, stdout
        self.echo = not stdin.isatty()  # piped input: show what was "typed" in the transcript
        self.with_buttons: tuple[int, int] | None = None  # (chat, message) last shown with buttons
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    def say(self, text: str) -> None:
        """Print a line to the console."""
        print(text, file=self.stdout, flush=True)

    def save(self, message: SentMessage) -> Path:
        """Save the file a message carries; return its path."""
        if message.file is None:
            raise ValueError("the message carries no file")
        if self.files_dir is None:
            self.files_dir = Path(tempfile.mkdtemp(prefix="magnesium-console-"))
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(message.file.filename).name or message.media  # never a path from outside
        path = self.files_dir / f"{message.message_id}-{name}"
        path.write_bytes(message.file.data)
        return path

    def show(self, message: SentMessage, kind: str) -> None:
        """Print a message the bot sent or edited, as a person would see it."""
        who = "bot" if message.chat_id == CHAT["id"] else f"bot → chat {message.chat_id}"
        lines = visible(message.text).splitlines() or [""]
        edited = " (edited)" if kind == "edit" else ""
        if message.media and kind == "new":
            lines = [
                f"[{message.media}] {self.save(message)}",
                *visible(message.text).splitlines(),
            ]
        self.say(f"{who}{edited}> {lines[0]}")
        for line in lines[1:]:
            self.say(f"  {line}" if line else "")
        number = itertools.count(1)
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            self.say("  " + "  ".join(f"[{next(number)}] {button['text']}" for button in row))
        if message.reply_markup and message.reply_markup.get("inline_keyboard"):
            self.with_buttons = (message.chat_id, message.message_id)

    async def run(self, linger: float = 0.0) -> None:
        """Start the bot, chat until /quit or end of input, linger, then shut down cleanly."""
        async with started(self.app):  # the JobQueue runs; there is no polling
            self.say(BANNER)
            await self.chat()
            if linger > 0:
                await asyncio.sleep(linger)  # let scheduled messages arrive

    async def chat(self) -> None:
        """Handle input lines one at a time until /quit or end of input."""
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read() -> None:  # a daemon thread, so a pending read never blocks the exit
            try:
                for line in iter(self.stdin.readline, ""):
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, None)
            except (RuntimeError, ValueError, OSError):  # loop or stdin closed: we are leaving
                return

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        while (line := await lines.get()) is not None:
            text = line.strip()
            if not text:
                continue
            if self.echo:
                self.say(f"you> {text}")
            if text.lower() in ("/quit", "/exit"):
                return
            try:
                await self.handle(text)
            except Exception as exc:  # odd input must never end the session
                log.exception("Console input failed")
                self.say(f"(console: could not send that: {exc})")

    async def handle(self, text: str) -> None:
        """Turn one line into an update (message, location or button press) and process it."""
        if text.isdigit() and self.with_buttons:
            await self.press(int(text))
        elif text.split()[0].lower() == "/location":
            numbers = re.findall(r"-?\d+(?:\.\d+)?", text[len("/location") :])
            if len(numbers) != 2 or abs(float(numbers[0])) > 90 or abs(float(numbers[1])) > 180:
                self.say(LOCATION_USAGE)
                return
            location = {"latitude": float(numbers[0]), "longitude": float(numbers[1])}
            await self.process({"message": self.message(location=location)})
        else:
            await self.process({"message": self.message(text=text[:4096])})

    async def press(self, number: int) -> None:
        """Press button `number` of the last message shown with buttons."""
        stored = self.api.messages.get(self.with_buttons) if self.with_buttons else None
        rows = (stored.reply_markup or {}).get("inline_keyboard", []) if stored else []
        buttons = [button for row in rows for button in row]
        if stored is None or not 1 <= number <= len(buttons):
            where = f"the buttons are numbered 1 to {len(buttons)}" if buttons else "none to press"
            self.say(f"(no button {number}: {where})")
            return
        button = buttons[number - 1]
        if "callback_data" not in button:
            self.say(f"(that button opens {button.get('url', 'something outside the chat')})")
            return
        self.say(f"(pressed {button['text']})")
        query = {
            "id": str(next(self._update_ids)),
            "from": USER,
            "chat_instance": "console",
            "data": button["callback_data"],
            "message": {
                "message_id": stored.message_id,
                "date": stored.date,
                "chat": CHAT,
                "from": {"id": self.app.bot.id, "is_bot": True, "first_name": "Bot"},
                ("caption" if stored.media else "text"): strip_html(stored.text),
            },
        }
        calls = len(self.api.calls)
        await self.process({"callback_query": query})
        for method, params in self.api.calls[calls:]:
            if method == "answerCallbackQuery" and params.get("text"):
                self.say(f"(notice: {params['text']})")

    def message(self, **fields: Any) -> dict[str, Any]:
        """Return a message from the console user, with a command entity for /commands."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": CHAT,
            "from": USER,
            **fields,
        }
        command = COMMAND.match(message.get("text", ""))
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return message

    async def process(self, body: dict[str, Any]) -> None:
        """Process one update to the end (every reply is printed before this returns)."""
        update = Update.de_json({"update_id": next(self._update_ids), **body}, self.app.bot)
        await process_fully(self.app, update)


async def process_fully(app: BotApp, update: Update) -> None:
    """Process an update, then wait for the work it started in the background.

    Non-blocking handlers (a chart being drawn) run as their own tasks; waiting for them keeps
    the transcript in order: every reply to a line is shown before the next line is read.
    """
    before = asyncio.all_tasks()
    await app.process_update(update)
    current = asyncio.current_task()
    while pending := {
        t for t in asyncio.all_tasks() - before if t is not current and not t.done()
    }:
        await asyncio.wait(pending)


def linger_seconds() -> float:
    """Return CONSOLE_LINGER (seconds to stay open at end of input), 0 when unset or invalid."""
    try:
        return max(0.0, float(os.environ.get("CONSOLE_LINGER", "0") or 0))
    except ValueError:
        log.warning("CONSOLE_LINGER must be a number of seconds; using 0")
        return 0.0


def files_dir() -> Path | None:
    """Return CONSOLE_FILES_DIR (where received files are saved), None when unset."""
    chosen = os.environ.get("CONSOLE_FILES_DIR", "").strip()
    return Path(chosen).expanduser() if chosen else None


def run_console(settings: Settings) -> int:
    """Chat with the bot in this terminal; return the exit status."""
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # odd bytes in, emoji out: never crash
    console = Console(settings, sys.stdin, sys.stdout, files_dir())
    try:
        asyncio.run(console.run(linger_seconds()))
    except KeyboardInterrupt:
        console.say("")
    return 0
