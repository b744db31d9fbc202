"""A fake Telegram Bot API over HTTP that enforces Telegram's limits, for the benchmarks.

Stdlib only: an `http.server` in threads, bound to 127.0.0.1 on a free port.

* more than `limit` (30) messages inside any one second: 429 with `retry_after`;
* a set of blocked chats: 403 "Forbidden: bot was blocked by the user";
* optional random 429s (`flood_probability`, `retry_after` drawn from `flood_retry_after`),
  and a record of every message that arrived while a pause the server ordered was in force;
* long-polled getUpdates fed by `push_message` / `push_callback` (a simulated user);
* every message call is recorded with its arrival time, chat, status and text.

    with BenchApi(token) as api:
        ... start `python -m bot` with TELEGRAM_BASE_URL=api.base_url ...
        api.push_message("/food almonds", user_id=1)
"""

from __future__ import annotations

import collections
import html
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER = {
    "id": 424242,
    "is_bot": True,
    "first_name": "Bench Bot",
    "username": "bench_magnesium_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Calls that send or change a message: Telegram's ~30 messages per second apply to these.
MESSAGE_METHODS = frozenset({"sendmessage", "editmessagetext", "copymessage", "forwardmessage"})
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
TAGS |= {"code", "pre", "blockquote", "tg-emoji"}
BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")

Record = dict[str, Any]


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Call:
    """One message call as the server saw it."""

    at: float  # time.monotonic() on arrival
    method: str
    chat_id: int
    status: int  # HTTP status answered
    text: str = ""  # as a client shows it (tags removed)
    callback_data: tuple[str, ...] = ()
    during_pause: bool = False  # arrived while a 429 the server sent was still in force


class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag {tag}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag}")


