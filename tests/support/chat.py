"""A person chatting with the bot through PTB's real dispatch path."""

from __future__ import annotations

from typing import Any

from bot.console.fake_api import strip_html
from bot.console.terminal import process_fully
from bot.context import BotApp
from tests.support.fake_request import FakeRequest
from tests.support.updates import USER_ID, callback_update, location_update, message_update


class Chat:
    """Send messages and press buttons as one user; read what the bot answered."""

    def __init__(self, app: BotApp, fake: FakeRequest, user_id: int = USER_ID) -> None:
        self.app = app
        self.fake = fake
        self.user_id = user_id

    async def send(self, text: str, **kwargs: Any) -> str:
        """Send a message; return the bot's replies as a person sees them (files as captions)."""
        before = len(self.fake.reply_texts(self.user_id))
        await process_fully(
            self.app, message_update(self.app.bot, text, user_id=self.user_id, **kwargs)
        )
        replies = self.fake.reply_texts(self.user_id)[before:]
        return "\n---\n".join(replies)

    async def send_location(self, latitude: float, longitude: float) -> str:
        before = len(self.fake.sent(self.user_id))
        await process_fully(
            self.app, location_update(self.app.bot, latitude, longitude, user_id=self.user_id)
        )
        return "\n---\n".join(self.fake.sent_texts(self.user_id)[before:])

    def last_message_id(self) -> int:
        """The id of the last message the bot sent to this chat."""
        ids = [mid for (chat, mid) in self.fake.api.messages if chat == self.user_id]
        assert ids, "the bot sent nothing to this chat"
        return max(ids)

    async def press(self, data: str, message_id: int | None = None) -> None:
        """Press a button (by callback data) on a message (default: the last one sent)."""
        message_id = self.last_message_id() if message_id is None else message_id
        stored = self.fake.api.messages.get((self.user_id, message_id))
        await process_fully(
            self.app,
            callback_update(
                self.app.bot,
                data,
                user_id=self.user_id,
                message_id=message_id,
                # As Telegram does: the message comes back as plain text, entities aside.
                message_text=strip_html(stored.text) if stored else "…",
            ),
        )

    def buttons(self) -> list[tuple[str, str]]:
        return self.fake.buttons()

    def button(self, label_part: str) -> str:
        """The callback data of the (last message's) button whose label contains label_part."""
        for label, data in self.fake.buttons():
            if label_part.lower() in label.lower():
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.fake.buttons()}")
