"""What a StatusNotification that changes an EVSE's status costs in queries, pinned: the
gateway's CPU per status is mostly these round trips and their ORM work (bench/RESULTS.md,
"Gateway: a changed status in fewer queries"), so a new one must be a decision, not a slip."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ocpp.messages import Call

from chargers.gateway import batches, statuses
from chargers.models import ChargePoint
from credentials.models import PartnerPlatform
from locations.models import Location
from ocpi.time import now
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
