"""Pushes to extrawest-ocpi as the eMSP, through a real Celery worker.

We register with the peer (our platform on live_server, so the peer can fetch our versions
during the handshake), start a `celery worker` process on the test database
(tests/push/worker.py), then change locations and tariffs through our services. The worker
sends the pushes; the peer checks them with its own pydantic models (py_ocpi's Location, EVSE
and Tariff) and stores them. We check what the peer received (/_control/state request_log)
and what it stored (objects). mod_locations.asciidoc and mod_tariffs.asciidoc, Receiver
interface. What we tolerate from the peer: extrawest_peer/README.md, "Pushes".
"""

import copy
from typing import Any

import pytest

from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from locations.services import evse_set_status
from ocpi import json
from push.models import Delivery, DeliveryStatus
from push.tasks import resend_due
from tariffs.services import tariff_delete
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import (
    Entry,
    as_sent,
    pushes,
    register_with,
    seconds_only,
    stored,
    summary,
    summary_http,
    wait_for_stored,
)
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.relay import TcpRelay
from tests.push.worker import CeleryWorker, CeleryWorkers

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

LOCATIONS_PATH = "/ocpi/emsp/2.2.1/locations/BE/BEC"
TARIFFS_PATH = "/ocpi/emsp/2.2.1/tariffs/BE/BEC"


def location_example(location_id: str = "LOC1") -> dict[str, Any]:
    """location_example.json of BE*BEC (2 EVSEs, 3 connectors) under another id and EVSE ids."""
    payload = copy.deepcopy(example("locations", "location_example.json"))
    if location_id != payload["id"]:
        payload["id"] = location_id
        for evse in payload["evses"]:
            evse["uid"] = f"{location_id}-{evse['uid']}"
            evse["evse_id"] = f"{evse['evse_id']}{location_id}"
    return payload


def evse(location: Location, uid: str) -> EVSE:
    return location.evses.get(uid=uid)


# --- reading the peer --------------------------------------------------------------------


def all_delivered() -> bool:
    return not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def evse_statuses(location: Entry) -> dict[str, str]:
    return {e["uid"]: e["status"] for e in location["evses"]}


# --- the tests ---------------------------------------------------------------------------------


def test_a_new_location_arrives_as_a_put_that_the_peer_validates_and_stores(
    peer: ExtrawestPeer, worker: CeleryWorker
) -> None:
    location = upsert_location(location_example())

    kept = wait_for_stored(peer, "locations", "BE/BEC/LOC1")

    [put] = pushes(peer)
    sent = Delivery.objects.get().change.payload
    assert summary([put]) == [("PUT", f"{LOCATIONS_PATH}/LOC1", 200, 1000)]
    assert put["body"] == json.loads(json.dumps(sent))
    assert put["headers"]["ocpi-from-party-id"] == "BEC"
    assert put["headers"]["ocpi-to-party-id"] == "XWE"
    # The peer answers the object it stored as a one-element list (README, deviation 4).
    assert put["response_body"]["data"] == [kept]
    assert as_sent(kept) == put["body"]
    assert (kept["id"], kept["last_updated"]) == (
        location.ocpi_id,
        "2015-06-29T20:39:09Z",  # the example's: a new location keeps its owner's time
    )
    assert evse_statuses(kept) == {"3256": "AVAILABLE", "3257": "RESERVED"}


def test_an_evse_status_change_arrives_as_a_patch_and_changes_the_peer_s_evse(
    peer: ExtrawestPeer, worker: CeleryWorker
) -> None:
    location = upsert_location(location_example())
    wait_for_stored(peer, "locations", "BE/BEC/LOC1")

    changed = evse_set_status(evse=evse(location, "3256"), status="CHARGING")

    kept = wait_for_stored(
        peer, "locations", "BE/BEC/LOC1", lambda obj: evse_statuses(obj)["3256"] == "CHARGING"
    )
    put, patch = pushes(peer)
    assert summary([put, patch]) == [
        ("PUT", f"{LOCATIONS_PATH}/LOC1", 200, 1000),
        ("PATCH", f"{LOCATIONS_PATH}/LOC1/3256", 200, 1000),
    ]
    assert patch["body"] == {
        "status": "CHARGING",
        "last_updated": changed.last_updated.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        ),
    }
    assert evse_statuses(kept) == {"3256": "CHARGING", "3257": "RESERVED"}
    [kept_evse] = [e for e in kept["evses"] if e["uid"] == "3256"]
    assert kept_evse["last_updated"] == seconds_only(patch["body"]["last_updated"])


