"""Updates waiting to be handled are bounded: polling waits instead of filling memory."""

from __future__ import annotations

import asyncio

from bot.app import UPDATE_QUEUE_SIZE
from bot.context import BotApp


async def test_the_update_queue_is_bounded_and_a_full_one_makes_the_fetcher_wait(
    app: BotApp,
) -> None:
    queue = app.update_queue
    assert queue.maxsize == UPDATE_QUEUE_SIZE
    for n in range(UPDATE_QUEUE_SIZE):
        queue.put_nowait(n)
    put = asyncio.ensure_future(queue.put("one more"))
    await asyncio.sleep(0.01)
    assert not put.done()  # the updater (or the webhook) waits here, holding nothing more
    queue.get_nowait()
    await asyncio.wait_for(put, 1)
