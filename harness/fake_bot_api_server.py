"""A fake Telegram Bot API over real HTTP, for end-to-end tests of `python -m bot`.

Written from the Bot API documentation, independently of `bot.console.fake_api`, so it checks
the bot (PTB's HTTP client, our base URL handling, form-encoded parameters) against the API.
Stdlib only: an `http.server` in a thread, bound to 127.0.0.1 on a free port. The pieces that
are not specific to these tests (errors, the HTML check, message shapes, the HTTP front with its
update queue) are shared with the benchmarks' server, `bench/fakeapi.py`.

    with FakeBotApiServer(token="123:ABC") as server:
        ... start the bot with TELEGRAM_BASE_URL=server.base_url ...
        server.push_message("/start")
        reply = server.wait_for_message(lambda m: "Hi" in m["plain"], timeout=20)
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

BOT_USER = {
    "id": 123,
    "is_bot": True,
    "first_name": "Test Bot",
    "username": "test_magnesium_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
USER_ID = 7001
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # setWebhook's secret_token
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
TAGS |= {"code", "pre", "blockquote", "tg-emoji"}
ENTITIES = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")

Record = dict[str, Any]


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, and a 429's retry_after."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _HtmlCheck(HTMLParser):
    """Rejects what Telegram's HTML parse mode rejects: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')


def plain_text(text: str, parse_mode: str | None) -> str:
    """Return the text a client shows: HTML checked, tags removed, entities decoded."""
    if (parse_mode or "").upper() != "HTML":
        return text
    if ENTITIES.search(text):
        raise ApiError(400, "Bad Request: can't parse entities: unsupported entity or bare '&'")
    checker = _HtmlCheck()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed <{checker.open[-1]}>")
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def decode_param(value: str) -> Any:
    """Decode a form value: PTB JSON-encodes objects and lists, other values stay strings."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def chat_id_of(params: Record) -> int:
    """The chat_id parameter as an int; Telegram's answer when it is missing or not a number."""
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "Bad Request: chat not found") from None


def new_message_text(params: Record) -> str:
    """The plain text of a message to send: HTML checked, not empty, at most 4096 characters."""
    plain = plain_text(str(params.get("text") or ""), params.get("parse_mode"))
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(plain.encode("utf-16-le")) // 2 > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return plain


def webhook_params(params: Record) -> Record:
    """Check setWebhook's parameters as the Bot API does; return the webhook it sets."""
    url = str(params.get("url") or "")
    if not re.match(r"https?://[^/]+", url):
        raise ApiError(400, "Bad Request: bad webhook: invalid URL")
    secret = params.get("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
        raise ApiError(400, "Bad Request: bad webhook: secret token contains unallowed characters")
    allowed = params.get("allowed_updates")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
    ):
        raise ApiError(400, "Bad Request: can't parse allowed_updates")
    return {"url": url, "secret_token": secret, "allowed_updates": allowed}


def user_message(message_id: int, text: str, *, user_id: int, first_name: str) -> Record:
    """A private text message from a user (a command when it starts with '/')."""
    message: Record = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": first_name},
        "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message


def callback_query(
    query_id: str, data: str, message: Record, *, user_id: int, first_name: str, instance: str
) -> Record:
    """A button press by `user_id` on `message`, one the bot sent."""
    return {
        "id": query_id,
        "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        "chat_instance": instance,
        "data": data,
        "message": message,
    }


def bot_message(
    message_id: int,
    chat_id: int,
    text: str,
    markup: Any,
    *,
    edited: bool,
    bot: Record = BOT_USER,
    first_name: str = "Ada",
) -> Record:
    """A message the bot sent to a private chat, as the API returns it."""
    message: Record = {
        "message_id": message_id,
        "from": bot,
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "date": int(time.time()),
        "text": text,
    }
    if markup:
        message["reply_markup"] = markup
    if edited:
        message["edit_date"] = int(time.time())
    return message


def caption_text(params: Record) -> str:
    """The plain caption of a photo or document: HTML checked, at most 1024 characters."""
    plain = plain_text(str(params.get("caption") or ""), params.get("parse_mode"))
    if len(plain.encode("utf-16-le")) // 2 > 1024:
        raise ApiError(400, "Bad Request: message caption is too long")
    return plain


def uploaded(params: Record, field: str) -> Record:
    """The file uploaded as `field` ({"file_name", "mime_type", "data"}), or Telegram's error."""
    upload = params.get(field)
    if not isinstance(upload, dict) or not isinstance(upload.get("data"), bytes):
        raise ApiError(400, f"Bad Request: there is no {field} in the request")
    if not upload["data"]:
        raise ApiError(400, "Bad Request: file must be non-empty")
    return upload


def media_message(
    message_id: int, chat_id: int, media: str, upload: Record, caption: str, *, bot: Record
) -> Record:
    """A photo or document the bot sent to a private chat, as the API returns it."""
    file_id = f"{media}-{message_id}"
    message: Record = {
        "message_id": message_id,
        "from": bot,
        "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
        "date": int(time.time()),
    }
    data = upload["data"]
    if media == "photo":
        width = height = 0
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        message["photo"] = [
            {"file_id": file_id, "file_unique_id": file_id, "width": width, "height": height}
        ]
    else:
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": upload.get("file_name") or "file",
        }
    if caption:
        message["caption"] = caption
    return message


