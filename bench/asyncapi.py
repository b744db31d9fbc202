"""A fake Bot API on one asyncio event loop, for the paid-broadcast benchmark (1000 calls/s).

`bench/fakeapi.py` answers each connection in a thread of its own; at 1000 messages a second
with 200 ms per answer that is a thousand threads on two cores, and the fake API, not the bot,
becomes what is measured. This one serves every connection from one event loop (in a thread of
the benchmark's process), waits out the latency with `asyncio.sleep`, and does only what the
paid-broadcast benchmark needs:

* `sendMessage`: more than `limit` messages inside any one second: 429 with `retry_after`;
  the HTML and the length are checked as Telegram does; every call recorded (`Call`), with
  whether it carried `allow_paid_broadcast`;
* long-polled `getUpdates` fed by `push_message` (a simulated user);
* `getMe`, `setMyCommands`, `deleteWebhook`, `answerCallbackQuery`, ...: answered `true`.

    with AsyncBenchApi(token, limit=1000, latency=0.2) as api:
        ... start `python -m bot` with TELEGRAM_BASE_URL=api.base_url ...
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from bench.fakeapi import BOT_USER, Call
from harness.fake_bot_api_server import (
    ApiError,
    Record,
    body_params,
    bot_message,
    chat_id_of,
    decode_param,
    new_message_text,
    user_message,
)

_PATH = re.compile(r"/bot([^/]+)/(\w+)")
_TRUE_METHODS = frozenset(
    {"setmycommands", "deletewebhook", "answercallbackquery", "sendchataction", "close"}
)


class AsyncBenchApi:
    """State and HTTP front; `push_message`, `snapshot` and `wait_polling` are thread-safe."""

    max_poll = 30.0

    def __init__(
        self, token: str, *, limit: int = 1000, latency: float = 0.0, retry_after: int = 1
    ) -> None:
        """Enforce `limit` messages per second; answer each message call after `latency` s."""
        self.token = token
        self.limit = limit
        self.latency = latency
        self.retry_after = retry_after
        self.calls: list[Call] = []
        self.on_call: Callable[[Call], None] | None = None
        self.first_get_updates: float | None = None
        self._window: collections.deque[float] = collections.deque()
        self._updates: list[Record] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()  # calls and first_get_updates, read by other threads
        self._loop = asyncio.new_event_loop()
        self._new_update: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="async-bench-api")

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB's form of the base URL: the token is appended to it."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot"

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Bot API did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _close(self) -> None:
        """Stop listening and end every connection (held long polls too)."""
        assert self._server is not None
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._new_update = asyncio.Event()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=4096)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._loop.close()

    # -- the benchmark's side --------------------------------------------------------------------

    def push_message(self, text: str, *, user_id: int, first_name: str = "Bench") -> None:
        """Queue a private message from `user_id` for getUpdates."""
        self._loop.call_soon_threadsafe(self._push, text, user_id, first_name)

    def _push(self, text: str, user_id: int, first_name: str) -> None:
        message = user_message(
            next(self._message_ids), text, user_id=user_id, first_name=first_name
        )
        self._updates.append({"update_id": next(self._update_ids), "message": message})
        assert self._new_update is not None
        self._new_update.set()

    def wait_polling(self, timeout: float) -> float | None:
        """Wait for the first getUpdates; return its time.monotonic(), or None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.first_get_updates is not None:
                    return self.first_get_updates
            time.sleep(0.05)
        return None

    def snapshot(self) -> list[Call]:
        """Every message call so far."""
        with self._lock:
            return list(self.calls)

    # -- HTTP ------------------------------------------------------------------------------------

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, answer = await self._answer(target, headers, body)
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # closing: end quietly (asyncio reports a cancelled
            pass  # connection task as an error in its callback)
        finally:
            writer.close()

    async def _answer(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        url = urlsplit(target)
        match = _PATH.fullmatch(url.path)
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match[1] != self.token:
                raise ApiError(401, "Unauthorized")
            params: Record = {k: decode_param(v) for k, v in parse_qsl(url.query)}
            params.update(body_params(headers.get("content-type", ""), body))
            result = await self._method(match[2].lower(), params)
            return 200, {"ok": True, "result": result}
        except ApiError as exc:
            answer: Record = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                answer["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, answer

    async def _method(self, name: str, params: Record) -> Any:
        if name == "getupdates":
            return await self._get_updates(params)
        if name == "getme":
            return BOT_USER
        if name in _TRUE_METHODS:
            return True
        if name != "sendmessage":
            raise ApiError(404, "Not Found")
        try:
            return self._message(params)  # arrival time and limits: on receipt
        finally:
            if self.latency:
                await asyncio.sleep(self.latency)

    def _message(self, params: Record) -> Record:
        now = time.monotonic()
        chat_id = chat_id_of(params)
        call = Call(now, "sendMessage", chat_id, 200)
        call.paid_broadcast = params.get("allow_paid_broadcast") in (True, "true", "True")
        try:
            window = self._window
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.limit:
                raise ApiError(
                    429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after
                )
            window.append(now)
            call.text = new_message_text(params)
        except ApiError as exc:
            call.status = exc.code
            raise
        finally:
            with self._lock:
                self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)
        markup = params.get("reply_markup") or None
        return bot_message(
            next(self._message_ids),
            chat_id,
            call.text,
            markup,
            edited=False,
            bot=BOT_USER,
            first_name="Bench",
        )

    async def _get_updates(self, params: Record) -> list[Record]:
        with self._lock:
            if self.first_get_updates is None:
                self.first_get_updates = time.monotonic()
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset > 0:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            assert self._new_update is not None
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), self.max_poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), wait)
        return list(self._updates[:limit])
