from __future__ import annotations

import time
from typing import Any

from telegram import Update

from bot.console.fake_api import BOT_USER
from bot.context import BotApp
from tests.support.chat import Chat
from tests.support.fake_request import FakeRequest

GROUP_ID = -1001234


def group_message(app: BotApp, text: str, update_id: int) -> Update:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": GROUP_ID, "type": "supergroup", "title": "Friends"},
        "from": {"id": 7001, "is_bot": False, "first_name": "Grace"},
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return Update.de_json({"update_id": update_id, "message": message}, app.bot)


async def test_in_a_group_only_commands_for_this_bot_are_answered(
    app: BotApp, fake: FakeRequest
) -> None:
    me = BOT_USER["username"]
    await app.process_update(group_message(app, "hello everyone", 901))
    await app.process_update(group_message(app, "/weather@other_bot", 902))
    await app.process_update(group_message(app, "/weather", 903))
    assert fake.sent() == []

    await app.process_update(group_message(app, f"/weather@{me}", 904))
    assert "I don't know the command /weather" in fake.last_text()
    await app.process_update(group_message(app, f"/food@{me} almonds", 905))
    assert "80 mg" in fake.last_text()
    assert {int(p["chat_id"]) for p in fake.sent()} == {GROUP_ID}


async def test_a_channel_post_is_ignored_without_an_error(app: BotApp, fake: FakeRequest) -> None:
    post = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": -1009999, "type": "channel", "title": "News"},
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    await app.process_update(Update.de_json({"update_id": 906, "channel_post": post}, app.bot))
    assert fake.sent() == []


async def test_private_free_text_still_gets_a_pointer(chat: Chat) -> None:
    assert "/help" in await chat.send("hello")
