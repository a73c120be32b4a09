"""Routing headers on functional modules: FROM must be the caller's, TO must be ours."""

import pytest
from django.db import transaction

from credentials.generation import credentials_changed
from credentials.models import LocalParty, PartnerPlatform, PartnerRole, PartnerStatus
from credentials.operator import local_party_save
from credentials.services import accept_unregistration
from tests.conftest import authorization

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.routing.urls")]

URL = "/ocpi/cpo/2.2.1/echo"


def make_partner(token: str, *parties: tuple[str, str]) -> PartnerPlatform:
    partner = PartnerPlatform(
        name="eMSP", status=PartnerStatus.REGISTERED, versions_url="http://127.0.0.1:1/versions"
    )
    partner.set_incoming_token(token)
    partner.set_outgoing_token("their-token")
    partner.save()
    for country, party in parties:
        PartnerRole.objects.create(
            partner=partner,
            role="EMSP",
            country_code=country,
            party_id=party,
            business_details={"name": party},
        )
    return partner


def routing(from_cc: str, from_pid: str, to_cc: str, to_pid: str) -> dict[str, str]:
    return {
        "HTTP_OCPI_FROM_COUNTRY_CODE": from_cc,
        "HTTP_OCPI_FROM_PARTY_ID": from_pid,
        "HTTP_OCPI_TO_COUNTRY_CODE": to_cc,
        "HTTP_OCPI_TO_PARTY_ID": to_pid,
    }


def test_headers_of_caller_and_our_party_are_accepted_and_mirrored(client):
    make_partner("tok-1", ("DE", "ABC"), ("DE", "XYZ"))

    response = client.get(
        URL, HTTP_AUTHORIZATION=authorization("tok-1"), **routing("de", "xyz", "NL", "TNM")
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"sender": "DE*XYZ EMSP", "receiver": "TNM"}
    assert response["OCPI-from-country-code"] == "NL"
    assert response["OCPI-from-party-id"] == "TNM"
    assert response["OCPI-to-country-code"] == "DE"
    assert response["OCPI-to-party-id"] == "XYZ"


def test_from_party_not_among_the_callers_roles_is_2001(client):
    make_partner("tok-1", ("DE", "ABC"))

    response = client.get(
        URL, HTTP_AUTHORIZATION=authorization("tok-1"), **routing("FR", "ABC", "NL", "TNM")
    )

    assert response.status_code == 200
    assert response.json()["status_code"] == 2001
    assert "OCPI-from party FR*ABC" in response.json()["status_message"]


def test_to_party_we_do_not_host_is_4001(client):
    make_partner("tok-1", ("DE", "ABC"))

    response = client.get(
        URL, HTTP_AUTHORIZATION=authorization("tok-1"), **routing("DE", "ABC", "NL", "XXX")
    )

    assert response.json()["status_code"] == 4001


def test_incomplete_headers_are_2001(client):
    make_partner("tok-1", ("DE", "ABC"))

    response = client.get(
        URL,
        HTTP_AUTHORIZATION=authorization("tok-1"),
        HTTP_OCPI_FROM_COUNTRY_CODE="DE",
        HTTP_OCPI_FROM_PARTY_ID="ABC",
    )

    assert response.json()["status_code"] == 2001
    assert "OCPI-to-country-code" in response.json()["status_message"]


def test_without_headers_single_parties_are_inferred(client):
    make_partner("tok-1", ("DE", "ABC"))

    response = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"))

    assert response.json()["data"] == {"sender": "DE*ABC EMSP", "receiver": "TNM"}
    assert response["OCPI-to-party-id"] == "ABC"


def test_without_headers_ambiguous_parties_stay_unknown(client):
    make_partner("tok-1", ("DE", "ABC"), ("DE", "XYZ"))
    LocalParty.objects.create(country_code="BE", party_id="WLC", business_name="White label")

    response = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"))

    assert response.json()["data"] == {"sender": None, "receiver": None}
    assert "OCPI-to-party-id" not in response


def test_token_a_is_refused_with_401(client, invitation):
    _, token_a = invitation

    response = client.get(URL, HTTP_AUTHORIZATION=authorization(token_a))

    assert response.status_code == 401
    assert set(response.json()) == {"status_code", "status_message", "timestamp"}


def test_unregistered_partners_token_is_refused_with_401(client):
    partner = make_partner("tok-1", ("DE", "ABC"))
    PartnerPlatform.objects.filter(pk=partner.pk).update(status=PartnerStatus.UNREGISTERED)

    response = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"))

    assert response.status_code == 401


def test_a_role_added_between_two_requests_routes_the_second(client):
    partner = make_partner("tok-1", ("DE", "ABC"))
    headers = routing("DE", "NEW", "NL", "TNM")
    before = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"), **headers)
    with transaction.atomic():  # as credentials.services stores roles
        PartnerRole.objects.create(
            partner=partner, role="EMSP", country_code="DE", party_id="NEW", business_details={}
        )
        credentials_changed()

    after = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"), **headers)

    assert before.json()["status_code"] == 2001
    assert after.json()["data"] == {"sender": "DE*NEW EMSP", "receiver": "TNM"}


def test_a_party_of_ours_deactivated_between_two_requests_is_4001_on_the_second(client):
    make_partner("tok-1", ("DE", "ABC"))
    headers = routing("DE", "ABC", "NL", "TNM")
    before = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"), **headers)
    ours = LocalParty.objects.get(party_id="TNM")
    ours.is_active = False
    local_party_save(party=ours)

    after = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"), **headers)

    assert before.json()["data"] == {"sender": "DE*ABC EMSP", "receiver": "TNM"}
    assert after.json()["status_code"] == 4001


def test_a_token_refused_right_after_the_partner_is_unregistered(client):
    partner = make_partner("tok-1", ("DE", "ABC"))
    before = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"))
    accept_unregistration(partner=partner)

    after = client.get(URL, HTTP_AUTHORIZATION=authorization("tok-1"))

    assert (before.status_code, after.status_code) == (200, 401)
