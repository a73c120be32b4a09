"""Message routing headers (transport_and_format.asciidoc, Message Routing).

Four CiString headers, all or none, on functional modules; never on configuration modules.
"""

from collections.abc import Mapping

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from credentials.models import Invitation
from ocpi.exceptions import InvalidParameters
from ocpi.routing import PartyRef, RoutingHeaders, parse_routing_headers, refuse_routing_headers
from tests.conftest import authorization

ROUTING = {
    "OCPI-from-country-code": "DE",
    "OCPI-from-party-id": "EMS",
    "OCPI-to-country-code": "NL",
    "OCPI-to-party-id": "TNM",
}


def parse(headers: Mapping[str, str]) -> RoutingHeaders | None:
    return parse_routing_headers(RequestFactory().get("/ocpi/cpo/2.2.1/x", headers=headers))


def test_no_routing_headers_is_none() -> None:
    assert parse({}) is None


def test_all_four_are_read_as_parties() -> None:
    assert parse(ROUTING) == RoutingHeaders(
        from_party=PartyRef("DE", "EMS"), to_party=PartyRef("NL", "TNM")
    )


def test_values_are_normalised_to_upper_case_and_trimmed() -> None:
    headers = {
        "ocpi-from-country-code": " de",
        "OCPI-FROM-PARTY-ID": "e1s ",
        "Ocpi-To-Country-Code": "nl",
        "ocpi-to-party-id": "tNm",
    }

    assert parse(headers) == RoutingHeaders(
        from_party=PartyRef("DE", "E1S"), to_party=PartyRef("NL", "TNM")
    )


def test_a_partial_set_is_refused() -> None:
    headers = {"OCPI-from-country-code": "DE", "OCPI-from-party-id": "EMS"}

    with pytest.raises(InvalidParameters) as caught:
        parse(headers)

    assert caught.value.message == (
        "Routing headers incomplete, missing: OCPI-to-country-code, OCPI-to-party-id"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "OCPI-from-country-code",
            "DEU",
            "OCPI-from-country-code must be a CiString(2) country code",
        ),
        ("OCPI-to-country-code", "N", "OCPI-to-country-code must be a CiString(2) country code"),
        ("OCPI-to-country-code", "N1", "OCPI-to-country-code must be a CiString(2) country code"),
        ("OCPI-from-party-id", "EMSP", "OCPI-from-party-id must be a CiString(3) party id"),
        ("OCPI-from-party-id", "EM", "OCPI-from-party-id must be a CiString(3) party id"),
        ("OCPI-to-party-id", "T-M", "OCPI-to-party-id must be a CiString(3) party id"),
        ("OCPI-to-party-id", "TÑM", "OCPI-to-party-id must be a CiString(3) party id"),
        ("OCPI-to-party-id", "", "OCPI-to-party-id must be a CiString(3) party id"),
    ],
)
def test_malformed_values_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        parse({**ROUTING, name: value})

    assert caught.value.message == message


def test_reply_swaps_the_parties() -> None:
    request_headers = RoutingHeaders(
        from_party=PartyRef("DE", "EMS"), to_party=PartyRef("NL", "TNM")
    )

    assert request_headers.reply().as_headers() == {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "TNM",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "EMS",
    }


def test_party_ref_folds_case_and_prints_the_spec_notation() -> None:
    party = PartyRef.of("nl", "tnm")

    assert (party, str(party)) == (PartyRef("NL", "TNM"), "NL*TNM")


def test_refuse_names_the_module_and_the_headers() -> None:
    request = RequestFactory().get("/ocpi/versions", headers={"OCPI-to-party-id": "TNM"})

    with pytest.raises(InvalidParameters) as caught:
        refuse_routing_headers(request, "versions")

    assert caught.value.message == (
        "Routing headers must not be used on the versions module: OCPI-to-party-id"
    )


# --- over HTTP ----------------------------------------------------------------------------------


@pytest.mark.urls("tests.ocpi.testapp.urls")
def test_a_functional_module_reads_them_and_answers_with_the_reply(
    partner_client: APIClient,
) -> None:
    response = partner_client.get("/ocpi/cpo/2.2.1/testecho", headers=ROUTING)

    assert response.status_code == 200
    assert response.json()["data"]["routing"] == ROUTING
    assert {name: response[name] for name in ROUTING} == {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "TNM",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "EMS",
    }


@pytest.mark.urls("tests.ocpi.testapp.urls")
def test_a_functional_module_answers_2001_for_malformed_ones(partner_client: APIClient) -> None:
    response = partner_client.get(
        "/ocpi/cpo/2.2.1/testecho", headers={**ROUTING, "OCPI-to-party-id": "TOOLONG"}
    )

    assert response.status_code == 200
    assert response.json()["status_code"] == 2001
    assert response.json()["status_message"] == "OCPI-to-party-id must be a CiString(3) party id"


@pytest.mark.parametrize(
    ("method", "path", "module"),
    [
        ("get", "/ocpi/versions", "versions"),
        ("get", "/ocpi/2.2.1", "versions"),
        ("get", "/ocpi/2.2.1/credentials", "credentials"),
        ("put", "/ocpi/2.2.1/credentials", "credentials"),
        ("delete", "/ocpi/2.2.1/credentials", "credentials"),
    ],
)
def test_configuration_modules_refuse_them_with_2001(
    partner_client: APIClient, method: str, path: str, module: str
) -> None:
    response = getattr(partner_client, method)(path, headers=ROUTING)

    assert response.status_code == 200
    assert list(response.json()) == ["status_code", "status_message", "timestamp"]
    assert response.json()["status_code"] == 2001
    assert response.json()["status_message"] == (
        f"Routing headers must not be used on the {module} module: OCPI-from-country-code, "
        "OCPI-from-party-id, OCPI-to-country-code, OCPI-to-party-id"
    )


def test_credentials_registration_refuses_them_with_2001(
    api_client: APIClient, invitation: tuple[Invitation, str]
) -> None:
    response = api_client.post(
        "/ocpi/2.2.1/credentials",
        data={},
        format="json",
        headers={"Authorization": authorization(invitation[1]), "OCPI-to-party-id": "TNM"},
    )

    assert (response.status_code, response.json()["status_code"]) == (200, 2001)
