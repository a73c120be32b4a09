"""What a StatusNotification that changes an EVSE's status costs in queries, pinned: the
gateway's CPU per status is mostly these round trips and their ORM work (bench/RESULTS.md,
"Gateway: a changed status in fewer queries"), so a new one must be a decision, not a slip."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ocpp.messages import Call

from chargers.gateway import batches, statuses
from chargers.models import ChargePoint, ChargePointEvse, ConnectorStatus
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from ocpi.time import format_datetime, now
from push.models import Delivery, DeliveryStatus, Method
from tests.chargers.status_estate import (
    UIDS,
    call,
    charge_point,
    location,
    one_each,
    partner,
    patch_of,
    patches,
)
from tests.locations.conftest import make_partner

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db

# The handler from the repeat check down to the outbox (the test's transaction makes
# record_all's transaction a savepoint: SAVEPOINT and RELEASE, BEGIN and COMMIT in service):
# the repeat check, the charge point's connector rows locked and read (its reports), its
# EVSE links, its reservations (the new status is AVAILABLE), the connector row written; the
# location locked, the EVSE read and written, the location's last_updated, the list
# generation; the partners (their cache's generation), the change, the pending deliveries of
# its queues with their changes, the superseded ones marked, the deliveries (one insert).
CHANGED_STATUS_QUERIES = 17


def status(connector: int, value: str) -> dict[str, object]:
    return {"connectorId": connector, "errorCode": "NoError", "status": value}


def test_a_changed_status_costs_a_fixed_number_of_queries_whatever_the_partners(
    location: Location, partner: PartnerPlatform
) -> None:
    other = make_partner("Emsp2", "tok-emsp2", ("NL", "MSP"))
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status(1, "Charging"))  # its PATCH waits, unsent

    with CaptureQueriesContext(connection) as queries:
        call(cp, "StatusNotification", status(1, "Available"))

    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == CHANGED_STATUS_QUERIES, "\n".join(statements)
    assert patches() == [patch_of("LOC1-E0", "CHARGING"), patch_of("LOC1-E0", "AVAILABLE")]
    # Both partners' first PATCH is superseded by the second, each receives it once.
    for receiver in (partner, other):
        rows = Delivery.objects.filter(partner=receiver, change__method=Method.PATCH).order_by("pk")
        assert [row.status for row in rows] == [DeliveryStatus.SUPERSEDED, DeliveryStatus.PENDING]


# A batch of statuses of several charge points (chargers.gateway.statuses.answer_all), each
# changing its EVSE: their charge points read, then as one changed status alone above but
# each statement once for the batch (the repeat check skipped: a repeat costs nothing more
# in the batch's transaction), so a status costs BATCH_QUERIES / n statements.
BATCH_QUERIES = 17


@pytest.mark.parametrize("size", [2, 3])
def test_a_batch_of_changed_statuses_costs_the_same_queries_whatever_its_size(
    location: Location, partner: PartnerPlatform, size: int
) -> None:
    uids = UIDS[:size]
    cps = one_each(*uids)
    for cp in cps:
        call(cp, "StatusNotification", status(1, "Charging"))

    with CaptureQueriesContext(connection) as queries:
        answers = statuses.answer_all([incoming(cp, status(1, "Available")) for cp in cps])

    assert [answer.message_type for answer in answers] == [3] * size
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == BATCH_QUERIES, "\n".join(statements)
    assert patches()[-size:] == [patch_of(uid, "AVAILABLE") for uid in uids]


def incoming(cp: ChargePoint, payload: dict[str, object]) -> batches.Incoming:
    call_ = Call("m-2", "StatusNotification", payload)
    return batches.Incoming(cp.pk, "1.6", call_, now())


# First statuses, as a reconnect storm brings them: no connector row exists yet. The batch
# makes them in one INSERT (ON CONFLICT DO NOTHING) with their reports and locks and reads
# them in one statement, where a get_or_create each took four (savepoint, read, insert,
# release), whatever its size: the charge points read, SAVEPOINT, their connector rows locked
# and read (none), the INSERT, the rows locked and read again, the EVSE links; the location
# locked, the EVSEs read and written, the location's last_updated, the list generation; the
# partners' generation, the changes, the pending deliveries, the deliveries; RELEASE. No
# connector row written after (the INSERT wrote them), no reservations read (CHARGING).
FIRST_BATCH_QUERIES = 16


@pytest.mark.parametrize("size", [2, 3])
def test_a_batch_of_first_statuses_costs_the_same_queries_whatever_its_size(
    location: Location, partner: PartnerPlatform, size: int
) -> None:
    uids = UIDS[:size]
    cps = [charge_point_of(uid) for uid in uids]

    with CaptureQueriesContext(connection) as queries:
        answers = statuses.answer_all([incoming(cp, status(1, "Charging")) for cp in cps])

    assert [answer.message_type for answer in answers] == [3] * size
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == FIRST_BATCH_QUERIES, "\n".join(statements)
    assert patches() == [patch_of(uid, "CHARGING") for uid in uids]
    stored = ConnectorStatus.objects.filter(charge_point__in=cps).values_list(
        "charge_point__identity", "ocpp_evse_id", "status"
    )
    assert sorted(stored) == [(cp.identity, 1, "Charging") for cp in cps]


def test_a_first_status_and_a_later_one_of_its_connector_in_one_batch(
    location: Location, partner: PartnerPlatform
) -> None:
    """The row made for the first is the one the second changes: both applied in order."""
    cp = charge_point_of(UIDS[0])
    first = {**status(1, "Preparing"), "timestamp": format_datetime(now())}
    second = {**status(1, "Charging"), "timestamp": format_datetime(now())}

    answers = statuses.answer_all([incoming(cp, first), incoming(cp, second)])

    assert [answer.message_type for answer in answers] == [3, 3]
    row = ConnectorStatus.objects.get(charge_point=cp)
    assert (row.ocpp_evse_id, row.connector_id, row.status) == (1, 0, "Charging")
    assert patches() == [patch_of(UIDS[0], "CHARGING")]


def charge_point_of(uid: str) -> ChargePoint:
    """A charge point (OCPP 1.6) whose connector 1 is EVSE `uid`, that never reported."""
    cp = ChargePoint.objects.create(identity=f"CP-{uid}", ocpp_version="1.6")
    ChargePointEvse.objects.create(charge_point=cp, ocpp_evse_id=1, evse=EVSE.objects.get(uid=uid))
    return cp
