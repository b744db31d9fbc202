"""Hold a send while it is on the wire, to stop or crash the bot at exactly that moment."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.context import BotApp
from tests.support.fake_request import FakeRequest
from tests.support.schedules import deliveries


def hold_sends(fake: FakeRequest) -> asyncio.Event:
    """Make every sendMessage wait, its HTTP call under way, until the returned event is set."""
    gate = asyncio.Event()
    answer = fake.do_request

    async def held(*args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if str(kwargs.get("url", args[0] if args else "")).endswith("sendMessage"):
            await gate.wait()
        return await answer(*args, **kwargs)

    fake.do_request = held  # type: ignore[method-assign]
    return gate


async def until_sending(app: BotApp, seconds: float = 10.0) -> None:
    """Let the courier run until the only deliveries row is `sending` (at most `seconds`)."""
    for _ in range(int(seconds * 100)):
        if [row.status for row in await deliveries(app)] == ["sending"]:
            return
        await asyncio.sleep(0.01)
