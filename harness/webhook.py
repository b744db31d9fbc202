"""Posting updates to a bot's webhook as Telegram does, and a load balancer in front of workers.

Stdlib only, loopback only, never through a proxy (the opener has no proxy handler).

    status = post_update("http://127.0.0.1:8080/telegram", update, secret="s3cret")
    workers = ["http://127.0.0.1:8081/telegram", "http://127.0.0.1:8082/telegram"]
    balancer = RoundRobin(workers, "s3cret")
    worker, status = balancer.post(update)
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Record = dict[str, Any]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_update(url: str, update: Record, secret: str | None, timeout: float = 5.0) -> int:
    """POST one update as JSON (with the secret header, if given); return the HTTP status.

    Raises:
        OSError: The bot is not listening (connection refused, reset, timed out).
    """
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def get_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """GET a JSON document; return (status, body).

    Raises:
        OSError: Nothing answers at `url`.
    """
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.load(exc)


class RoundRobin:
    """A stand-in for a load balancer: each update goes to the next worker in turn.

    A worker that does not answer (its process is gone) is skipped for the next one, as a load
    balancer's health checks would; the update is lost only if no worker answers.
    """

    def __init__(self, urls: list[str], secret: str, timeout: float = 5.0) -> None:
        self.urls = list(urls)
        self.secret = secret
        self.timeout = timeout
        self.unreachable: dict[int, int] = {}  # worker index -> requests it did not answer
        self._next = 0
        self._lock = threading.Lock()

    def post(self, update: Record) -> tuple[int, int]:
        """Deliver `update`; return (index of the worker that took it, HTTP status).

        Raises:
            OSError: No worker answered.
        """
        with self._lock:
            first = self._next
            self._next = (self._next + 1) % len(self.urls)
        error: OSError | None = None
        for step in range(len(self.urls)):
            index = (first + step) % len(self.urls)
            try:
                return index, post_update(self.urls[index], update, self.secret, self.timeout)
            except OSError as exc:
                error = exc
                with self._lock:
                    self.unreachable[index] = self.unreachable.get(index, 0) + 1
        assert error is not None
        raise error
