"""CDRs to extrawest-ocpi as the eMSP, through a real Celery worker.

We register with the peer (our platform on live_server), start a `celery worker` process on
the test database, and complete a session of one of the peer's tokens (DE*XWE): its CDR is
POSTed to the peer's cdrs Receiver endpoint, which checks it with its own pydantic model
(py_ocpi's Cdr), stores it and answers with a Location header, which we keep with the
delivery. Then its credit CDR takes the same way. mod_cdrs.asciidoc, Receiver Interface.
What we tolerate from the peer: extrawest_peer/README.md, "CDRs".
"""

from functools import partial
from typing import Any

import pytest
from django.db import transaction

from cdrs.models import Cdr
from cdrs.services import cdr_credit, render_cdr
from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient
from push.models import Delivery, DeliveryStatus
from tests.cdrs.conftest import create_location, create_session, t10_cdr
from tests.interop.helpers import (
    as_received,
    as_sent,
    pushes,
    seconds_only,
    summary,
    wait_for_stored,
)
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

CDRS_PATH = "/ocpi/emsp/2.2.1/cdrs/"


def peer_cdr(peer: ExtrawestPeer) -> Cdr:
    """The CDR of a T10 session (tariff_4_complex.json) of the peer's driver."""
    make_session = partial(create_session, create_location())
    with transaction.atomic():
        return t10_cdr(make_session, "SESSION-T10", token_party=(peer.country_code, peer.party_id))


def delivered(cdr: Cdr) -> Delivery | None:
    return Delivery.objects.filter(
        change__payload__id=cdr.ocpi_id, status=DeliveryStatus.DELIVERED
    ).first()


def as_the_peer_reads(cdr: Cdr) -> Any:
    """Our CDR as JSON read with floats, as the peer's request log and store hold numbers."""
    return as_received(render_cdr(cdr))


def as_the_peer_keeps(sent: dict[str, Any]) -> dict[str, Any]:
    """What the peer stores of a CDR we sent: DateTimes to the second, and no
    cdr_location.evse_uid, which its CdrLocation model lacks (README, CDRs)."""
    kept: dict[str, Any] = seconds_only(sent)
    kept["cdr_location"] = {k: v for k, v in kept["cdr_location"].items() if k != "evse_uid"}
    return kept


def test_our_cdr_is_validated_and_stored_by_the_peer_and_its_location_kept(
    peer: ExtrawestPeer, partner: PartnerPlatform, worker: CeleryWorker
) -> None:
    cdr = peer_cdr(peer)

    kept = wait_for_stored(peer, "cdrs", "SESSION-T10")
    delivery = wait_until(lambda: delivered(cdr), what="the CDR recorded as delivered")

    [post] = pushes(peer)
    assert summary([post]) == [("POST", CDRS_PATH, 200, 1000)]
    assert post["body"] == as_the_peer_reads(cdr)
    assert (post["headers"]["ocpi-from-party-id"], post["headers"]["ocpi-to-party-id"]) == (
        "BEC",
        "XWE",
    )
    assert as_sent(kept) == as_the_peer_keeps(post["body"])
    assert kept["total_cost"] == {"excl_vat": 9.0, "incl_vat": 10.3}
    # The peer writes its Location with https, whatever its scheme (README, deviation 7).
    location = f"https://127.0.0.1:{peer.port}/ocpi/emsp/2.2.1/cdrs/SESSION-T10"
    assert post["response_headers"]["location"] == location
    assert (delivery.response_location, delivery.last_http_status) == (location, 200)


def test_the_cdr_can_be_read_back_where_the_location_points(
    peer: ExtrawestPeer, partner: PartnerPlatform, worker: CeleryWorker
) -> None:
    """ "can be used by the CPO system to perform a GET on the same CDR" (POST, Response
    Headers): at the peer's own scheme, http, since its Location says https."""
    cdr = peer_cdr(peer)
    delivery = wait_until(lambda: delivered(cdr), what="the CDR recorded as delivered")

    reply = OcpiClient(partner.outgoing_token).get(
        delivery.response_location.replace("https://", "http://", 1)
    )

    assert (reply.http_status, reply.status_code) == (200, 1000)
    # One object, answered as a one-element list (README, deviation 4).
    [read] = reply.data
    assert as_sent(as_received(read)) == as_the_peer_keeps(as_the_peer_reads(cdr))


def test_a_credit_cdr_follows_its_original_to_the_peer(
    peer: ExtrawestPeer, partner: PartnerPlatform, worker: CeleryWorker
) -> None:
    cdr = peer_cdr(peer)
    wait_until(lambda: delivered(cdr), what="the CDR recorded as delivered")

    credit = cdr_credit(cdr=cdr, remark="Meter fault: not billable")

    kept = wait_for_stored(peer, "cdrs", "SESSION-T10-C")
    delivery = wait_until(lambda: delivered(credit), what="the credit recorded as delivered")
    assert summary(pushes(peer)) == [
        ("POST", CDRS_PATH, 200, 1000),
        ("POST", CDRS_PATH, 200, 1000),
    ]
    assert as_sent(kept) == as_the_peer_keeps(as_the_peer_reads(credit))
    assert (kept["credit"], kept["credit_reference_id"], kept["total_cost"]) == (
        True,
        "SESSION-T10",
        {"excl_vat": -9.0, "incl_vat": -10.3},
    )
    assert delivery.response_location.endswith("/ocpi/emsp/2.2.1/cdrs/SESSION-T10-C")
