"""A registered partner updates (PUT) or ends (DELETE) its registration with us.

credentials.asciidoc, PUT: the server must refetch the client's versions and details with the
new token from the body and issue a new token; DELETE: all traffic stops and tokens die.
"""

from credentials.models import PartnerPlatform, PartnerRole, PartnerStatus
from tests.credentials.conftest import OUR_ROLE, VERSIONS_PATH, OcpiCall, Registration
from tests.credentials.fake_partner import (
    FakePartner,
    RawReply,
    credentials_role,
    envelope,
    token_header,
)


def stored_state(partner: PartnerPlatform) -> tuple[object, ...]:
    partner.refresh_from_db()
    return (
        partner.status,
        partner.versions_url,
        partner.incoming_token,
        partner.outgoing_token,
        list(partner.endpoints.values_list("identifier", "role", "url")),
        list(partner.roles.values_list("role", "country_code", "party_id")),
    )


def test_put_refetches_with_the_new_token_and_issues_a_new_one(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    partner.endpoints = [
        {"identifier": "credentials", "role": "SENDER", "url": partner.credentials_url},
        {"identifier": "cdrs", "role": "RECEIVER", "url": f"{partner.base_url}/ocpi/emsp/cdrs"},
    ]

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    new_c = answer.data["token"]
    assert answer.http_status == 200
    assert answer.body == {
        "data": {"token": new_c, "url": "https://cpo.test/ocpi/versions", "roles": [OUR_ROLE]},
        "status_code": 1000,
        "timestamp": answer.body["timestamp"],
    }
    assert new_c != registered.token_c
    assert partner.seen() == [
        ("GET", "/ocpi/versions", token_header("token-b2")),
        ("GET", "/ocpi/2.2.1", token_header("token-b2")),
    ]
    stored = PartnerPlatform.objects.get()
    assert (stored.incoming_token, stored.outgoing_token) == (new_c, "token-b2")
    assert list(stored.endpoints.values_list("identifier", "role", "url")) == [
        ("cdrs", "RECEIVER", f"{partner.base_url}/ocpi/emsp/cdrs"),
        ("credentials", "SENDER", partner.credentials_url),
    ]


def test_after_put_the_old_token_c_stops_working_and_the_new_one_works(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    new_c = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2")).data["token"]

    with_old = ocpi_call("GET", registered.token_c, path=VERSIONS_PATH)
    with_new = ocpi_call("GET", new_c, path=VERSIONS_PATH)

    assert (with_old.http_status, with_new.http_status) == (401, 200)


def test_put_updates_the_partners_roles(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    partner.roles = [
        credentials_role("EMSP", "DE", "FKE", "Renamed"),
        credentials_role("EMSP", "DE", "FK2", "Second"),
    ]

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    assert answer.status_code == 1000
    assert list(PartnerRole.objects.values_list("party_id", "business_details")) == [
        ("FK2", {"name": "Second"}),
        ("FKE", {"name": "Renamed"}),
    ]


def test_a_failed_put_changes_nothing(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    before = stored_state(registered.partner)
    body = partner.credentials("token-b2")
    partner.versions_reply = RawReply(500, envelope(status_code=3000, message="Down"))

    answer = ocpi_call("PUT", registered.token_c, body)

    assert (answer.http_status, answer.status_code) == (200, 3001)
    assert stored_state(registered.partner) == before
    assert ocpi_call("GET", registered.token_c, path=VERSIONS_PATH).http_status == 200


def test_an_invalid_put_is_2001_and_changes_nothing(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    before = stored_state(registered.partner)

    answer = ocpi_call("PUT", registered.token_c, {**partner.credentials("bad token")})

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert stored_state(registered.partner) == before
    assert partner.calls == []


def test_put_without_a_2_2_1_version_is_3002_and_changes_nothing(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    before = stored_state(registered.partner)
    partner.versions = [{"version": "2.1.1", "url": f"{partner.base_url}/ocpi/2.1.1"}]

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    assert (answer.http_status, answer.status_code) == (200, 3002)
    assert stored_state(registered.partner) == before


def test_delete_unregisters_and_token_c_stops_working(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    answer = ocpi_call("DELETE", registered.token_c)

    assert (answer.http_status, answer.status_code) == (200, 1000)
    assert "data" not in answer.body
    stored = PartnerPlatform.objects.get()
    assert stored.status == PartnerStatus.UNREGISTERED
    assert stored.unregistered_at is not None
    assert (stored.incoming_token_digest, stored.outgoing_token_sealed) == (None, "")
    assert ocpi_call("GET", registered.token_c, path=VERSIONS_PATH).http_status == 401
    assert ocpi_call("DELETE", registered.token_c).http_status == 401
    assert partner.calls == []
