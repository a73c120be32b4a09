"""The extrawest peer and our platform beside it, shared by the interop test modules.

One peer process per module (starting it takes seconds), reset for every test. `ours` hosts
BE*BEC, the CPO of the spec's location and CDR examples, on live_server so the peer can call
us back; `partner` is our registration with the peer; `workers` are real Celery workers on
the test database. The commands tests' fixtures (tests/interop/commands_setup.py) are
offered to every module here; a module's own fixture of the same name wins.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from credentials.models import PartnerPlatform
from tests.interop.commands_setup import charge_point, estate, gateway, version  # noqa: F401
from tests.interop.helpers import register_with
from tests.interop.peer import ExtrawestPeer
from tests.partners import only_local_party
from tests.push.worker import FAST_PUSH, CeleryWorker, CeleryWorkers, celery_workers


@pytest.fixture(scope="module")
def running_peer() -> Iterator[ExtrawestPeer]:
    with ExtrawestPeer() as peer:
        yield peer


@pytest.fixture
def peer(running_peer: ExtrawestPeer) -> ExtrawestPeer:
    running_peer.reset()
    return running_peer


@pytest.fixture
def ours(live_server: LiveServer, settings: Any) -> str:
    """Our platform on live_server, hosting BE*BEC only; its base URL."""
    settings.OCPI_BASE_URL = live_server.url
    only_local_party()
    return str(live_server.url)


@pytest.fixture
def partner(peer: ExtrawestPeer, ours: str) -> PartnerPlatform:
    """We registered with the peer: it is our eMSP partner with its endpoints."""
    return register_with(peer)


@pytest.fixture
def workers(ours: str, tmp_path: Path, settings: Any) -> Iterator[CeleryWorkers]:
    # A test that stands in for beat runs resend_due() here: with the workers' claim lease.
    settings.PUSH_CLAIM_LEASE_SECONDS = int(FAST_PUSH["PUSH_CLAIM_LEASE_SECONDS"])
    with celery_workers(tmp_path) as started:
        yield started


@pytest.fixture
def worker(partner: PartnerPlatform, workers: CeleryWorkers) -> CeleryWorker:
    return workers.start()
