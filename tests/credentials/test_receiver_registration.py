"""A partner registers with us: POST credentials with token A (credentials.asciidoc, Registration).

We are the handshake's Receiver: we fetch the partner's versions and 2.2.1 details with the
token B from its body, answer our token C, and token A stops working.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from rest_framework.test import APIClient

from credentials.models import (
    Invitation,
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from tests.conftest import authorization
from tests.credentials.conftest import (
    CREDENTIALS_PATH,
    OUR_ROLE,
    VERSIONS_PATH,
    OcpiCall,
    Registration,
)
from tests.credentials.fake_partner import ROLES, FakePartner, RawReply, closed_port, envelope

TOKEN_B = "token-b"


def assert_nothing_stored(invitation: Invitation) -> None:
    assert PartnerPlatform.objects.count() == 0
    assert PartnerEndpoint.objects.count() == 0
    assert PartnerRole.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.state == "open"
    assert invitation.partner is None


# --- the happy path ---------------------------------------------------------------------------


def test_registration_answers_token_c_with_our_url_and_roles(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert answer.http_status == 200
    token_c = answer.data["token"]
    assert answer.body == {
        "data": {"token": token_c, "url": "https://cpo.test/ocpi/versions", "roles": [OUR_ROLE]},
        "status_code": 1000,
        "timestamp": answer.body["timestamp"],
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token_c)


def test_registration_fetches_the_partners_versions_with_token_b_in_base64(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation

    ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert partner.seen() == [
        ("GET", "/ocpi/versions", "Token dG9rZW4tYg=="),
        ("GET", "/ocpi/2.2.1", "Token dG9rZW4tYg=="),
    ]


def test_registration_stores_the_partner_its_endpoints_and_roles(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation

    token_c = ocpi_call("POST", token_a, partner.credentials(TOKEN_B)).data["token"]

    stored = PartnerPlatform.objects.get()
    assert (stored.name, stored.status, stored.versions_url, stored.version) == (
        "Test eMSP",
        PartnerStatus.REGISTERED,
        partner.versions_url,
        "2.2.1",
    )
    assert (stored.incoming_token, stored.outgoing_token, stored.plain_tokens) == (
        token_c,
        TOKEN_B,
        False,
    )
    assert list(stored.endpoints.values_list("identifier", "role", "url")) == [
        ("credentials", "SENDER", partner.credentials_url),
        ("tokens", "SENDER", partner.tokens_url),
    ]
    assert list(stored.roles.values("role", "country_code", "party_id", "business_details")) == [
        {
            "role": "EMSP",
            "country_code": "DE",
            "party_id": "FKE",
            "business_details": {"name": "Fake eMSP"},
        }
    ]
    invite.refresh_from_db()
    assert (invite.state, invite.partner) == ("used", stored)


def test_token_a_stops_working_and_token_c_opens_versions(
    registered: Registration, invitation: tuple[Invitation, str], ocpi_call: OcpiCall
) -> None:
    _, token_a = invitation

    with_a = ocpi_call("GET", token_a, path=VERSIONS_PATH)
    with_c = ocpi_call("GET", registered.token_c, path=VERSIONS_PATH)

    assert (with_a.http_status, with_a.status_code) == (401, 2000)
    assert (with_c.http_status, with_c.status_code) == (200, 1000)
    assert with_c.data == [{"version": "2.2.1", "url": "https://cpo.test/ocpi/2.2.1"}]


def test_get_credentials_with_token_c_returns_the_same_token_c(
    registered: Registration, ocpi_call: OcpiCall
) -> None:
    answer = ocpi_call("GET", registered.token_c)

    assert (answer.http_status, answer.status_code) == (200, 1000)
    assert answer.data == {
        "token": registered.token_c,
        "url": "https://cpo.test/ocpi/versions",
        "roles": [OUR_ROLE],
    }


def test_post_again_with_token_c_is_405(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    answer = ocpi_call("POST", registered.token_c, partner.credentials("token-b2"))

    assert (answer.http_status, answer.status_code) == (405, 2000)
    assert answer.body["status_message"] == "Already registered: use PUT to update or DELETE to end"
    assert partner.calls == []
    assert PartnerPlatform.objects.get().outgoing_token == TOKEN_B


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_get_put_delete_with_token_a_are_405(
    method: str,
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation

    answer = ocpi_call(method, token_a, partner.credentials(TOKEN_B))

    assert (answer.http_status, answer.status_code) == (405, 2000)
    assert answer.body["status_message"] == "Not registered: register with POST and a token A first"
    assert_nothing_stored(invite)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_or_missing_token_is_401(
    method: str, partner: FakePartner, our_party: LocalParty, ocpi_call: OcpiCall
) -> None:
    unknown = ocpi_call(method, "never-issued", partner.credentials(TOKEN_B))
    missing = ocpi_call(method, None, partner.credentials(TOKEN_B))

    assert (unknown.http_status, unknown.status_code) == (401, 2000)
    assert (missing.http_status, missing.status_code) == (401, 2000)
    assert partner.calls == []


def test_a_partner_that_only_accepts_raw_tokens_is_detected(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.plain_tokens_only = True

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert answer.status_code == 1000
    assert PartnerPlatform.objects.get().plain_tokens is True
    assert partner.seen() == [
        ("GET", "/ocpi/versions", "Token dG9rZW4tYg=="),
        ("GET", "/ocpi/versions", "Token token-b"),
        ("GET", "/ocpi/2.2.1", "Token token-b"),
    ]


def test_later_calls_to_a_raw_token_partner_send_the_raw_token(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.plain_tokens_only = True
    ocpi_call("POST", token_a, partner.credentials(TOKEN_B))
    partner.calls.clear()

    call_command("ocpi_partner", "refresh", "Test eMSP", stdout=StringIO())

    assert partner.seen() == [
        ("GET", "/ocpi/versions", "Token token-b"),
        ("GET", "/ocpi/2.2.1", "Token token-b"),
    ]


def test_the_credentials_url_answers_with_a_trailing_slash_too(
    registered: Registration, ocpi_call: OcpiCall
) -> None:
    answer = ocpi_call("GET", registered.token_c, path=CREDENTIALS_PATH + "/")

    assert (answer.http_status, answer.status_code) == (200, 1000)
    assert answer.data["token"] == registered.token_c


def test_routing_headers_on_credentials_are_2001(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    api_client: APIClient,
) -> None:
    invite, token_a = invitation

    response = api_client.post(
        CREDENTIALS_PATH,
        partner.credentials(TOKEN_B),
        format="json",
        HTTP_AUTHORIZATION=authorization(token_a),
        HTTP_OCPI_FROM_COUNTRY_CODE="DE",
        HTTP_OCPI_FROM_PARTY_ID="FKE",
        HTTP_OCPI_TO_COUNTRY_CODE="NL",
        HTTP_OCPI_TO_PARTY_ID="CPO",
    )

    assert (response.status_code, response.json()["status_code"]) == (200, 2001)
    assert response.json()["status_message"] == (
        "Routing headers must not be used on the credentials module: OCPI-from-country-code, "
        "OCPI-from-party-id, OCPI-to-country-code, OCPI-to-party-id"
    )
    assert_nothing_stored(invite)


# --- the partner's API cannot be used: 3001, 3002, 3003, and nothing stored -------------------


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(
            RawReply(500, envelope(status_code=3000, message="Server error")),
            "GET {url} answered HTTP 500, OCPI 3000 Server error",
            id="http-500",
        ),
        pytest.param(
            RawReply(200, b"<html>It works!</html>"),
            "Cannot use {url}: GET {url}: HTTP 200, body is not JSON: '<html>It works!</html>'",
            id="not-json",
        ),
        pytest.param(
            RawReply(200, b'{"versions": []}'),
            "Cannot use {url}: GET {url}: HTTP 200, not an OCPI envelope: '{{\"versions\": []}}'",
            id="not-an-envelope",
        ),
        pytest.param(
            RawReply(200, envelope({"version": "2.2.1"})),
            "Versions list from {url} is invalid: body: Expected a list of items but got type"
            ' "dict".',
            id="data-not-a-list",
        ),
        pytest.param(
            RawReply(200, envelope([{"version": "2.2.1", "url": "ftp://emsp.test/2.2.1"}])),
            "Versions list from {url} is invalid: 0.url: Must be an absolute http(s) URL.",
            id="bad-details-url",
        ),
        pytest.param(
            RawReply(401, envelope(status_code=2000, message="Unknown token")),
            "{url} refused our token: GET {url}: HTTP 401, token refused",
            id="refuses-token-b",
        ),
    ],
)
def test_unusable_versions_endpoint_is_3001_and_nothing_is_stored(
    reply: RawReply,
    message: str,
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    partner.versions_reply = reply

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert (answer.http_status, answer.status_code) == (200, 3001)
    assert answer.body["status_message"] == message.format(url=partner.versions_url)
    assert_nothing_stored(invite)


def test_partner_refusing_token_b_is_3001_after_trying_base64_then_raw(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    body = partner.credentials(TOKEN_B)
    partner.accepted = {"some-other-token"}

    answer = ocpi_call("POST", token_a, body)

    assert (answer.http_status, answer.status_code) == (200, 3001)
    assert partner.seen() == [
        ("GET", "/ocpi/versions", "Token dG9rZW4tYg=="),
        ("GET", "/ocpi/versions", "Token token-b"),
    ]
    assert_nothing_stored(invite)


def test_versions_url_on_a_closed_port_is_3001(
    invitation: tuple[Invitation, str], our_party: LocalParty, ocpi_call: OcpiCall
) -> None:
    invite, token_a = invitation
    url = f"http://127.0.0.1:{closed_port()}/ocpi/versions"

    answer = ocpi_call("POST", token_a, {"token": TOKEN_B, "url": url, "roles": ROLES})

    assert (answer.http_status, answer.status_code) == (200, 3001)
    assert answer.body["status_message"].startswith(f"Cannot use {url}: GET {url} failed: ")
    assert_nothing_stored(invite)


def test_no_2_2_1_in_the_versions_list_is_3002(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    partner.versions = [
        {"version": "2.1.1", "url": f"{partner.base_url}/ocpi/2.1.1"},
        {"version": "2.2", "url": f"{partner.base_url}/ocpi/2.2"},
    ]

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert (answer.http_status, answer.status_code) == (200, 3002)
    assert answer.body["status_message"] == (
        "No mutual version: we speak 2.2.1, the partner offers 2.1.1, 2.2"
    )
    assert_nothing_stored(invite)


def test_details_without_a_credentials_endpoint_are_3003(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    partner.endpoints = [{"identifier": "tokens", "role": "SENDER", "url": partner.tokens_url}]

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert (answer.http_status, answer.status_code) == (200, 3003)
    assert answer.body["status_message"] == "Required endpoints missing: credentials"
    assert_nothing_stored(invite)


def test_private_partner_urls_are_refused_in_production(
    settings: object,
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    settings.OCPI_ALLOW_PRIVATE_URLS = False  # type: ignore[attr-defined]

    answer = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert (answer.http_status, answer.status_code) == (200, 3001)
    assert answer.body["status_message"] == (
        "Versions URL not allowed: 127.0.0.1 resolves to 127.0.0.1, a private or reserved address"
    )
    assert partner.calls == []
    assert_nothing_stored(invite)


def test_the_invitation_still_works_after_a_failed_handshake(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.versions_reply = RawReply(503, b"")
    failed = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))
    partner.versions_reply = None

    retried = ocpi_call("POST", token_a, partner.credentials(TOKEN_B))

    assert (failed.status_code, retried.status_code) == (3001, 1000)
    assert PartnerPlatform.objects.get().status == PartnerStatus.REGISTERED


# --- one token A, two registrations at once ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_token_a_used_twice_at_once_registers_one_partner(
    partner: FakePartner, invitation: tuple[Invitation, str], live_platform: str
) -> None:
    _, token_a = invitation
    body = partner.credentials(TOKEN_B)
    # Both requests pass authentication and wait at the partner's versions endpoint, so both
    # reach the point of storing the partner: only one may win.
    partner.versions_gate = threading.Barrier(2)

    def register() -> tuple[int, int]:
        response = requests.post(
            live_platform + CREDENTIALS_PATH,
            json=body,
            headers={"Authorization": authorization(token_a)},
            timeout=30,
        )
        return response.status_code, response.json()["status_code"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(lambda _: register(), range(2)))

    assert outcomes == [(200, 1000), (405, 2000)]
    assert PartnerPlatform.objects.count() == 1