def plain_text(text: str, parse_mode: str | None) -> str:
    """Check HTML like Telegram does and return the text a client shows."""
    if (parse_mode or "").upper() != "HTML":
        return text
    if BARE_AMPERSAND.search(text):
        raise ApiError(400, "Bad Request: can't parse entities: bare '&'")
    checker = _HtmlCheck()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed {checker.open[-1]}")
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def _decode(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class BenchApi:
    """State and HTTP front of the benchmark Bot API; thread-safe; a context manager."""

    token: str
    limit: int = 30  # messages per any one second, for the whole token
    retry_after: int = 1  # seconds, in the 429 answers the limit produces
    blocked: frozenset[int] = frozenset()  # chats answering 403
    flood_probability: float = 0.0  # random 429s, on top of the limit
    flood_retry_after: tuple[int, int] = (1, 5)
    latency: float = 0.0  # seconds before each message call is answered
    seed: int = 1
    calls: list[Call] = field(default_factory=list)
    other_calls: collections.Counter[str] = field(default_factory=collections.Counter)
    bad_token_requests: int = 0
    first_get_updates: float | None = None  # time.monotonic() of the first getUpdates
    on_call: Callable[[Call], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._window: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._rng = random.Random(self.seed)
        self._updates: list[Record] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._closed = False
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,))
        self._thread.daemon = True

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/bot"

    def start(self) -> BenchApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BenchApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reopen(self) -> None:
        """Accept long polls again after a bot was killed (keeps the records)."""
        with self._lock:
            self._updates.clear()

    # -- the simulated users -------------------------------------------------------------------

    def push_message(self, text: str, *, user_id: int, first_name: str = "Bench") -> int:
        """Queue a private message from `user_id` for getUpdates; return its update_id."""
        message: Record = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self._push({"message": message})

    def push_callback(self, data: str, message_id: int, *, user_id: int) -> int:
        """Queue a button press on a message the bot sent to `user_id`."""
        query = {
            "id": f"cq{next(self._message_ids)}",
            "from": {"id": user_id, "is_bot": False, "first_name": "Bench"},
            "chat_instance": "bench",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
                "from": BOT_USER,
                "text": "…",
            },
        }
        return self._push({"callback_query": query})

    def _push(self, update: Record) -> int:
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._lock.notify_all()
        return int(update["update_id"])

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Wait until predicate() (called under the lock) is truthy; return it, or None."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not (result := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(min(left, 0.5))
            return result

    def wait_polling(self, timeout: float) -> float | None:
        """Wait for the first getUpdates; return its time.monotonic(), or None on timeout."""
        self.wait_for(lambda: self.first_get_updates, timeout)
        return self.first_get_updates

    # -- reading the records -------------------------------------------------------------------

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def sent(self) -> list[Call]:
        """Message calls that were accepted (200)."""
        return [c for c in self.snapshot() if c.status == 200]

    # -- the Bot API side ----------------------------------------------------------------------

    def handle(self, method: str, params: Record) -> Any:
        """Answer one call with its result, or raise ApiError."""
        name = method.lower()
        if name == "getupdates":
            return self._get_updates(params)
        if name not in MESSAGE_METHODS:
            with self._lock:
                self.other_calls[method] += 1
            return self._other(name, params)
        try:
            return self._message(method, params)  # arrival time and limits: on receipt
        finally:
            if self.latency:  # then the answer takes its time (Telegram's work, the way back)
                time.sleep(self.latency)

    def _message(self, method: str, params: Record) -> Any:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        now = time.monotonic()
        markup = params.get("reply_markup") or {}
        data = tuple(
            str(b.get("callback_data", ""))
            for row in (markup.get("inline_keyboard", []) if isinstance(markup, dict) else [])
            for b in row
        )
        call = Call(now, method, chat_id, 200, callback_data=data)
        with self._lock:
            call.during_pause = now < self._paused_until
            try:
                self._admit(call, now)
                call.text = plain_text(str(params.get("text") or ""), params.get("parse_mode"))
                if not call.text.strip():
                    raise ApiError(400, "Bad Request: message text is empty")
                if len(call.text.encode("utf-16-le")) // 2 > 4096:
                    raise ApiError(400, "Bad Request: message is too long")
            except ApiError as exc:
                call.status = exc.code
                raise
            finally:
                self.calls.append(call)
                if self.on_call is not None:
                    self.on_call(call)
                self._lock.notify_all()
        message_id = int(params.get("message_id") or next(self._message_ids))
        result: Record = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "date": int(time.time()),
            "text": call.text,
        }
        if markup:
            result["reply_markup"] = markup
        if method.lower() == "editmessagetext":
            result["edit_date"] = int(time.time())
        return result

    def _admit(self, call: Call, now: float) -> None:
        """Apply the limits in Telegram's order: flood control first, then the chat."""
        window = self._window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.limit:
            self._paused_until = max(self._paused_until, now + self.retry_after)
            raise ApiError(
                429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after
            )
        if self.flood_probability and self._rng.random() < self.flood_probability:
            wait = self._rng.randint(*self.flood_retry_after)
            self._paused_until = max(self._paused_until, now + wait)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        window.append(now)
        if call.chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _other(self, name: str, params: Record) -> Any:
        if name == "getme":
            return BOT_USER
        if name in ("deletewebhook", "setmycommands", "answercallbackquery", "sendchataction"):
            return True
        if name in ("editmessagereplymarkup", "deletemessage"):
            return True
        raise ApiError(404, "Not Found")

    def _get_updates(self, params: Record) -> list[Record]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30)
        with self._lock:
            if self.first_get_updates is None:
                self.first_get_updates = time.monotonic()
            self.other_calls["getUpdates"] += 1
            self._lock.notify_all()
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self._updates[:limit])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    api: BenchApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the bot drops a connection (a killed bot, a cancelled long poll)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the path holds the token."""

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
            params: Record = {k: _decode(v) for k, v in parse_qsl(url.query)}
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
        except OSError:
            self.close_connection = True

    def _params(self, body: bytes) -> Record:
        if not body:
            return {}
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json":
            data = json.loads(body)
            return data if isinstance(data, dict) else {}
        if kind == "application/x-www-form-urlencoded":
            return {k: _decode(v) for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
        raise ApiError(400, f"Bad Request: unsupported content type {kind!r}")
