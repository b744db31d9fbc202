"""A fake Telegram Bot API over HTTP that enforces Telegram's limits, for the benchmarks.

Stdlib only: an `http.server` in threads, bound to 127.0.0.1 on a free port. The HTTP front,
the update queue, the HTML check and the message shapes are those of the end-to-end tests' fake
(`harness/fake_bot_api_server.py`); what is here is the benchmark's own.

* more than `limit` (30) messages inside any one second: 429 with `retry_after`;
* a set of blocked chats: 403 "Forbidden: bot was blocked by the user";
* optional random 429s (`flood_probability`, `retry_after` drawn from `flood_retry_after`),
  and a record of every message that arrived while a pause the server ordered was in force;
* `order_pause(seconds)`: the next message call is answered 429 with that `retry_after` (a
  long flood wait); with `enforce_pauses`, every message arriving during a pause gets a 429
  too, as Telegram answers;
* long-polled getUpdates fed by `push_message` / `push_callback` (a simulated user), or by
  `feed` (many users: each update made only when a getUpdates asks for it), or, with a
  `balancer` (webhook mode), each update posted to the next worker's webhook in turn;
* setWebhook checked and recorded;
* every message call is recorded with its arrival time, chat, status and text.

    with BenchApi(token) as api:
        ... start `python -m bot` with TELEGRAM_BASE_URL=api.base_url ...
        api.push_message("/food almonds", user_id=1)
"""

from __future__ import annotations

import collections
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness.fake_bot_api_server import (
    ApiError,
    ApiFront,
    ApiHttpServer,
    Record,
    bot_message,
    callback_query,
    caption_text,
    chat_id_of,
    media_message,
    new_message_text,
    uploaded,
    user_message,
    webhook_params,
)
from harness.webhook import RoundRobin

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
MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "copymessage",
        "forwardmessage",
        "sendphoto",
        "senddocument",
    }
)
FILE_FIELDS = {"sendphoto": "photo", "senddocument": "document"}  # uploads, with a caption


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
    paid_broadcast: bool = False  # sent with allow_paid_broadcast
    retry_after: int | None = None  # seconds, when answered 429
    file_size: int = 0  # bytes of an uploaded photo or document


class _Server(ApiHttpServer):
    request_queue_size = 2048  # the fan-out opens many connections at once (paid: ~1000)


