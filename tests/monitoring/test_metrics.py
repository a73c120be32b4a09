"""/metrics: who may read it, what it says (parsed with prometheus-client's own parser), and
that a scrape costs a constant number of queries."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chargers.models import ChargePoint
from locations.models import EVSE, Status
from monitoring.metrics import exposition, ocpi_module
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services
from push.models import Delivery
from tests.locations.conftest import location_payload, our_parties, upsert  # noqa: F401

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-0123456789"


def push(name: str) -> None:
    services.push_change(
        module="locations",
        method="PUT",
        owner=PartyRef.of("NL", "TNM"),
        object_key=f"locations:{name}",
        path=["NL", "TNM", name],
        payload={"id": name},
        targets=services.catalogue_targets("locations"),
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


@pytest.fixture
def token(settings) -> None:
    settings.METRICS_TOKEN = TOKEN


def test_closed_by_default(client):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_bearer_token_opens_it_and_a_wrong_one_does_not(client, token):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_allowed_addresses_open_it_without_a_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.8").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_only_get(client, token):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_queue_depth_per_partner_and_state(client, token, sink, make_partner):
    first = make_partner(sink.url, party="ABC")
    second = make_partner(sink.url, party="XYZ")
    push("LOC1")
    push("LOC2")
    delivery.deliver_due(second.pk)

    found = scrape(client)

    def depth(partner, status):
        labels = {"partner_id": str(partner.pk), "partner": partner.name, "status": status}
        return found[("ocpi_push_queue_depth", tuple(sorted(labels.items())))]

    assert (depth(first, "PENDING"), depth(first, "IN_FLIGHT")) == (2, 0)
    assert (depth(second, "PENDING"), depth(second, "IN_FLIGHT")) == (0, 0)


def test_delivery_latency_histogram_of_the_window(client, token, settings, sink, make_partner):
    settings.METRICS_LATENCY_WINDOW_SECONDS = 300
    partner = make_partner(sink.url)
    for name in ("LOC1", "LOC2", "LOC3"):
        push(name)
    delivery.deliver_due(partner.pk)
    delivered = now() - timedelta(seconds=1)
    # Created 45 s and 10 min before they were delivered; the third delivered before the window.
    for pk, waited, at in zip(
        Delivery.objects.order_by("pk").values_list("pk", flat=True),
        (timedelta(seconds=45), timedelta(minutes=10), timedelta(seconds=1)),
        (delivered, delivered, delivered - timedelta(seconds=301)),
        strict=True,
    ):
        Delivery.objects.filter(pk=pk).update(created_at=at - waited, delivered_at=at)

    found = scrape(client)

    def bucket(le):
        return found[("ocpi_push_delivery_latency_seconds_bucket", (("le", le),))]

    assert [bucket(le) for le in ("30.0", "60.0", "300.0", "900.0", "+Inf")] == [0, 1, 1, 2, 2]
    assert found[("ocpi_push_delivery_latency_seconds_gcount", ())] == 2
    assert found[("ocpi_push_delivery_latency_seconds_gsum", ())] == 645


def test_charge_points_and_evse_statuses(client, token, our_parties):  # noqa: F811
    upsert(location_payload("LOC1", evses=3))
    first, second, _ = EVSE.objects.order_by("pk")
    EVSE.objects.filter(pk=first.pk).update(status=Status.CHARGING)
    EVSE.objects.filter(pk=second.pk).update(status=Status.OUTOFORDER)
    ChargePoint.objects.create(identity="CP-1", ocpp_version="1.6", gateway="gw-1")
    ChargePoint.objects.create(identity="CP-2", ocpp_version="1.6")

    found = scrape(client)

    evses = {
        dict(labels)["status"]: value
        for (name, labels), value in found.items()
        if name == "ocpi_evses"
    }
    assert evses == {status.value: 0 for status in Status} | {
        "AVAILABLE": 1,
        "CHARGING": 1,
        "OUTOFORDER": 1,
    }
    assert found[("ocpi_charge_points_connected", ())] == 1
    assert found[("ocpi_charge_points", ())] == 2


def test_ocpi_requests_are_counted_by_module_and_status(client, token):
    def count(module, status):
        key = ("ocpi_requests_total", (("module", module), ("status", status)))
        return scrape(client).get(key, 0)

    before = (count("versions", "401"), count("locations", "401"), count("other", "401"))
    client.get("/ocpi/versions")
    client.get("/ocpi/cpo/2.2.1/locations/LOC1")
    client.get("/ocpi/cpo/2.2.1/locations")
    client.get("/ocpi/nothing/here")
    client.get("/healthz")  # not OCPI: not counted

    after = (count("versions", "401"), count("locations", "401"), count("other", "401"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1]


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/ocpi/versions", "versions"),
        ("/ocpi/2.2.1", "versions"),
        ("/ocpi/2.2.1/credentials", "credentials"),
        ("/ocpi/cpo/2.2.1/locations", "locations"),
        ("/ocpi/cpo/2.2.1/tokens/DE/MSP/123/authorize", "tokens"),
        ("/ocpi/emsp/2.2.1/cdrs/1", "cdrs"),
        ("/ocpi/cpo/2.2.1/made-up-module/1", "other"),
        ("/ocpi/cpo", "other"),
        ("/ocpi", "other"),
        ("/ocpi/2.2.1/x", "other"),
    ],
)
def test_module_labels_are_bounded(path, module):
    assert ocpi_module(path) == module


def test_a_scrape_costs_the_same_queries_however_many_partners(
    sink, make_partner, django_assert_num_queries
):
    make_partner(sink.url, party="ABC")
    push("LOC1")
    with django_assert_num_queries(6):
        exposition()
    for party in ("DEF", "GHI", "JKL"):
        make_partner(sink.url, party=party)
    push("LOC2")
    with django_assert_num_queries(6):
        exposition()


def test_multiprocess_mode_adds_up_the_web_processes(client, token, tmp_path, monkeypatch):
    """Two web processes count requests into PROMETHEUS_MULTIPROC_DIR; the process that
    answers the scrape reports their sum."""
    count = (
        "import django; django.setup()\n"
        "from monitoring.metrics import count_request\n"
        "for _ in range({n}): count_request('/ocpi/cpo/2.2.1/tariffs', 200)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    found = scrape(client)

    assert found[("ocpi_requests_total", (("module", "tariffs"), ("status", "200")))] == 5
    assert found[("ocpi_evses", (("status", "AVAILABLE"),))] == 0  # the database's still there
