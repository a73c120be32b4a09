"""CALLs answered in batches: what the gateway's status and meter batches share.

A batched CALL is parked (`CallBatch.answer`) with a future its connection awaits; a
background task (the subclass's `run`) takes what waits, hands it to a worker thread as one
batch, and answers every future once that batch committed. When handling the batch together
fails, each CALL is answered as dispatch answers it alone, in its own transaction: one bad
CALL never costs the others theirs. The subclasses differ in when a batch is taken (a status
window, a meter round that lingers under load) and in how many are handled side by side.

The CALLs of one charge point go one after the other (the gateway's dispatcher waits for each
answer), so a batch holds at most one of each.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from ocpp.messages import Call

from chargers.gateway import dispatch

logger = logging.getLogger(__name__)

InPool = Callable[..., Awaitable[Any]]
# What handling a batch yields besides its answers (the meter rounds: the transactions to apply).
Extra = TypeVar("Extra")


@dataclass(frozen=True, slots=True)
class Incoming:
    charge_point_pk: int
    version: str
    call: Call
    received_at: datetime


Parked = tuple[Incoming, asyncio.Future[dispatch.Answer]]


def one_by_one(calls: Sequence[Incoming]) -> list[dispatch.Answer]:
    """Each CALL as dispatch answers it alone. In a worker thread."""
    return [
        dispatch.answer(
            incoming.charge_point_pk, incoming.version, incoming.call, incoming.received_at
        )
        for incoming in calls
    ]


class CallBatch(Generic[Extra]):
    """Parks batched CALLs until a batch answers them. `what` names them in the log."""

    what = "CALLs"

    def __init__(self, in_pool: InPool) -> None:
        self._in_pool = in_pool
        self._waiting: list[Parked] = []
        self._wake = asyncio.Event()

    async def answer(
        self, charge_point_pk: int, version: str, call: Call, received_at: datetime
    ) -> dispatch.Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dispatch.Answer] = loop.create_future()
        incoming = Incoming(charge_point_pk, version, call, received_at)
        self._arrived(incoming, loop.time())
        self._waiting.append((incoming, future))
        self._wake.set()
        return await future

    def _arrived(self, incoming: Incoming, now: float) -> None:
        """A CALL is about to be parked (`now`: the loop's time); before it, `_waiting`."""

    def _take(self, size: int) -> list[Parked]:
        """The first `size` that wait; the wake-up stays set while more do."""
        self._wake.clear()
        batch, self._waiting = self._waiting[:size], self._waiting[size:]
        if self._waiting:
            self._wake.set()
        return batch

    async def _handle(
        self,
        batch: list[Parked],
        together: Callable[..., tuple[list[dispatch.Answer], Extra]],
        *args: Any,
    ) -> Extra | None:
        """Answer `batch` by `together(calls, *args)` in a worker thread (its answers, and
        what else it yields), or, when that fails, one CALL at a time (None)."""
        calls = [incoming for incoming, _ in batch]
        extra: Extra | None
        try:
            try:
                answers, extra = await self._in_pool(together, calls, *args)
            except Exception:
                logger.exception(
                    "Handling %d %s together failed: one by one", len(calls), self.what
                )
                self._failed()
                answers, extra = await self._in_pool(one_by_one, calls), None
        except BaseException:  # cancelled (stopping): nothing waits for ever
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)
        return extra

    def _failed(self) -> None:
        """Handling a batch together failed: what the subclass knows may be stale."""

    def _cancel_waiting(self) -> None:
        """Stopping: nothing waits for ever (their connections are closed by now)."""
        for _, future in self._waiting:
            future.cancel()
        self._waiting.clear()
