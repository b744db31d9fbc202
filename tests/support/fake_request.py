"""A recording fake Bot API for tests, with programmable failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from telegram.error import NetworkError, TimedOut

from bot.console.fake_api import FakeApiRequest, FakeBotApi, strip_html

# A responder may answer a call itself: return (status, body), raise, or return None to let the
# fake API answer normally.
Responder = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]


def error_body(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


BLOCKED = (403, error_body(403, "Forbidden: bot was blocked by the user"))
DEACTIVATED = (403, error_body(403, "Forbidden: user is deactivated"))
CHAT_NOT_FOUND = (400, error_body(400, "Bad Request: chat not found"))


def flood(retry_after: int) -> tuple[int, dict[str, Any]]:
    return 429, error_body(429, f"Too Many Requests: retry after {retry_after}", retry_after)


class FakeRequest(FakeApiRequest):
    """Records every call; answers like Telegram; failures can be injected per call."""

    def __init__(self) -> None:
        super().__init__(FakeBotApi())
        self.responders: list[Responder] = []

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self.api.calls

    def _answer(self, endpoint: str, params: dict[str, Any]) -> tuple[int, bytes]:
        for responder in list(self.responders):
            answer = responder(endpoint, params)
            if answer is not None:
                self.api.calls.append((endpoint, params))
                status, body = answer
                return status, json.dumps(body).encode()
        return super()._answer(endpoint, params)

    # -- failure helpers ------------------------------------------------------------------------

    def fail_chat(self, chat_id: int, answer: tuple[int, dict[str, Any]], times: int = -1) -> None:
        """Answer every (or the next `times`) sendMessage to `chat_id` with `answer`."""
        self._on_send(chat_id, times, lambda endpoint, params: answer)

    def raise_for_chat(self, chat_id: int, error: Exception, times: int = 1) -> None:
        """Raise `error` (e.g. TimedOut) for the next `times` sendMessage calls to `chat_id`."""

        def raise_error(endpoint: str, params: dict[str, Any]) -> None:
            self.api.calls.append((endpoint + ":raised", params))
            raise error

        self._on_send(chat_id, times, raise_error)

    def _on_send(self, chat_id: int, times: int, respond: Responder) -> None:
        """Let `respond` answer every (or the next `times`) sendMessage to `chat_id`."""
        left = [times]

        def responder(endpoint: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
            if endpoint != "sendMessage" or int(params.get("chat_id", 0)) != chat_id:
                return None
            if left[0] == 0:
                return None
            left[0] -= 1
            return respond(endpoint, params)

        self.responders.append(responder)

    # -- reading what was sent ------------------------------------------------------------------

    def of(self, endpoint: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == endpoint]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            p
            for p in self.of("sendMessage")
            if chat_id is None or int(p.get("chat_id", 0)) == chat_id
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts sent, as a person sees them (tags removed)."""
        return [strip_html(str(p["text"])) for p in self.sent(chat_id)]

    def files(self, method: str, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of every sendPhoto or sendDocument (the file is an UploadedFile)."""
        return [
            p for p in self.of(method) if chat_id is None or int(p.get("chat_id", 0)) == chat_id
        ]

    def reply_texts(self, chat_id: int) -> list[str]:
        """Everything sent to a chat as a person sees it: texts, and captions of files.

        A photo or document shows as "[photo]" or "[document]" on a line before its caption.
        """
        shown = []
        for name, params in self.calls:
            if int(params.get("chat_id", 0) or 0) != chat_id:
                continue
            if name == "sendMessage":
                shown.append(strip_html(str(params["text"])))
            elif name in ("sendPhoto", "sendDocument"):
                kind = "photo" if name == "sendPhoto" else "document"
                shown.append(f"[{kind}]\n" + strip_html(str(params.get("caption", ""))))
        return shown

    def last_text(self) -> str:
        texts = self.sent_texts()
        assert texts, "nothing was sent"
        return texts[-1]

    def last_html(self) -> str:
        sent = self.sent()
        assert sent, "nothing was sent"
        return str(sent[-1]["text"])

    def buttons(self, params: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        """(label, callback data) of the buttons on a sent message (default: the last one)."""
        if params is None:
            candidates = [p for n, p in self.calls if n in ("sendMessage", "editMessageText")]
            assert candidates, "nothing was sent"
            params = candidates[-1]
        markup = params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def edits(self) -> list[dict[str, Any]]:
        return self.of("editMessageText")

    def last_edit_text(self) -> str:
        """The text of the last editMessageText, as a person sees it."""
        edits = self.edits()
        assert edits, "nothing was edited"
        return strip_html(str(edits[-1]["text"]))

    def clear(self) -> None:
        self.api.calls.clear()


__all__ = [
    "BLOCKED",
    "CHAT_NOT_FOUND",
    "DEACTIVATED",
    "FakeRequest",
    "NetworkError",
    "TimedOut",
    "flood",
]