def test_a_tariff_arrives_as_a_put_and_its_deletion_as_a_delete(
    peer: ExtrawestPeer, worker: CeleryWorker
) -> None:
    tariff = upsert_tariff(tariff_example("tariff_4_complex.json"))
    kept = wait_for_stored(peer, "tariffs", "BE/BEC/14")

    tariff_delete(tariff=tariff)

    wait_until(
        lambda: stored(peer, "tariffs", "BE/BEC/14") is None,
        what="the tariff gone from the peer",
    )
    assert summary(pushes(peer)) == [
        ("PUT", f"{TARIFFS_PATH}/14", 200, 1000),
        ("DELETE", f"{TARIFFS_PATH}/14", 200, 1000),
    ]
    put = pushes(peer)[0]
    assert as_sent(kept) == seconds_only(put["body"])
    assert kept["elements"][0]["price_components"] == [
        {"type": "FLAT", "price": 2.5, "vat": 15.0, "step_size": 1}
    ]
    assert kept["last_updated"] == tariff.last_updated.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_changes_made_while_the_peer_is_unreachable_all_arrive_in_order(
    peer: ExtrawestPeer, partner: PartnerPlatform, worker: CeleryWorker
) -> None:
    with TcpRelay(peer.port) as relay:
        # The peer keeps its registration and objects in memory, so it stays up; the
        # network path to its receivers goes through a relay that the test cuts.
        for module in ("locations", "tariffs"):
            partner.endpoints.filter(identifier=module).update(
                url=f"{relay.url}/ocpi/emsp/2.2.1/{module}/"
            )
        first = upsert_location(location_example("LOC1"))
        wait_for_stored(peer, "locations", "BE/BEC/LOC1")
        before = len(peer.state()["request_log"])

        relay.stop()
        evse_set_status(evse=evse(first, "3256"), status="CHARGING")
        evse_set_status(evse=evse(first, "3257"), status="AVAILABLE")
        second = upsert_location(location_example("LOC2"))
        evse_set_status(evse=evse(second, "LOC2-3256"), status="OUTOFORDER")
        upsert_tariff(tariff_example("tariff_2_alt_text.json"))
        # Every object's first change was tried and refused at least once.
        wait_until(
            lambda: (
                Delivery.objects.filter(attempts__gte=1, last_http_status=None)
                .values("queue_key")
                .distinct()
                .count()
                == 3
            ),
            beat=resend_due,
            what="a refused attempt for each of LOC1, LOC2 and tariff 12",
        )
        assert len(peer.state()["request_log"]) == before
        relay.start()
        wait_until(all_delivered, beat=resend_due, what="every delivery delivered")

    after = pushes(peer, before)
    assert summary([e for e in after if "/LOC1" in e["path"]]) == [
        ("PATCH", f"{LOCATIONS_PATH}/LOC1/3256", 200, 1000),
        ("PATCH", f"{LOCATIONS_PATH}/LOC1/3257", 200, 1000),
    ]
    assert summary([e for e in after if "/LOC2" in e["path"]]) == [
        ("PUT", f"{LOCATIONS_PATH}/LOC2", 200, 1000),
        ("PATCH", f"{LOCATIONS_PATH}/LOC2/LOC2-3256", 200, 1000),
    ]
    assert summary([e for e in after if "/tariffs/" in e["path"]]) == [
        ("PUT", f"{TARIFFS_PATH}/12", 200, 1000),
    ]
    assert len(after) == 5
    objects = peer.state()["objects"]
    assert evse_statuses(objects["locations"]["BE/BEC/LOC1"]) == {
        "3256": "CHARGING",
        "3257": "AVAILABLE",
    }
    assert evse_statuses(objects["locations"]["BE/BEC/LOC2"]) == {
        "LOC2-3256": "OUTOFORDER",
        "LOC2-3257": "RESERVED",
    }
    assert objects["tariffs"]["BE/BEC/12"]["tariff_alt_text"] == json.loads(
        json.dumps(tariff_example("tariff_2_alt_text.json")["tariff_alt_text"])
    )


def test_a_patch_the_peer_cannot_apply_fails_at_once_and_holds_up_nothing(
    peer: ExtrawestPeer, workers: CeleryWorkers
) -> None:
    """The location existed before the partner registered, so the partner never got it (an
    eMSP is to GET the list after registering, mod_locations.asciidoc, Flow): the peer
    answers its EVSE PATCH with 404 `{"detail": ...}`, no envelope (README, deviation 3)."""
    location = upsert_location(location_example())
    register_with(peer)
    workers.start()

    evse_set_status(evse=evse(location, "3256"), status="CHARGING")
    failed = wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).first(),
        what="the PATCH recorded as failed",
    )
    renamed = location_example()
    renamed["name"] = "Gent Zuid Station"
    renamed["evses"][0]["status"] = "CHARGING"  # as it is now
    upsert_location(renamed)
    kept = wait_for_stored(peer, "locations", "BE/BEC/LOC1")

    assert (failed.change.method, failed.attempts, failed.last_http_status) == ("PATCH", 1, 404)
    assert summary_http(pushes(peer)) == [
        ("PATCH", f"{LOCATIONS_PATH}/LOC1/3256", 404, {"detail": "Object not found."}),
        ("PUT", f"{LOCATIONS_PATH}/LOC1", 200, {"status_code": 1000}),
    ]
    assert (kept["name"], evse_statuses(kept)) == (
        "Gent Zuid Station",
        {"3256": "CHARGING", "3257": "RESERVED"},
    )
