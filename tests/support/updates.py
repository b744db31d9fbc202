"""Factories for Telegram updates, built with Update.de_json like real ones."""

from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Bot, Update

USER_ID = 5001
CHAT_ID = 5001

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def _user(user_id: int, first_name: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}


def message_update(
    bot: Bot,
    text: str | None = None,
    *,
    user_id: int = USER_ID,
    chat_id: int | None = None,
    first_name: str = "Ada",
    extra: dict[str, Any] | None = None,
) -> Update:
    """A private message (a command when text starts with '/')."""
    chat_id = user_id if chat_id is None else chat_id
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "from": _user(user_id, first_name),
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if extra:
        message.update(extra)
    return Update.de_json({"update_id": next(_update_ids), "message": message}, bot)


def command_update(bot: Bot, text: str, **kwargs: Any) -> Update:
    return message_update(bot, text, **kwargs)


def location_update(bot: Bot, latitude: float, longitude: float, **kwargs: Any) -> Update:
    return message_update(
        bot, None, extra={"location": {"latitude": latitude, "longitude": longitude}}, **kwargs
    )


def callback_update(
    bot: Bot,
    data: str,
    *,
    user_id: int = USER_ID,
    chat_id: int | None = None,
    message_id: int = 1,
    message_text: str = "…",
    first_name: str = "Ada",
) -> Update:
    """A button press on a message the bot sent (`message_id` should be one it sent)."""
    chat_id = user_id if chat_id is None else chat_id
    return Update.de_json(
        {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(next(_update_ids)),
                "from": _user(user_id, first_name),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                    "from": {"id": 100000, "is_bot": True, "first_name": "Magnesium Bot"},
                    "text": message_text,
                },
            },
        },
        bot,
    )
