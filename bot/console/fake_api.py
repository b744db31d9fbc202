"""An in-process stand-in for the Telegram Bot API, used by the offline console and the tests.

It answers the methods this bot calls the way Telegram does (same result objects, same error
descriptions), and it is strict where Telegram is strict: HTML that Telegram's parser would
reject, text over 4096 characters, captions over 1024, callback data over 64 bytes, and a
photo that is not an image get a 400 Bad Request. Photos and documents arrive as multipart
uploads (PTB's `RequestData.multipart_data`) and are kept with the message.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.render import (
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    TelegramHtmlError,
    check_html,
    visible_length,
)

BOT_USER = {
    "id": 100000,
    "is_bot": True,
    "first_name": "Magnesium Bot",
    "username": "magnesium_nerves_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

Answer = tuple[int, dict[str, Any]]
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limits for uploads by bots
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


class ApiError(Exception):
    """A Bot API error answer (status code and description)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        """Keep the answer's parts."""
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def strip_html(text: str) -> str:
    """Return what a person sees of an HTML message: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded (one part of a multipart request)."""

    filename: str
    data: bytes
    mime_type: str


@dataclass
class SentMessage:
    """A message the bot has sent (as the fake API keeps it)."""

    message_id: int
    chat_id: int
    text: str  # as sent, with HTML (a photo's or document's caption)
    reply_markup: dict[str, Any] | None
    date: int
    media: str = ""  # "photo" or "document"; "" for a text message
    file: UploadedFile | None = None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, (0, 0) for a JPEG, None for anything else."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(JPEG_SIGNATURE):
        return 0, 0
    return None


@dataclass
class FakeBotApi:
    """The state and the answers of a fake Bot API server."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[tuple[int, int], SentMessage] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    on_message: Callable[[SentMessage, str], None] | None = None  # console printing hook
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def handle(self, method: str, params: dict[str, Any]) -> Answer:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        self.calls.append((method, params))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = handler(params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return exc.code, body
        return 200, {"ok": True, "result": result}

    # -- checks --------------------------------------------------------------------------------

    @staticmethod
    def _check_text(params: dict[str, Any]) -> str:
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if params.get("parse_mode") == "HTML":
            try:
                check_html(text)
            except TelegramHtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
            length = visible_length(text)
        else:
            length = len(text.encode("utf-16-le")) // 2
        if length > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
        return dict(markup)

    @staticmethod
    def _check_caption(params: dict[str, Any]) -> str:
        caption = str(params.get("caption", ""))
        if params.get("parse_mode") == "HTML":
            try:
                check_html(caption)
            except TelegramHtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
            length = visible_length(caption)
        else:
            length = len(caption.encode("utf-16-le")) // 2
        if length > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return caption

    @staticmethod
    def _check_file(params: dict[str, Any], field_name: str, limit: int) -> UploadedFile:
        upload = params.get(field_name)
        if not isinstance(upload, UploadedFile):  # ids and URLs of known files are not kept
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(upload.data) > limit:
            raise ApiError(400, "Bad Request: file is too big")
        return upload

    def _message_dict(self, message: SentMessage) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": BOT_USER,
            "chat": {"id": message.chat_id, "type": "private" if message.chat_id > 0 else "group"},
            "date": message.date,
        }
        upload = message.file
        if message.media and upload is not None:
            file_id = f"{message.media}-{message.message_id}"
            if message.media == "photo":
                width, height = image_size(upload.data) or (0, 0)
                result["photo"] = [
                    {
                        "file_id": file_id,
                        "file_unique_id": file_id,
                        "width": width,
                        "height": height,
                        "file_size": len(upload.data),
                    }
                ]
            else:
                result["document"] = {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_name": upload.filename,
                    "mime_type": upload.mime_type,
                    "file_size": len(upload.data),
                }
            if message.text:
                result["caption"] = strip_html(message.text)
        else:
            result["text"] = strip_html(message.text)
        if message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    # -- methods -------------------------------------------------------------------------------

    def _m_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands", [])
        if isinstance(commands, str):
            commands = json.loads(commands)
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _m_getupdates(self, params: dict[str, Any]) -> Any:
        return []

    def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        text = self._check_text(params)
        markup = self._check_markup(params)
        chat_id = int(params["chat_id"])
        message = SentMessage(next(self._ids), chat_id, text, markup, int(time.time()))
        self.messages[(chat_id, message.message_id)] = message
        if self.on_message:
            self.on_message(message, "new")
        return self._message_dict(message)

    def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        return self._send_media(params, "photo", MAX_PHOTO_BYTES)

    def _m_senddocument(self, params: dict[str, Any]) -> Any:
        return self._send_media(params, "document", MAX_DOCUMENT_BYTES)

    def _send_media(self, params: dict[str, Any], media: str, limit: int) -> Any:
        caption = self._check_caption(params)
        markup = self._check_markup(params)
        upload = self._check_file(params, media, limit)
        if media == "photo":
            size = image_size(upload.data)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            width, height = size
            if width + height > 10_000 or (
                width and height and max(width, height) > 20 * min(width, height)
            ):
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        chat_id = int(params["chat_id"])
        message = SentMessage(
            next(self._ids), chat_id, caption, markup, int(time.time()), media=media, file=upload
        )
        self.messages[(chat_id, message.message_id)] = message
        if self.on_message:
            self.on_message(message, "new")
        return self._message_dict(message)

    def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        text = self._check_text(params)
        markup = self._check_markup(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.media:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if message.text == text and message.reply_markup == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.reply_markup = text, markup
        if self.on_message:
            self.on_message(message, "edit")
        return self._message_dict(message)

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        markup = self._check_markup(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        message.reply_markup = markup
        if self.on_message:
            self.on_message(message, "edit")
        return self._message_dict(message)

    def _m_deletemessage(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    # -- helpers for callers --------------------------------------------------------------------

    def remember(self, chat_id: int, message_id: int, text: str) -> None:
        """Record a message as if it had been sent (for button presses on old messages)."""
        self.messages[(chat_id, message_id)] = SentMessage(
            message_id, chat_id, text, None, int(time.time())
        )


class FakeApiRequest(BaseRequest):
    """A PTB request object that answers from a FakeBotApi instead of the network."""

    def __init__(self, api: FakeBotApi | None = None) -> None:
        """Answer from `api` (a new one when not given)."""
        self.api = api or FakeBotApi()

    @property
    def read_timeout(self) -> float | None:
        """Return the read timeout (none: answers are immediate)."""
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer the call from the fake API."""
        return self._answer(*self._parse(url, request_data))

    @staticmethod
    def _parse(url: str, request_data: RequestData | None) -> tuple[str, dict[str, Any]]:
        """Return the method a call names (the URL's last part) and its parameters.

        Uploaded files (the multipart part of the request) become `UploadedFile` values.
        """
        endpoint = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mime_type) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = UploadedFile(filename or name, data, mime_type or "")
        return endpoint, params

    def _answer(self, endpoint: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """Answer one parsed call: the HTTP status and the JSON body."""
        status, body = self.api.handle(endpoint, params)
        return status, json.dumps(body).encode()
