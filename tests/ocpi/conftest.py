"""Fixtures of the protocol-core tests: the test model's table, partners, loopback servers."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from credentials.models import PartnerPlatform, PartnerStatus
from ocpi.context import current_correlation_id
from ocpi.time import now
from tests.conftest import authorization
from tests.ocpi.loopback import LoopbackServer, Responder
from tests.ocpi.testapp.models import Item

REGISTERED_TOKEN = "registered-partner-token"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Create the test model's table: it belongs to no installed app, so no migration makes it."""
    with django_db_blocker.unblock():
        if Item._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(Item)


@pytest.fixture
def registered_partner(db: None) -> PartnerPlatform:
    """A partner past the handshake, calling us with REGISTERED_TOKEN.

    last_contact_at is fresh so authentication does not write (query counts stay exact).
    """
    moment = now()
    partner = PartnerPlatform(
        name="Registered eMSP",
        status=PartnerStatus.REGISTERED,
        versions_url="https://emsp.example.com/ocpi/versions",
        version="2.2.1",
        registered_at=moment,
        last_contact_at=moment,
    )
    partner.set_incoming_token(REGISTERED_TOKEN)
    partner.set_outgoing_token("token-we-call-them-with")
    partner.save()
    return partner


@pytest.fixture
def partner_client(registered_partner: PartnerPlatform) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization(REGISTERED_TOKEN))
    return client


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    """Start HTTP servers on 127.0.0.1 answering with a responder (and LoopbackServer's
    options); stop them afterwards."""
    servers: list[LoopbackServer] = []

    def start(responder: Responder, **options: Any) -> LoopbackServer:
        server = LoopbackServer(responder, **options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def correlation_id() -> Iterator[str]:
    """Pretend we are handling a partner's request with this X-Correlation-ID."""
    value = "corr-3f1c9a"
    token = current_correlation_id.set(value)
    yield value
    current_correlation_id.reset(token)
