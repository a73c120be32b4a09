from collections.abc import Callable, Iterator

import pytest

from credentials.models import PartnerEndpoint, PartnerPlatform, PartnerRole, PartnerStatus
from tests.push.sink import Sink, running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def make_partner(db: None) -> Callable[..., PartnerPlatform]:
    """A registered eMSP platform whose locations receiver is `url`."""

    def make(url: str, *, party: str = "ABC", retry: bool = True) -> PartnerPlatform:
        partner = PartnerPlatform(
            name=f"eMSP {party}",
            status=PartnerStatus.REGISTERED,
            versions_url=f"{url}/versions",
            retry_pushes=retry,
        )
        partner.set_incoming_token(f"in-{party}")
        partner.set_outgoing_token(f"out-{party}")
        partner.save()
        PartnerRole.objects.create(
            partner=partner,
            role="EMSP",
            country_code="DE",
            party_id=party,
            business_details={"name": party},
        )
        PartnerEndpoint.objects.create(
            partner=partner, identifier="locations", role="RECEIVER", url=f"{url}/locations"
        )
        return partner

    return make
