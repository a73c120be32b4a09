"""StatusNotifications recorded together (chargers.gateway.statuses, chargers.status.record_all,
locations.services.evses_set_status): each reaches its EVSE and every partner's PATCH queue,
a connector's reports apply in their order, one that fails costs the others nothing, and
batches recorded at once on PostgreSQL neither deadlock nor lose a status."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from ocpp.messages import Call

from chargers import status
from chargers.gateway import batches, statuses
from chargers.models import ChargePoint, ConnectorStatus
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from locations.services import evses_set_status
from ocpi.time import now
from push.models import Delivery, DeliveryStatus, Method
from tests.chargers.status_estate import (
    UIDS,
    location,
    one_each,
    partner,
    patch_of,
    patches,
    stamp,
)
from tests.chargers.test_status_concurrency import at_once
from tests.locations.conftest import location_payload, make_partner, upsert

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db


def status_16(value: str, **fields: Any) -> dict[str, Any]:
    return {"connectorId": 1, "errorCode": "NoError", "status": value, **fields}


def incoming(cp: ChargePoint, value: str, at: datetime) -> batches.Incoming:
    payload = status_16(value, timestamp=stamp(at))
    return batches.Incoming(cp.pk, "1.6", Call(f"m-{value}", "StatusNotification", payload), at)


async def in_this_thread(function: Callable[..., Any], *args: Any) -> Any:
    """The gateway's worker pool in a test: the test's thread, its transaction."""
    return await sync_to_async(function)(*args)


def evse_status(uid: str) -> str:
    return EVSE.objects.get(uid=uid).status


def test_a_batch_sets_each_evse_and_queues_each_patch_for_every_partner(
    location: Location, partner: PartnerPlatform
) -> None:
    other = make_partner("Emsp2", "tok-emsp2", ("NL", "MSP"))
    upsert(location_payload("LOC2", evses=1))
    cps = one_each(*UIDS, "LOC2-E0")
    before = len(patches())
    moment = now()

    answers = statuses.answer_all(
        [
            incoming(cp, value, moment + timedelta(seconds=n))
            for n, (cp, value) in enumerate(zip(cps, ORDER_OF_FOUR, strict=True))
        ]
    )

    assert [answer.message_type for answer in answers] == [3, 3, 3, 3]
    rows = [ConnectorStatus.objects.get(charge_point=cp) for cp in cps]
    assert [(row.status, row.reported_at) for row in rows] == [
        (value, moment + timedelta(seconds=n)) for n, value in enumerate(ORDER_OF_FOUR)
    ]
    assert [evse_status(uid) for uid in [*UIDS, "LOC2-E0"]] == [
        "CHARGING",
        "INOPERATIVE",
        "OUTOFORDER",
        "CHARGING",
    ]
    new = patches()[before:]
    assert new == [
        patch_of("LOC1-E0", "CHARGING"),
        patch_of("LOC1-E1", "INOPERATIVE"),
        patch_of("LOC1-E2", "OUTOFORDER"),
        (["BE", "BEC", "LOC2", "LOC2-E0"], "CHARGING"),
    ]
    for receiver in (partner, other):
        pending = Delivery.objects.filter(
            partner=receiver, change__method=Method.PATCH, status=DeliveryStatus.PENDING
        )
        assert sorted(d.change.path[-1] for d in pending) == [*UIDS, "LOC2-E0"]


ORDER_OF_FOUR = ["Charging", "Unavailable", "Faulted", "Preparing"]


def test_a_connectors_reports_in_one_batch_apply_in_their_order(location: Location) -> None:
    (cp,) = one_each("LOC1-E0")
    moment = now()

    statuses.answer_all(
        [
            incoming(cp, "Charging", moment),
            incoming(cp, "Faulted", moment + timedelta(seconds=2)),
            incoming(cp, "Available", moment + timedelta(seconds=1)),  # sent before Faulted
        ]
    )

    row = ConnectorStatus.objects.get(charge_point=cp)
    assert (row.status, row.reported_at) == ("Faulted", moment + timedelta(seconds=2))
    assert evse_status("LOC1-E0") == "OUTOFORDER"
    # One PATCH for the EVSE's last status in the batch: an earlier one would be superseded.
    assert patches()[-1] == patch_of("LOC1-E0", "OUTOFORDER")
    assert patch_of("LOC1-E0", "CHARGING") not in patches()


def test_record_all_answers_each_connectors_status_before(location: Location) -> None:
    cp, other = one_each("LOC1-E0", "LOC1-E1")
    moment = now()
    reports = [
        status.Arrival(cp, status.Report(1, 0, "Charging", moment), moment),
        status.Arrival(other, status.Report(1, 0, "Faulted", moment), moment),
        status.Arrival(cp, status.Report(1, 0, "Finishing", moment + timedelta(1)), moment),
        status.Arrival(cp, status.Report(1, 0, "Reserved", moment - timedelta(1)), moment),
    ]

    assert status.record_all(reports) == ["Available", "Available", "Charging", None]


def test_one_failing_status_costs_the_others_nothing(
    location: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    cps = one_each(*UIDS)
    broken = EVSE.objects.get(uid="LOC1-E1").pk
    real = evses_set_status

    def refusing(*, changes: list[tuple[EVSE, str]]) -> list[EVSE]:
        if any(evse.pk == broken for evse, _ in changes):
            raise RuntimeError("this EVSE cannot be written")
        return real(changes=changes)

    monkeypatch.setattr(status, "evses_set_status", refusing)
    batch = statuses.StatusBatch(in_this_thread)
    moment = now()

    async def send() -> list[Any]:
        waiting = [
            asyncio.ensure_future(
                batch.answer(cp.pk, "1.6", incoming(cp, "Charging", moment).call, moment)
            )
            for cp in cps
        ]
        await asyncio.sleep(0)  # each CALL waits in the batch
        await batch.record_round()
        return await asyncio.gather(*waiting)

    answers = async_to_sync(send)()

    assert [answer.message_type for answer in answers] == [3, 4, 3]
    assert [evse_status(uid) for uid in UIDS] == ["CHARGING", "AVAILABLE", "CHARGING"]
    assert patches()[-2:] == [patch_of("LOC1-E0", "CHARGING"), patch_of("LOC1-E2", "CHARGING")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_batches_at_once_over_the_same_locations_record_every_status(
    location: Location, attempt: int
) -> None:
    """On PostgreSQL the batches race for the locations' and connectors' locks: taken in
    one order (locations by pk, connector rows by charge point), neither deadlocks."""
    upsert(location_payload("LOC2", evses=3))
    uids = [*UIDS, "LOC2-E0", "LOC2-E1", "LOC2-E2"]
    cps = one_each(*uids)
    moment = now()
    # Each batch holds EVSEs of both locations, in opposite orders.
    first = [incoming(cp, "Charging", moment) for cp in (cps[5], cps[0], cps[4])]
    second = [incoming(cp, "Faulted", moment) for cp in (cps[1], cps[3], cps[2])]

    at_once(lambda: _answered(first), lambda: _answered(second))

    assert [evse_status(uid) for uid in uids] == [
        "CHARGING",
        "OUTOFORDER",
        "OUTOFORDER",
        "OUTOFORDER",
        "CHARGING",
        "CHARGING",
    ]


def _answered(calls: list[batches.Incoming]) -> None:
    answers = statuses.answer_all(calls)
    assert [answer.message_type for answer in answers] == [3, 3, 3]


def counting_batch(sizes: list[int]) -> statuses.StatusBatch:
    """A StatusBatch recording in the test's thread, each batch's size appended to `sizes`."""

    async def counting(function: Callable[..., Any], *args: Any) -> Any:
        sizes.append(len(args[0]))
        return await in_this_thread(function, *args)

    return statuses.StatusBatch(counting)


def test_statuses_that_keep_coming_gather_and_one_after_a_quiet_spell_goes_at_once(
    location: Location, settings: Any
) -> None:
    settings.OCPP_STATUS_BATCH_SECONDS = 2.0  # wide: a loaded machine records the first slowly
    cps = one_each(*UIDS)
    sizes: list[int] = []
    batch = counting_batch(sizes)
    moment = now()

    def send(cp: ChargePoint) -> "asyncio.Future[Any]":
        return asyncio.ensure_future(
            batch.answer(cp.pk, "1.6", incoming(cp, "Charging", moment).call, moment)
        )

    async def scenario() -> None:
        runner = asyncio.ensure_future(batch.run())
        await send(cps[0])  # after a quiet spell: recorded at once
        second = send(cps[1])  # within the window of the one before: the batch gathers
        await asyncio.sleep(0.05)
        third = send(cps[2])
        await asyncio.gather(second, third)
        runner.cancel()

    async_to_sync(scenario)()

    assert sizes == [1, 2]
    assert [evse_status(uid) for uid in UIDS] == ["CHARGING", "CHARGING", "CHARGING"]


def test_one_charge_points_statuses_in_a_row_never_wait(location: Location, settings: Any) -> None:
    # Its CALLs come one at a time (each after the last one's answer): gathering for the
    # window would only delay each by it (a 1.6 station's boot reports connector 0, then 1).
    settings.OCPP_STATUS_BATCH_SECONDS = 30.0
    (cp, *_) = one_each(*UIDS)
    sizes: list[int] = []
    batch = counting_batch(sizes)
    moment = now()

    async def scenario() -> None:
        runner = asyncio.ensure_future(batch.run())
        for reported in ("Preparing", "Charging", "Available"):
            answer = batch.answer(cp.pk, "1.6", incoming(cp, reported, moment).call, moment)
            await asyncio.wait_for(answer, 10)  # would wait out the 30 s window
        runner.cancel()

    async_to_sync(scenario)()

    assert sizes == [1, 1, 1]
    assert evse_status(UIDS[0]) == "AVAILABLE"