@dataclass
class BenchApi(ApiFront):
    """State and HTTP front of the benchmark Bot API; thread-safe; a context manager."""

    token: str
    limit: int = 30  # messages per any one second, for the whole token
    retry_after: int = 1  # seconds, in the 429 answers the limit produces
    blocked: frozenset[int] = frozenset()  # chats answering 403
    flood_probability: float = 0.0  # random 429s, on top of the limit
    flood_retry_after: tuple[int, int] = (1, 5)
    enforce_pauses: bool = False  # a message arriving during an ordered pause: 429 again
    latency: float = 0.0  # seconds before each message call is answered
    seed: int = 1
    calls: list[Call] = field(default_factory=list)
    other_calls: collections.Counter[str] = field(default_factory=collections.Counter)
    bad_token_requests: int = 0
    first_get_updates: float | None = None  # time.monotonic() of the first getUpdates
    on_call: Callable[[Call], None] | None = None
    balancer: RoundRobin | None = None  # set: updates are posted to webhooks, not polled
    webhooks: list[Record] = field(default_factory=list)  # every setWebhook, in order
    posted: list[tuple[int, int, int]] = field(default_factory=list)  # (update, worker, status)
    fed: int = 0  # updates handed out from `feed`
    first_fed: float | None = None  # time.monotonic() the first of them was handed out

    server_class: ClassVar[type[ApiHttpServer]] = _Server
    max_poll: ClassVar[float] = 30

    def __post_init__(self) -> None:
        self._window: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._pause_next = 0  # seconds: the next message call is answered 429 with this
        self._rng = random.Random(self.seed)
        self._feed: Iterator[Record] | None = None
        self._open()

    def reopen(self) -> None:
        """Accept long polls again after a bot was killed (keeps the records)."""
        with self._cond:
            self._updates.clear()

    def order_pause(self, seconds: int) -> None:
        """Answer the next message call 429 with `retry_after` = `seconds`."""
        with self._cond:
            self._pause_next = seconds

    # -- the simulated users -------------------------------------------------------------------

    def push_message(self, text: str, *, user_id: int, first_name: str = "Bench") -> int:
        """Queue a private message from `user_id` for getUpdates; return its update_id."""
        message_id = next(self._message_ids)
        message = user_message(message_id, text, user_id=user_id, first_name=first_name)
        return self.push_update({"message": message})

    def message_update(self, text: str, *, user_id: int, first_name: str = "Bench") -> Record:
        """A private message from `user_id` as an update without its update_id."""
        message_id = next(self._message_ids)
        return {"message": user_message(message_id, text, user_id=user_id, first_name=first_name)}

    def feed(self, updates: Iterator[Record]) -> None:
        """Hand out `updates` through getUpdates after those already queued.

        Each is taken from the iterator only when a getUpdates asks for more (up to its
        `limit`), so 100 000 simulated users cost neither a queue nor a rescan of one.
        """
        with self._cond:
            self._feed = updates
            self._cond.notify_all()

    def push_callback(self, data: str, message_id: int, *, user_id: int) -> int:
        """Queue a button press on a message the bot sent to `user_id`."""
        message = bot_message(
            message_id, user_id, "…", None, edited=False, bot=BOT_USER, first_name="Bench"
        )
        query_id = f"cq{next(self._message_ids)}"
        query = callback_query(
            query_id, data, message, user_id=user_id, first_name="Bench", instance="bench"
        )
        return self.push_update({"callback_query": query})

    def push_update(self, update: Record) -> int:
        """Queue an update for getUpdates, or post it to the next worker's webhook.

        Raises:
            OSError: Webhook mode, and no worker took the update.
        """
        if self.balancer is None:
            return super().push_update(update)
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
        worker, status = self.balancer.post(update)
        with self._cond:
            self.posted.append((int(update["update_id"]), worker, status))
        return int(update["update_id"])

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Wait until predicate() (called under the lock) is truthy; return it, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))
            return result

    def wait_polling(self, timeout: float) -> float | None:
        """Wait for the first getUpdates; return its time.monotonic(), or None on timeout."""
        self.wait_for(lambda: self.first_get_updates, timeout)
        return self.first_get_updates

    # -- reading the records -------------------------------------------------------------------

    def snapshot(self) -> list[Call]:
        with self._cond:
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
            with self._cond:
                self.other_calls[method] += 1
            return self._other(name, params)
        try:
            return self._message(method, params)  # arrival time and limits: on receipt
        finally:
            if self.latency:  # then the answer takes its time (Telegram's work, the way back)
                time.sleep(self.latency)

    def _message(self, method: str, params: Record) -> Any:
        chat_id = chat_id_of(params)
        now = time.monotonic()
        markup = params.get("reply_markup") or {}
        data = tuple(
            str(b.get("callback_data", ""))
            for row in (markup.get("inline_keyboard", []) if isinstance(markup, dict) else [])
            for b in row
        )
        call = Call(now, method, chat_id, 200, callback_data=data)
        call.paid_broadcast = params.get("allow_paid_broadcast") in (True, "true", "True")
        with self._cond:
            call.during_pause = now < self._paused_until
            field = FILE_FIELDS.get(method.lower())
            try:
                self._admit(call, now)
                if field is None:
                    call.text = new_message_text(params)  # every message call, edits too
                else:
                    call.text = caption_text(params)
                    call.file_size = len(uploaded(params, field)["data"])
            except ApiError as exc:
                call.status = exc.code
                call.retry_after = exc.retry_after
                raise
            finally:
                self.calls.append(call)
                if self.on_call is not None:
                    self.on_call(call)
                self._cond.notify_all()
        message_id = int(params.get("message_id") or next(self._message_ids))
        if field is not None:
            upload = uploaded(params, field)
            return media_message(message_id, chat_id, field, upload, call.text, bot=BOT_USER)
        edited = method.lower() == "editmessagetext"
        return bot_message(
            message_id, chat_id, call.text, markup, edited=edited, bot=BOT_USER, first_name="Bench"
        )

    def _admit(self, call: Call, now: float) -> None:
        """Apply the limits in Telegram's order: flood control first, then the chat."""
        if self._pause_next:
            wait, self._pause_next = self._pause_next, 0
            self._paused_until = max(self._paused_until, now + wait)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        if self.enforce_pauses and now < self._paused_until:
            left = math.ceil(self._paused_until - now)
            raise ApiError(429, f"Too Many Requests: retry after {left}", left)
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
        if name == "setwebhook":
            webhook = webhook_params(params)
            with self._cond:
                self.webhooks.append(webhook)
                self._cond.notify_all()
            return True
        if name in ("deletewebhook", "setmycommands", "answercallbackquery", "sendchataction"):
            return True
        if name in ("editmessagereplymarkup", "deletemessage"):
            return True
        raise ApiError(404, "Not Found")

    def _get_updates(self, params: Record) -> list[Record]:
        if self._feed is not None:
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or 100)
            with self._cond:
                if offset > 0:  # confirmed: drop them before topping up
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                while self._feed is not None and len(self._updates) < limit:
                    update = next(self._feed, None)
                    if update is None:
                        self._feed = None
                        break
                    self._updates.append({"update_id": next(self._update_ids), **update})
                    self.fed += 1
                    if self.first_fed is None:
                        self.first_fed = time.monotonic()
        return super()._get_updates(params)

    def _polled(self) -> None:
        if self.first_get_updates is None:
            self.first_get_updates = time.monotonic()
        self.other_calls["getUpdates"] += 1
        self._cond.notify_all()
