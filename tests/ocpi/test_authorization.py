"""Who may call (transport_and_format.asciidoc, Authorization header; credentials.asciidoc).

`Authorization: Token <base64>` with a raw-token fallback; header name case-insensitive.
Token A of an open invitation opens versions and credentials only; elsewhere it is HTTP 401.
"""

import base64
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from credentials.models import Invitation, PartnerPlatform, PartnerStatus
from credentials.services import invitation_revoke
from ocpi.time import now
from tests.conftest import authorization
from tests.ocpi.conftest import REGISTERED_TOKEN

pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db]

FUNCTIONAL_URL = "/ocpi/cpo/2.2.1/testitems"


def get_status(client: APIClient, path: str, header: str) -> tuple[int, int]:
    response = client.get(path, headers={"Authorization": header})
    return response.status_code, response.json()["status_code"]


@pytest.mark.parametrize("path", ["/ocpi/versions", "/ocpi/2.2.1"])
def test_token_a_opens_the_versions_module(
    api_client: APIClient, invitation: tuple[Invitation, str], path: str
) -> None:
    assert get_status(api_client, path, authorization(invitation[1])) == (200, 1000)


def test_token_a_is_refused_on_a_functional_module(
    api_client: APIClient, invitation: tuple[Invitation, str]
) -> None:
    assert get_status(api_client, FUNCTIONAL_URL, authorization(invitation[1])) == (401, 2000)


def test_a_registered_partner_opens_a_functional_module(
    api_client: APIClient, registered_partner: PartnerPlatform
) -> None:
    assert get_status(api_client, FUNCTIONAL_URL, authorization(REGISTERED_TOKEN)) == (200, 1000)


def test_a_raw_token_is_accepted_as_a_fallback(
    api_client: APIClient, registered_partner: PartnerPlatform
) -> None:
    assert get_status(api_client, FUNCTIONAL_URL, f"Token {REGISTERED_TOKEN}") == (200, 1000)


def test_a_raw_token_a_is_accepted_as_a_fallback(
    api_client: APIClient, invitation: tuple[Invitation, str]
) -> None:
    assert get_status(api_client, "/ocpi/versions", f"Token {invitation[1]}") == (200, 1000)


@pytest.mark.parametrize("prefix", ["token", "TOKEN", "ToKeN"])
def test_the_token_prefix_is_case_insensitive(
    api_client: APIClient, registered_partner: PartnerPlatform, prefix: str
) -> None:
    encoded = base64.b64encode(REGISTERED_TOKEN.encode()).decode()

    assert get_status(api_client, FUNCTIONAL_URL, f"{prefix} {encoded}") == (200, 1000)


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"])
def test_the_header_name_is_case_insensitive(
    api_client: APIClient, registered_partner: PartnerPlatform, name: str
) -> None:
    response = api_client.get(FUNCTIONAL_URL, headers={name: authorization(REGISTERED_TOKEN)})

    assert (response.status_code, response.json()["status_code"]) == (200, 1000)


def test_the_spec_vector_authenticates_token_example_token(
    api_client: APIClient, registered_partner: PartnerPlatform
) -> None:
    registered_partner.set_incoming_token("example-token")
    registered_partner.save()

    assert get_status(api_client, FUNCTIONAL_URL, "Token ZXhhbXBsZS10b2tlbg==") == (200, 1000)


def test_the_specs_newline_example_does_not_authenticate_example_token(
    api_client: APIClient, registered_partner: PartnerPlatform
) -> None:
    registered_partner.set_incoming_token("example-token")
    registered_partner.save()

    assert get_status(api_client, FUNCTIONAL_URL, "Token ZXhhbXBsZS10b2tlbgo=") == (401, 2000)


def test_a_used_invitation_token_is_refused(
    api_client: APIClient, invitation: tuple[Invitation, str]
) -> None:
    Invitation.objects.filter(pk=invitation[0].pk).update(used_at=now())

    assert get_status(api_client, "/ocpi/versions", authorization(invitation[1])) == (401, 2000)


def test_a_revoked_invitation_token_is_refused(
    api_client: APIClient, invitation: tuple[Invitation, str]
) -> None:
    invitation_revoke(invitation=invitation[0])

    assert get_status(api_client, "/ocpi/versions", authorization(invitation[1])) == (401, 2000)


def test_an_unregistered_partners_token_is_refused(
    api_client: APIClient, registered_partner: PartnerPlatform
) -> None:
    PartnerPlatform.objects.filter(pk=registered_partner.pk).update(
        status=PartnerStatus.UNREGISTERED
    )

    assert get_status(api_client, "/ocpi/versions", authorization(REGISTERED_TOKEN)) == (401, 2000)


@pytest.mark.parametrize(
    ("path", "expected"), [("/ocpi/versions", (200, 1000)), (FUNCTIONAL_URL, (401, 2000))]
)
def test_a_partner_mid_handshake_sees_versions_only(
    api_client: APIClient,
    registered_partner: PartnerPlatform,
    path: str,
    expected: tuple[int, int],
) -> None:
    PartnerPlatform.objects.filter(pk=registered_partner.pk).update(status=PartnerStatus.PENDING)

    assert get_status(api_client, path, authorization(REGISTERED_TOKEN)) == expected


def test_authentication_records_the_partners_last_contact(
    client_with_token: Callable[[str], APIClient], registered_partner: PartnerPlatform
) -> None:
    PartnerPlatform.objects.filter(pk=registered_partner.pk).update(last_contact_at=None)
    before = now()

    client_with_token(REGISTERED_TOKEN).get("/ocpi/versions")

    registered_partner.refresh_from_db()
    assert registered_partner.last_contact_at is not None
    assert registered_partner.last_contact_at >= before
