"""Invalid Credentials objects are 2001 (credentials.asciidoc, Credentials object; status codes).

Validation comes before any call to the partner: nothing is fetched, nothing is stored, and
the invitation stays open.
"""

from typing import Any

import pytest
from rest_framework.test import APIClient

from credentials.models import Invitation, LocalParty, PartnerPlatform
from tests.conftest import authorization
from tests.credentials.conftest import CREDENTIALS_PATH, OcpiCall
from tests.credentials.fake_partner import FakePartner

ROLE = {
    "role": "EMSP",
    "business_details": {"name": "Fake eMSP"},
    "party_id": "FKE",
    "country_code": "DE",
}
ABSENT = object()


def changed(good: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {**good, **changes}
    return {key: value for key, value in body.items() if value is not ABSENT}


def role(**changes: Any) -> dict[str, Any]:
    return changed(ROLE, **changes)


CASES = [
    ({"token": ABSENT}, "token: This field is required."),
    ({"url": ABSENT}, "url: This field is required."),
    ({"roles": ABSENT}, "roles: This field is required."),
    ({"roles": []}, "roles: This list may not be empty."),
    ({"token": None}, "token: This field may not be null."),
    ({"token": "x" * 65}, "token: Ensure this field has no more than 64 characters."),
    (
        {"token": "token b"},
        "token: Must be 1 to 64 printable ASCII characters without spaces (U+0021 to U+007E).",
    ),
    (
        {"token": "tökén"},
        "token: Must be 1 to 64 printable ASCII characters without spaces (U+0021 to U+007E).",
    ),
    ({"url": "ftp://emsp.test/versions"}, "url: Must be an absolute http(s) URL."),
    ({"url": "/ocpi/versions"}, "url: Must be an absolute http(s) URL."),
    ({"roles": [role(role="DRIVER")]}, 'roles.0.role: "DRIVER" is not a valid choice.'),
    (
        {"roles": [ROLE, role(party_id="fke")]},
        "roles: Role EMSP of DE*FKE is listed twice.",
    ),
    (
        {"roles": [role(party_id="FKEX")]},
        "roles.0.party_id: Ensure this field has no more than 3 characters.",
    ),
    (
        {"roles": [role(party_id="FK")]},
        "roles.0.party_id: Ensure this field has at least 3 characters.",
    ),
    (
        {"roles": [role(country_code="DEU")]},
        "roles.0.country_code: Ensure this field has no more than 2 characters.",
    ),
    (
        {"roles": [role(business_details=ABSENT)]},
        "roles.0.business_details: This field is required.",
    ),
    (
        {"roles": [role(business_details={})]},
        "roles.0.business_details.name: This field is required.",
    ),
]


@pytest.mark.parametrize(("changes", "message"), CASES)
def test_invalid_credentials_are_2001_and_nothing_happens(
    changes: dict[str, Any],
    message: str,
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    invite, token_a = invitation
    body = changed(partner.credentials("token-b"), **changes)

    answer = ocpi_call("POST", token_a, body)

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == message
    assert partner.calls == []
    assert PartnerPlatform.objects.count() == 0
    invite.refresh_from_db()
    assert invite.state == "open"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([ROLE], "body: Invalid data. Expected a dictionary, but got list."),
        ("hello", "body: Invalid data. Expected a dictionary, but got str."),
    ],
)
def test_a_body_that_is_not_an_object_is_2001(
    body: Any,
    message: str,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation

    answer = ocpi_call("POST", token_a, body)

    assert (answer.http_status, answer.status_code, answer.body["status_message"]) == (
        200,
        2001,
        message,
    )
    assert PartnerPlatform.objects.count() == 0


def test_a_body_that_is_not_json_is_http_400(
    invitation: tuple[Invitation, str], our_party: LocalParty, api_client: APIClient
) -> None:
    _, token_a = invitation

    response = api_client.post(
        CREDENTIALS_PATH,
        data=b'{"token": ',
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization(token_a),
    )

    assert response.status_code == 400
    assert response.json()["status_code"] == 2000
    assert PartnerPlatform.objects.count() == 0