def body_params(content_type: str, body: bytes) -> Record:
    """The parameters of a request body: JSON, a form, or multipart (file uploads)."""
    if not body:
        return {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError(400, "Bad Request: invalid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: parameters must be an object")
        return data
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        return {k: decode_param(v) for k, v in pairs}
    if kind == "multipart/form-data":  # file uploads: sendPhoto, sendDocument
        return multipart_params(content_type, body)
    raise ApiError(400, f"Bad Request: unsupported content type {kind!r}")


def multipart_params(content_type: str, body: bytes) -> Record:
    """Parse a multipart/form-data body: plain fields decoded, files as dicts with bytes."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "Bad Request: malformed multipart body")
    params: Record = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            params[name] = decode_param(data.decode())
        else:
            params[name] = {
                "file_name": filename,
                "mime_type": part.get_content_type(),
                "data": data,
            }
    return params


class ApiHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    api: ApiFront

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the bot drops a connection (e.g. a cancelled long poll)."""


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    server: ApiHttpServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log (the path holds the token)."""

    def _answer(self) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        answer: Record
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match[1] != api.token:
                api.bad_token_requests += 1
                raise ApiError(401, "Unauthorized")
            params: Record = {k: decode_param(v) for k, v in parse_qsl(url.query)}
            params.update(self._params(body))
            status, answer = 200, {"ok": True, "result": api.handle(match[2], params)}
        except ApiError as exc:
            status = exc.code
            answer = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                answer["parameters"] = {"retry_after": exc.retry_after}
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the bot went away while we held the request
            self.close_connection = True

    def _params(self, body: bytes) -> Record:
        return body_params(self.headers.get("Content-Type") or "", body)


class ApiFront:
    """The HTTP side of a fake Bot API: a server thread, the update queue, long-polled getUpdates.

    Subclasses call `_open()` once and answer calls in `handle` (getUpdates: `_get_updates`).
    """

    token: str
    bad_token_requests: int
    server_class: ClassVar[type[ApiHttpServer]] = ApiHttpServer
    max_poll: ClassVar[float] = 50  # seconds a getUpdates is held at most

    def _open(self) -> None:
        self._updates: list[Record] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._closed = False
        self._httpd = self.server_class(("127.0.0.1", 0), ApiHandler)
        self._httpd.api = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,))
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """PTB's form of the base URL: the token is appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()  # release held getUpdates
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, method: str, params: Record) -> Any:
        """Answer one call (the result), or raise ApiError."""
        raise NotImplementedError

    def push_update(self, update: Record) -> int:
        """Queue an update for getUpdates; return its update_id (assigned when missing)."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()
        return int(update["update_id"])

    def _polled(self) -> None:
        """Called under the lock when a getUpdates arrives."""

    def _get_updates(self, params: Record) -> list[Record]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.max_poll)
        with self._cond:
            self._polled()
            if offset > 0:  # confirms every update before it
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._updates[:limit])


class FakeBotApiServer(ApiFront):
    """The state and HTTP front of a fake Bot API; thread-safe; a context manager."""

    def __init__(self, token: str = "123:ABC") -> None:
        self.token = token
        self.calls: list[tuple[str, Record]] = []
        self.messages: list[Record] = []  # every sendMessage and editMessageText, in order
        self.current: dict[tuple[int, int], Record] = {}  # (chat, message id) -> latest state
        self.commands: list[Record] = []
        self.webhook: Record | None = None  # what the last setWebhook set
        self.bad_token_requests = 0
        self._open()

    # -- the test side -------------------------------------------------------------------------

    def push_message(self, text: str, *, user_id: int = USER_ID, first_name: str = "Ada") -> int:
        """Queue a private text message from a user (a command when it starts with '/')."""
        message_id = 10_000 + next(self._message_ids)
        message = user_message(message_id, text, user_id=user_id, first_name=first_name)
        return self.push_update({"message": message})

    def message_update(
        self, text: str, *, user_id: int = USER_ID, first_name: str = "Ada"
    ) -> Record:
        """A new update holding a private message from a user, to post to a webhook."""
        with self._cond:
            update_id = next(self._update_ids)
            message_id = 10_000 + next(self._message_ids)
        message = user_message(message_id, text, user_id=user_id, first_name=first_name)
        return {"update_id": update_id, "message": message}

    def push_callback(self, data: str, message_id: int, *, user_id: int = USER_ID) -> int:
        """Queue a button press on a message the bot sent."""
        shown = self.current.get((user_id, message_id), {})
        message = bot_message(message_id, user_id, shown.get("plain", "…"), None, edited=False)
        query_id = f"cq{next(self._update_ids)}"
        query = callback_query(
            query_id, data, message, user_id=user_id, first_name="Ada", instance="e2e"
        )
        return self.push_update({"callback_query": query})

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait until predicate() returns something truthy; return it or fail after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    sent = [m["plain"][:80] for m in self.messages]
                    raise AssertionError(f"timed out waiting for {what}; messages: {sent}")
                self._cond.wait(left)
            return result

    def wait_for_message(self, predicate: Callable[[Record], bool], timeout: float = 10) -> Record:
        """Return the first message sent or edited that matches `predicate` (waits for it)."""
        return self.wait_for(
            lambda: next((m for m in self.messages if predicate(m)), None), timeout, "a message"
        )

    def wait_for_call(self, method: str, timeout: float = 10) -> Record:
        """Return the parameters of the first call of `method` (waits for it)."""
        return self.wait_for(
            lambda: next((p for m, p in self.calls if m == method), None), timeout, method
        )

    # -- the Bot API side ----------------------------------------------------------------------

    def handle(self, method: str, params: Record) -> Any:
        """Answer one call (the result), or raise ApiError."""
        with self._cond:
            self.calls.append((method, params))
            self._cond.notify_all()
        if method.lower() == "getupdates":
            if self.webhook is not None:
                raise ApiError(
                    409, "Conflict: can't use getUpdates method while webhook is active"
                )
            return self._get_updates(params)
        answer = getattr(self, f"_m_{method.lower()}", None)
        if answer is None:
            raise ApiError(404, "Not Found")
        with self._cond:
            result = answer(params)
            self._cond.notify_all()
            return result

    def _m_getme(self, params: Record) -> Any:
        return BOT_USER

    def _m_deletewebhook(self, params: Record) -> Any:
        self.webhook = None
        return True

    def _m_setwebhook(self, params: Record) -> Any:
        self.webhook = webhook_params(params)
        return True

    def _m_getwebhookinfo(self, params: Record) -> Any:
        webhook = self.webhook or {"url": "", "allowed_updates": None}
        info = {"url": webhook["url"], "has_custom_certificate": False, "pending_update_count": 0}
        if webhook.get("allowed_updates") is not None:
            info["allowed_updates"] = webhook["allowed_updates"]
        return info

    def _m_setmycommands(self, params: Record) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be a list")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = commands
        return True

    def _m_answercallbackquery(self, params: Record) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _m_sendchataction(self, params: Record) -> Any:
        return True

    def _m_sendmessage(self, params: Record) -> Any:
        chat_id = self._chat_id(params)
        text = str(params.get("text") or "")
        plain = new_message_text(params)
        record: Record = {
            "method": "sendMessage",
            "chat_id": chat_id,
            "message_id": next(self._message_ids),
            "text": text,
            "plain": plain,
            "reply_markup": params.get("reply_markup"),
            "at": time.time(),
        }
        self.messages.append(record)
        self.current[(chat_id, record["message_id"])] = record
        return self._message(record)

    def _m_sendphoto(self, params: Record) -> Any:
        return self._send_media(params, "photo")

    def _m_senddocument(self, params: Record) -> Any:
        return self._send_media(params, "document")

    def _send_media(self, params: Record, media: str) -> Any:
        chat_id = self._chat_id(params)
        upload = uploaded(params, media)
        plain = caption_text(params)
        record: Record = {
            "method": "sendPhoto" if media == "photo" else "sendDocument",
            "chat_id": chat_id,
            "message_id": next(self._message_ids),
            "text": str(params.get("caption") or ""),
            "plain": plain,
            "reply_markup": params.get("reply_markup"),
            "file": upload,
            "at": time.time(),
        }
        self.messages.append(record)
        self.current[(chat_id, record["message_id"])] = record
        return media_message(record["message_id"], chat_id, media, upload, plain, bot=BOT_USER)

    def _m_editmessagetext(self, params: Record) -> Any:
        chat_id = self._chat_id(params)
        old = self.current.get((chat_id, int(params.get("message_id") or 0)))
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if "file" in old:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str(params.get("text") or "")
        plain = plain_text(text, params.get("parse_mode"))
        markup = params.get("reply_markup")
        if (text, markup) == (old["text"], old["reply_markup"]):
            raise ApiError(400, "Bad Request: message is not modified")
        record = {**old, "method": "editMessageText", "text": text, "plain": plain}
        record["at"] = time.time()
        record["reply_markup"] = markup
        self.messages.append(record)
        self.current[(chat_id, record["message_id"])] = record
        return self._message(record)

    def _m_editmessagereplymarkup(self, params: Record) -> Any:
        chat_id = self._chat_id(params)
        old = self.current.get((chat_id, int(params.get("message_id") or 0)))
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        record = {**old, "method": "editMessageReplyMarkup"}
        record["reply_markup"] = params.get("reply_markup")
        self.current[(chat_id, record["message_id"])] = record
        return self._message(record)

    _chat_id = staticmethod(chat_id_of)

    @staticmethod
    def _message(record: Record) -> Record:
        edited = record["method"] != "sendMessage"
        markup = record.get("reply_markup")
        return bot_message(
            record["message_id"], record["chat_id"], record["plain"], markup, edited=edited
        )
