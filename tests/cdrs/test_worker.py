"""CDRs reach the eMSP through a real Celery worker, and the Location it answers is kept.

mod_cdrs.asciidoc, Receiver Interface, POST: the eMSP answers with a `Location` header, "URL to
the newly created CDR in the eMSP's system"; the CPO may GET the CDR there later.
"""

import json as stdlib_json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from cdrs.models import Cdr
from cdrs.services import cdr_credit, cdr_for_session, render_cdr
from credentials.models import LocalParty
from ocpi import json
from push.models import Delivery, DeliveryStatus
from push.services import KICK_KEY
from tests.cdrs.conftest import MakeSession
from tests.cdrs.test_builder import T10_END, T10_PERIODS
from tests.examples import tariff_example
from tests.partners import registered_emsp
from tests.push.polling import wait_until
from tests.push.sink import Received, Sink, running_sink
from tests.push.worker import CeleryWorker, celery_workers

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def location_of(received: Received) -> dict[str, str]:
    return {"Location": f"https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/{received.body['id']}"}


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        running.headers = location_of
        yield running


@pytest.fixture
def emsp_at_sink(sink: Sink, cpo: LocalParty) -> None:
    partner = registered_emsp(
        "Emsp-A",
        "emsp-a-token",
        ("DE", "MSP"),
        endpoints=(("cdrs", "RECEIVER", f"{sink.url}/cdrs/"),),
    )
    # Partner ids start again with every test database; a wake-up marker left in the
    # shared cache by an earlier run must not swallow this partner's first kick.
    cache.delete(KICK_KEY.format(partner_id=partner.pk))


@pytest.fixture
def worker(emsp_at_sink: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    with celery_workers(tmp_path) as workers:
        yield workers.start()


def delivered(cdr: Cdr) -> Delivery | None:
    return Delivery.objects.filter(
        change__payload__id=cdr.ocpi_id, status=DeliveryStatus.DELIVERED
    ).first()


def test_the_cdr_and_its_credit_are_posted_and_their_locations_kept(
    make_session: MakeSession, worker: CeleryWorker, sink: Sink
) -> None:
    session = make_session(
        periods=T10_PERIODS, end=T10_END, tariffs=[tariff_example("tariff_4_complex.json")]
    )
    with transaction.atomic():
        cdr = cdr_for_session(session=session)
    assert cdr is not None

    first = wait_until(lambda: delivered(cdr), what="the CDR delivered")
    credit = cdr_credit(cdr=cdr, remark="Meter fault")
    second = wait_until(lambda: delivered(credit), what="the credit CDR delivered")

    assert [(r.method, r.path, r.headers["ocpi-to-party-id"]) for r in sink.received] == [
        ("POST", "/cdrs/", "MSP"),
        ("POST", "/cdrs/", "MSP"),
    ]
    # The sink reads JSON numbers as floats: compare with our JSON read the same way.
    bodies: list[Any] = [r.body for r in sink.received]
    assert bodies == [stdlib_json.loads(json.dumps(render_cdr(c))) for c in (cdr, credit)]
    assert (first.response_location, second.response_location) == (
        "https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/S1",
        "https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/S1-C",
    )
