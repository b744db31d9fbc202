"""Fuzz: at least 10 000 generated inputs per run through PTB's real dispatch path.

Commands with random arguments, unicode, very long text, HTML-like text, SQL-looking
strings, emoji, empty messages, and button presses with random callback data (and with the
data of buttons the bot really sent, pressed again and again). For every input:

* no exception reaches the error handler;
* every message gets a reply in its chat, every button press gets its callback answered;
* everything the bot sends passes Telegram's rules (HTML parse mode, 4096 characters,
  callback data of 1-64 bytes), checked by two independent parsers.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from telegram import Update

from bot.config import Settings
from bot.console.terminal import process_fully
from bot.content import Content
from bot.context import BotContext
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.reliability import (
    REPLY_CALLS,
    app_on_own_loop,
    markup_of,
    rule_violations,
)
from tests.support.updates import callback_update, message_update

INPUTS_PER_EXAMPLE = 25
EXAMPLES = 400  # x 25 = 10 000 inputs
USERS = (5001, 5002, 5003, 5004)  # a few people, so their rows pile up as in real use

SQL_LIKE = (
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "Robert'); DELETE FROM reminders WHERE ('1'='1",
    '" UNION SELECT id, chat_id FROM users --',
    "%' AND 1=0 UNION ALL SELECT NULL --",
    "; PRAGMA writable_schema=1;",
    "\\x00\\'; SELECT sqlite_version(); --",
)
HTML_LIKE = (
    "<b>bold</b>",
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "a < b & c > d",
    "&amp; &lt; &#x1F600; &bogus;",
    "</i>unbalanced<b>",
    "<tg-spoiler>x</tg-spoiler>",
    "<<>><</>",
)
NEAR_VALID = (
    "almonds",
    "almonds 50g",
    "banana 2",
    "spinach 0g",
    "x 99999999999g",
    "almonds -5",
    "supplement 200 mg",
    "glycinate 400mg",
    "yesterday spinach",
    "supplement -5 mg",
    "yesterday",
    "21:00",
    "9pm",
    "9:30 am",
    "25:99",
    "24:00",
    "00:00",
    "abc",
    "12",
    "9.30",
    "21:00 " + "x" * 300,
    "08:00 20:00 citrate",
    "mon,wed,fri 08:00",
    "mon,xyz 08:00",
    "weekdays 7:30 am",
    "every 2 days 21:00",
    "every 0 days",
    "21:00 x for 30 days",
    "21:00 x for 0 days",
    "21:00 x until 2027-01-31",
    "once tomorrow 09:00 blood test",
    "once 2026-12-24 09:00",
    "once 2020-01-01 09:00",
    "in 30 min tea",
    "60",
    "60 2",
    "off",
    "Europe/Berlin",
    "europe/berlin",
    "UTC+2",
    "GMT-5",
    "UTC+14",
    "UTC-13",
    "new york",
    "berlin",
    "Mars/Olympus",
    "35 f",
    "pregnant 30",
    "200 m",
    "-1 f",
    "6 months",
    "fosamax",
    "water pills",
    "35 x",
    "17 lactating",
)
EMOJI = st.text(
    alphabet=st.sampled_from("😀🧲💊🥦🌙⏰✅🇩🇪👩🏽‍⚕️🫘\u200d\ufe0f"), min_size=1, max_size=30
)
ANY_TEXT = st.text(max_size=80)  # any unicode but surrogates, control characters included
LONG_TEXT = st.builds(
    lambda n, c: (c * n)[:4096], st.integers(1000, 4096), st.sampled_from(["a", "я ", "😀", "<b>"])
)

ARGUMENT = st.one_of(
    st.sampled_from(NEAR_VALID),
    st.sampled_from(SQL_LIKE),
    st.sampled_from(HTML_LIKE),
    ANY_TEXT,
    EMOJI,
    LONG_TEXT,
    st.just(""),
)


@dataclass(frozen=True)
class Say:
    user: int
    text: str | None  # None: a message without text (a sticker, say)


@dataclass(frozen=True)
class Press:
    user: int
    data: str


def callback_data_of(text: str) -> str:
    """Cut random text to Telegram's callback data limits (1-64 bytes)."""
    data = text.encode()[:64].decode(errors="ignore")
    return data or "x"


