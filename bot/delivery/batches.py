"""Group commit: many callers, one transaction.

At 30 messages a second the sender can afford a transaction per step of every message. At the
paid-broadcast rate (up to 1000 a second) it cannot: the database would be the limit. A
`GroupCommit` lets every caller wait for its own result while their work runs together: the
first caller starts a flush; whoever arrives while a flush runs joins the next one. So at a low
rate each group holds one item and nothing waits longer than today, and under load the groups
grow on their own, with no timer to tune.

    marks = GroupCommit(mark_many)          # mark_many(ids) -> list of results, same order
    started = await marks.submit(delivery_id)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_GROUP = 500  # items per flush (one statement's IN list stays small)


class GroupCommit(Generic[Item, Result]):
    """Run `flush(items)` for whoever is waiting, one group at a time."""

    def __init__(
        self,
        flush: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        *,
        max_group: int = MAX_GROUP,
        skip_abandoned: bool = False,
    ) -> None:
        """`flush` gets a group of items and returns one result per item, in the same order.

        With `skip_abandoned`, an item whose caller was cancelled before its group ran is left
        out (marking a row `sending` for a send that will never happen would be wrong).
        """
        self._flush = flush
        self.max_group = max_group
        self.skip_abandoned = skip_abandoned
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.groups = 0  # flushes run, and the items they held (the tests read them)
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Wait until `item` has been flushed with its group; return its result.

        A caller cancelled while it waits does not stop the flush its item is part of.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="group-commit")
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # callers woken by the same event join this group
                group = self._waiting[: self.max_group]
                del self._waiting[: self.max_group]
                if self.skip_abandoned:
                    group = [(item, future) for item, future in group if not future.done()]
                    if not group:
                        continue
                self.groups += 1
                self.items += len(group)
                try:
                    results = await self._flush([item for item, _ in group])
                    if len(results) != len(group):
                        raise AssertionError("a group flush must return one result per item")
                except Exception as exc:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except asyncio.CancelledError:
                    self._waiting[:0] = group
                    raise
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        except asyncio.CancelledError:
            for _, future in self._waiting:  # nobody will flush these: do not wait for ever
                if not future.done():
                    future.cancel()
            self._waiting.clear()
            raise
        finally:
            if self._runner is asyncio.current_task():
                self._runner = None

    async def close(self) -> None:
        """Let the flush under way finish (the sender's stop); later submits start afresh."""
        runner = self._runner
        if runner is not None and not runner.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await runner
