"""Reliability checks: fuzzing, DST over a year, downtime, blocked users, floods, security.

Helpers shared by these tests live here: the real application on its own event loop (for
hypothesis, whose tests are synchronous), and Telegram's rules for what the bot sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from bot.app import build_application
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.render import MAX_CALLBACK_DATA, MAX_TEXT, TelegramHtmlError, check_html
from harness.fake_bot_api_server import ApiError, plain_text
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.timer import VirtualTimer

MESSAGE_CALLS = ("sendMessage", "editMessageText")
FILE_CALLS = ("sendPhoto", "sendDocument")  # a caption instead of a text
REPLY_CALLS = ("sendMessage", *FILE_CALLS)  # what counts as answering a message
MAX_CAPTION = 1024


@contextmanager
def app_on_own_loop(
    settings: Settings, fake: FakeRequest, clock: FakeClock, content: Content
) -> Iterator[tuple[BotApp, asyncio.AbstractEventLoop]]:
    """The real application, initialised on a private event loop (for synchronous tests)."""
    loop = asyncio.new_event_loop()
    app = build_application(settings, request=fake, clock=clock, content=content)
    virtual_time(app)
    loop.run_until_complete(app.initialize())
    try:
        yield app, loop
    finally:
        loop.run_until_complete(app.shutdown())
        loop.run_until_complete(app.bot_data["deps"].engine.dispose())
        loop.close()


def virtual_time(app: BotApp) -> PriorityRateLimiter:
    """Put the token's rate limiter on virtual time: no test waits on the wall clock."""
    limiter = cast(PriorityRateLimiter, app.bot.rate_limiter)
    limiter.timer = VirtualTimer()
    return limiter


def markup_of(params: dict[str, Any]) -> dict[str, Any]:
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        markup = markup.to_dict()
    return dict(markup)


def rule_violations(method: str, params: dict[str, Any]) -> list[str]:
    """Return how one call breaks Telegram's rules (empty when it is fine).

    Two independent checks of the HTML: the bot's own `check_html` and the e2e fake server's
    parser; then the visible length (UTF-16 units), and every button's callback data.
    """
    problems: list[str] = []
    if method in MESSAGE_CALLS:
        text = str(params.get("text", ""))
        mode = params.get("parse_mode")
        if mode not in (None, "HTML"):
            problems.append(f"unexpected parse mode {mode!r}")
        plain = text
        if mode == "HTML":
            try:
                check_html(text)
                plain = plain_text(text, "HTML")
            except (TelegramHtmlError, ApiError) as exc:
                problems.append(f"invalid HTML ({exc}): {text[:200]!r}")
        if not plain.strip():
            problems.append("empty message text")
        if len(plain.encode("utf-16-le")) // 2 > MAX_TEXT:
            problems.append(f"text of {len(plain)} characters")
    if method in FILE_CALLS:
        caption = str(params.get("caption", ""))
        plain = caption
        if params.get("parse_mode") == "HTML":
            try:
                check_html(caption)
                plain = plain_text(caption, "HTML")
            except (TelegramHtmlError, ApiError) as exc:
                problems.append(f"invalid caption HTML ({exc}): {caption[:200]!r}")
        if len(plain.encode("utf-16-le")) // 2 > MAX_CAPTION:
            problems.append(f"caption of {len(plain)} characters")
        field = "photo" if method == "sendPhoto" else "document"
        upload = params.get(field)
        if not getattr(upload, "data", b""):
            problems.append(f"{method} without a file")
    for row in markup_of(params).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                problems.append(f"callback data of {len(str(data).encode())} bytes: {data!r}")
            if not button.get("text"):
                problems.append("a button without a label")
    if method == "answerCallbackQuery" and len(str(params.get("text") or "")) > 200:
        problems.append("callback answer over 200 characters")
    return problems