@st.composite
def inputs(draw: Any, commands: list[str], seen_buttons: list[str]) -> Say | Press:
    """One input: mostly commands, then free text, empty messages and button presses."""
    user = draw(st.sampled_from(USERS))
    kind = draw(st.integers(0, 9))
    if kind <= 4:  # a command with arguments
        name = draw(st.sampled_from(commands))
        arg = draw(ARGUMENT)
        return Say(user, f"/{name} {arg}".strip()[:4096])
    if kind == 5:  # free text of any sort
        return Say(
            user,
            draw(
                st.one_of(
                    ANY_TEXT,
                    EMOJI,
                    LONG_TEXT,
                    st.sampled_from(SQL_LIKE),
                    st.sampled_from(HTML_LIKE),
                )
            ),
        )
    if kind == 6:  # empty text, or no text at all
        return Say(user, draw(st.sampled_from(["", " ", "\n", None])))
    if kind == 7:  # a real button, maybe stale, maybe someone else's
        # An index, not sampled_from(seen_buttons): the strategy must not depend on state.
        index = draw(st.integers(0, 2**16))
        pool = seen_buttons or PREFIXES
        return Press(user, pool[index % len(pool)])
    if kind == 8:  # a real-looking button with a changed id or suffix
        prefix = draw(st.sampled_from(PREFIXES))
        suffix = draw(st.one_of(st.integers(-5, 10**12).map(str), ANY_TEXT, st.just("")))
        return Press(user, callback_data_of(prefix + suffix))
    return Press(user, callback_data_of(draw(st.text(min_size=1, max_size=64))))


PREFIXES = (
    "menu:foods",
    "menu:symptoms",
    "menu:supplements",
    "menu:fact",
    "menu:subscribe",
    "menu:reminders",
    "foods:top:",
    "foods:cat:",
    "foods:t100:",
    "foods:c100:",
    "int:index",
    "int:group:",
    "int:show:",
    "food:show:",
    "fact:next",
    "faq:",
    "faq:list",
    "rmd:pause:",
    "rmd:resume:",
    "rmd:del:",
    "rmd:delok:",
    "rmd:time:",
    "rmd:edit:",
    "rmd:days:",
    "rmd:label:",
    "rmd:course:",
    "rmd:stock:",
    "rmd:list",
    "rmd:cancel",
    "stk:",
    "set:labels:hide",
    "set:labels:show",
    "sub:on",
    "tz:set:",
    "tz:menu",
    "tip:next",
    "tip:stop",
    "rem:taken:",
    "rem:skip:",
    "rem:snooze15:",
    "rem:snooze60:",
    "prof:age:",
    "prof:sex:",
    "prof:st:",
    "prof:edit",
    "prof:clear",
    "dia:log:",
    "dia:del:",
    "dia:undo:",
    "forget:yes:",
    "forget:no",
    "rem:show:",
    "rem:refill:",
)


def test_ten_thousand_generated_inputs_all_answered_within_telegrams_rules(
    settings: Settings, fake: FakeRequest, clock: FakeClock, content: Content
) -> None:
    errors: list[tuple[object, BaseException | None]] = []

    async def spy(update: object, context: BotContext) -> None:
        errors.append((update, context.error))

    commands = [c.name for c in content.commands] + ["rda", "nosuchcommand", "START", "food@bot"]
    seen_buttons: list[str] = []
    handled = [0]
    rng = random.Random(5)

    with app_on_own_loop(settings, fake, clock, content) as (app, loop):
        app.add_error_handler(spy)

        def feed(item: Say | Press) -> None:
            before = len(fake.calls)
            if isinstance(item, Say):
                update = message_update(app.bot, item.text, user_id=item.user)
            else:
                mine = [mid for (chat, mid) in fake.api.messages if chat == item.user]
                message_id = rng.choice(mine) if mine else 1
                if not mine:
                    fake.api.remember(item.user, message_id, "an old message")
                shown = fake.api.messages[(item.user, message_id)].text
                update = callback_update(
                    app.bot,
                    item.data,
                    user_id=item.user,
                    message_id=message_id,
                    message_text=re.sub(r"<[^>]+>", "", shown)[:4096] or "…",
                )
            loop.run_until_complete(process_fully(app, update))  # charts run in the background
            handled[0] += 1
            calls = fake.calls[before:]
            assert not errors, f"{item!r} reached the error handler: {errors[-1][1]!r}"
            for method, params in calls:
                problems = rule_violations(method, params)
                assert not problems, f"{item!r} -> {method}: {problems}"
                for row in markup_of(params).get("inline_keyboard", []):
                    for button in row:
                        data = button.get("callback_data")
                        if data and data not in seen_buttons and len(seen_buttons) < 2000:
                            seen_buttons.append(data)
            if isinstance(item, Say):
                replies = [
                    p for m, p in calls if m in REPLY_CALLS and int(p["chat_id"]) == item.user
                ]
                assert replies, f"no reply to {item!r}"
            else:
                assert isinstance(update, Update)
                assert update.callback_query is not None
                answers = [
                    p
                    for m, p in calls
                    if m == "answerCallbackQuery"
                    and p.get("callback_query_id") == update.callback_query.id
                ]
                assert len(answers) == 1, f"{item!r} answered {len(answers)} times: {calls}"
            if len(fake.calls) > 5000:
                fake.clear()  # keep the record small; messages stay for later presses

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            # CI replays the same inputs on every run; a developer's run explores new ones.
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def run(data: st.DataObject) -> None:
            for _ in range(INPUTS_PER_EXAMPLE):
                feed(data.draw(inputs(commands, seen_buttons)))

        run()

    assert handled[0] >= 10_000
    assert len(seen_buttons) > 20  # the fuzz reached deep: buttons of many features
