"""We register with a partner that gave us its token A: `manage.py ocpi_register`.

credentials.asciidoc, Registration, seen from the Sender: fetch the partner's versions and
details with token A, POST our credentials with a new token B (which must already work: the
partner fetches our versions with it before answering), store the token C it answers.
A failed handshake stores nothing.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from credentials.models import LocalParty, PartnerPlatform, PartnerStatus
from tests.credentials.conftest import OUR_ROLE, calls_us
from tests.credentials.fake_partner import (
    FakePartner,
    RawReply,
    closed_port,
    envelope,
    token_header,
)


def register(url: str, token_a: str) -> str:
    out = StringIO()
    call_command("ocpi_register", url, token_a, name="Fake eMSP", stdout=out)
    return out.getvalue()


def test_ocpi_register_completes_the_handshake(partner: FakePartner, live_platform: str) -> None:
    token_a = partner.invite()

    output = register(partner.versions_url, token_a)

    stored = PartnerPlatform.objects.get()
    assert output == f"Registered with Fake eMSP (id {stored.pk}): DE*FKE EMSP\n"
    assert (stored.status, stored.version, stored.versions_url, stored.plain_tokens) == (
        PartnerStatus.REGISTERED,
        "2.2.1",
        partner.versions_url,
        False,
    )
    assert (stored.outgoing_token, stored.incoming_token) == (
        partner.token_c,
        partner.platform_token,
    )
    assert list(stored.endpoints.values_list("identifier", "role", "url")) == (
        partner.endpoint_rows()
    )


def test_ocpi_register_calls_the_partner_with_token_a_and_sends_token_b(
    partner: FakePartner, live_platform: str
) -> None:
    token_a = partner.invite()

    register(partner.versions_url, token_a)

    assert partner.seen() == [
        ("GET", "/ocpi/versions", token_header(token_a)),
        ("GET", "/ocpi/2.2.1", token_header(token_a)),
        ("POST", "/ocpi/2.2.1/credentials", token_header(token_a)),
    ]
    assert partner.calls[2].body == {
        "token": partner.platform_token,
        "url": f"{live_platform}/ocpi/versions",
        "roles": [OUR_ROLE],
    }


def test_after_registering_token_b_opens_our_versions(
    partner: FakePartner, live_platform: str
) -> None:
    register(partner.versions_url, partner.invite())

    assert calls_us(live_platform, str(partner.platform_token)) == 200


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(
            RawReply(200, envelope(status_code=2001, message="Roles missing")),
            "Registration with Fake eMSP failed: POST {url} answered HTTP 200, OCPI 2001: "
            "Roles missing",
            id="rejected",
        ),
        pytest.param(
            RawReply(401, envelope(status_code=2000)),
            "Registration with Fake eMSP failed: POST {url} failed: POST {url}: HTTP 401, "
            "token refused",
            id="token-a-refused",
        ),
        pytest.param(
            RawReply(200, envelope({"token": "token c", "url": "http://x.test/v", "roles": []})),
            "Registration with Fake eMSP failed: token: Must be 1 to 64 printable ASCII "
            "characters without spaces (U+0021 to U+007E).; roles: This list may not be empty.",
            id="invalid-credentials",
        ),
        pytest.param(
            RawReply(
                200, envelope({"token": "token-c", "url": "http://x.test/v", "roles": [OUR_ROLE]})
            ),
            "Registration with Fake eMSP failed: NL*CPO CPO is a party of this platform",
            id="claims-our-party",
        ),
    ],
)
def test_a_failed_post_stores_nothing(
    reply: RawReply, message: str, partner: FakePartner, our_party: LocalParty
) -> None:
    partner.credentials_reply = reply

    with pytest.raises(CommandError) as failure:
        register(partner.versions_url, partner.invite())

    assert str(failure.value) == message.format(url=partner.credentials_url)
    assert PartnerPlatform.objects.count() == 0


def test_no_mutual_version_is_an_error_and_nothing_is_posted(
    partner: FakePartner, our_party: LocalParty
) -> None:
    partner.versions = [{"version": "2.1.1", "url": f"{partner.base_url}/ocpi/2.1.1"}]

    with pytest.raises(CommandError) as failure:
        register(partner.versions_url, partner.invite())

    assert str(failure.value) == (
        "Reading the partner's versions and endpoints failed "
        "(OCPI 3002): No mutual version: we speak 2.2.1, the partner offers 2.1.1"
    )
    assert [call.method for call in partner.calls] == ["GET"]
    assert PartnerPlatform.objects.count() == 0


def test_no_credentials_endpoint_is_an_error_and_nothing_is_posted(
    partner: FakePartner, our_party: LocalParty
) -> None:
    partner.endpoints = [{"identifier": "tokens", "role": "SENDER", "url": partner.tokens_url}]

    with pytest.raises(CommandError) as failure:
        register(partner.versions_url, partner.invite())

    assert str(failure.value) == (
        "Reading the partner's versions and endpoints failed "
        "(OCPI 3003): Required endpoints missing: credentials"
    )
    assert [call.method for call in partner.calls] == ["GET", "GET"]
    assert PartnerPlatform.objects.count() == 0


def test_an_unreachable_partner_is_an_error(our_party: LocalParty) -> None:
    url = f"http://127.0.0.1:{closed_port()}/ocpi/versions"

    with pytest.raises(CommandError) as failure:
        register(url, "token-a")

    assert str(failure.value).startswith(
        "Reading the partner's versions and endpoints failed "
        f"(OCPI 3001): Cannot use {url}: GET {url} failed: "
    )
    assert PartnerPlatform.objects.count() == 0


def test_a_wrong_token_a_is_an_error(partner: FakePartner, our_party: LocalParty) -> None:
    partner.invite()

    with pytest.raises(CommandError) as failure:
        register(partner.versions_url, "not-the-token-a")

    url = partner.versions_url
    assert str(failure.value) == (
        "Reading the partner's versions and endpoints failed "
        f"(OCPI 3001): {url} refused our token: GET {url}: HTTP 401, token refused"
    )
    assert PartnerPlatform.objects.count() == 0


def test_the_name_defaults_to_the_partners_host(partner: FakePartner, live_platform: str) -> None:
    call_command("ocpi_register", partner.versions_url, partner.invite(), stdout=StringIO())

    assert PartnerPlatform.objects.get().name == "127.0.0.1"


def test_handshake_calls_carry_request_ids_and_no_routing_headers(
    partner: FakePartner, live_platform: str
) -> None:
    register(partner.versions_url, partner.invite())

    headers = [call.headers for call in partner.calls]
    assert [[name for name in h if name.startswith("ocpi-")] for h in headers] == [[], [], []]
    assert len({h["x-request-id"] for h in headers}) == 3
    assert [h["content-type"] for h in headers if "content-type" in h] == ["application/json"]
    assert all(h["x-correlation-id"] for h in headers)
