"""The HTTP client under the bot: PTB's `HTTPXRequest`, split into several pools when large.

httpx hands each request a connection by scanning every connection and every queued request
of its pool, so a pool's cost per request grows with its size: at the paid-broadcast rate (1000
messages a second, a few hundred under way) one pool of a thousand connections spends more time
choosing connections than sending. `ShardedRequest` keeps several small pools side by side and
gives each request to the next in turn; with the free rate's few dozen connections it is one
pool, exactly PTB's own.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

from telegram.request import BaseRequest, HTTPXRequest, RequestData

POOL_SIZE = 32  # connections per pool


class ShardedRequest(BaseRequest):
    """`connections` HTTP connections in pools of at most POOL_SIZE, used in turn."""

    def __init__(self, connections: int) -> None:
        """Open up to `connections` connections at once in all (PTB's timeouts)."""
        shards = max(1, math.ceil(connections / POOL_SIZE))
        size = math.ceil(connections / shards)
        self._shards = [HTTPXRequest(connection_pool_size=size) for _ in range(shards)]
        self._turn = itertools.cycle(self._shards)

    @property
    def shards(self) -> int:
        """Return the number of pools."""
        return len(self._shards)

    @property
    def read_timeout(self) -> float | None:
        """Return the read timeout of every pool."""
        return self._shards[0].read_timeout

    async def initialize(self) -> None:
        """Open every pool."""
        await asyncio.gather(*(shard.initialize() for shard in self._shards))

    async def shutdown(self) -> None:
        """Close every pool."""
        await asyncio.gather(*(shard.shutdown() for shard in self._shards))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make the request on the next pool."""
        return await next(self._turn).do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
