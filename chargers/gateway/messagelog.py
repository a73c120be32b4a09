"""What the gateway writes about its charge points' traffic: every frame both ways
(ChargePointMessage, the most recent OCPP_MESSAGE_LOG_SIZE per charge point, for support) and
when each last sent something (ChargePoint.last_message_at).

Neither is written per frame. Frames are gathered on the event loop and written with one
bulk_create every FLUSH_SECONDS (sooner once BATCH wait) in a worker thread. last_message_at
moves at most every LAST_MESSAGE_SECONDS per charge point, in one UPDATE for all that are due.
A charge point's older frames are deleted once a quarter of the size more were written for it:
it keeps between SIZE and 1.25 × SIZE of them, at the cost of one SELECT and one DELETE per
SIZE / 4 frames.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from chargers.models import ChargePoint, ChargePointMessage, Direction

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
BATCH = 500
LAST_MESSAGE_SECONDS = 30.0
MAX_FRAME_CHARACTERS = 8 * 1024

InPool = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Frame:
    charge_point_pk: int
    at: datetime
    direction: str
    message_type: int  # 2, 3, 4; 0 for a frame that could not be read
    unique_id: str
    action: str
    text: str


class FrameRecorder:
    def __init__(self, *, enabled: bool, size: int, in_pool: InPool) -> None:
        self.enabled = enabled and size > 0
        self.size = size
        self.prune_every = max(1, size // 4)
        self._in_pool = in_pool
        self._frames: list[Frame] = []
        self._unpruned: dict[int, int] = {}  # frames written since its last prune, per pk
        self._last_message_written: dict[int, float] = {}  # monotonic, per pk
        self._last_message_due: set[int] = set()
        self._wake = asyncio.Event()

    def received(self, pk: int, text: str, message_type: int, unique_id: str, action: str) -> None:
        now = time.monotonic()
        last = self._last_message_written.get(pk)
        if last is None or now - last >= LAST_MESSAGE_SECONDS:
            self._last_message_written[pk] = now
            self._last_message_due.add(pk)
        self._add(pk, Direction.IN, text, message_type, unique_id, action)

    def sent(self, pk: int, text: str, message_type: int, unique_id: str, action: str) -> None:
        self._add(pk, Direction.OUT, text, message_type, unique_id, action)

    def sent_frame(self, pk: int, text: str) -> None:
        """A frame made elsewhere (a call of chargers.gateway.outgoing): read for the log."""
        if not self.enabled:
            return
        with contextlib.suppress(ValueError, RecursionError):
            value = json.loads(text)
            if isinstance(value, list) and len(value) > 1:
                action = value[2] if value[0] == 2 and len(value) > 2 else ""
                self._add(pk, Direction.OUT, text, value[0], str(value[1]), str(action))
                return
        self._add(pk, Direction.OUT, text, 0, "", "")

    def _add(
        self, pk: int, direction: str, text: str, message_type: int, unique_id: str, action: str
    ) -> None:
        if not self.enabled:
            return
        frame = Frame(
            pk,
            timezone.now(),
            direction,
            message_type if isinstance(message_type, int) and 0 <= message_type < 100 else 0,
            unique_id[:36],
            action[:50],
            text[:MAX_FRAME_CHARACTERS],
        )
        self._frames.append(frame)
        if len(self._frames) >= BATCH:
            self._wake.set()

    async def run(self) -> None:
        """Flush every FLUSH_SECONDS, or when BATCH frames wait, until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        frames, self._frames = self._frames, []
        due, self._last_message_due = self._last_message_due, set()
        if not frames and not due:
            return
        for frame in frames:
            self._unpruned[frame.charge_point_pk] = self._unpruned.get(frame.charge_point_pk, 0) + 1
        prune = [pk for pk, count in self._unpruned.items() if count >= self.prune_every]
        for pk in prune:
            del self._unpruned[pk]
        await self._in_pool(self._write, frames, due, prune)

    def _write(self, frames: list[Frame], due: set[int], prune: list[int]) -> None:
        try:
            # A charge point deleted while connected: its last frames go with it.
            present = set(
                ChargePoint.objects.filter(
                    pk__in={frame.charge_point_pk for frame in frames}
                ).values_list("pk", flat=True)
            )
            ChargePointMessage.objects.bulk_create(
                ChargePointMessage(
                    charge_point_id=frame.charge_point_pk,
                    at=frame.at,
                    direction=frame.direction,
                    message_type=frame.message_type,
                    unique_id=frame.unique_id,
                    action=frame.action,
                    frame=frame.text,
                )
                for frame in frames
                if frame.charge_point_pk in present
            )
            if due:
                ChargePoint.objects.filter(pk__in=due).update(last_message_at=timezone.now())
            for pk in prune:
                self._prune(pk)
        except DatabaseError:  # the log is for support: traffic goes on without it
            logger.exception("Writing %d frames of the OCPP message log failed", len(frames))

    def _prune(self, pk: int) -> None:
        """Keep the `size` most recent frames of charge point `pk`."""
        oldest_kept = (
            ChargePointMessage.objects.filter(charge_point_id=pk)
            .order_by("-at", "-pk")
            .values_list("at", "pk")[self.size - 1 : self.size]
        )
        for at, message_pk in oldest_kept:
            ChargePointMessage.objects.filter(charge_point_id=pk).filter(
                Q(at__lt=at) | Q(at=at, pk__lt=message_pk)
            ).delete()
