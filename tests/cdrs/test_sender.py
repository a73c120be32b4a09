"""The CDRs Sender interface: GET list (mod_cdrs, Sender Interface; pagination in
transport_and_format.asciidoc). Other methods are n/a: 405 in the envelope."""

from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cdrs.models import Cdr
from cdrs.services import cdr_credit, render_cdr
from credentials.models import LocalParty, PartnerPlatform, PartnerRole
from ocpi import json
from tests.cdrs.conftest import BASE, EMSP_TOKEN, OTHER_TOKEN, MakeSession, t10_cdr
from tests.conftest import authorization

pytestmark = pytest.mark.django_db

URL = "/ocpi/cpo/2.2.1/cdrs"


def get(token: str, query: str = "", **headers: Any) -> Any:
    return APIClient().get(URL + query, HTTP_AUTHORIZATION=authorization(token), **headers)


def body(response: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response.content)
    return parsed


def ids(response: Any) -> list[str]:
    return [cdr["id"] for cdr in body(response)["data"]]


def stamp(cdr: Cdr, moment: str) -> None:
    """Arrange a known last_updated (the service stamps the moment it built the CDR)."""
    Cdr.objects.filter(pk=cdr.pk).update(last_updated=datetime.fromisoformat(moment))


def test_an_emsp_gets_the_cdrs_of_its_tokens_as_they_were_sent(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session, "S1", token_party=("DE", "MSP"))

    response = get(EMSP_TOKEN)

    assert (response.status_code, body(response)["status_code"]) == (200, 1000)
    assert body(response)["data"] == [json.loads(json.dumps(render_cdr(cdr)))]
    assert response["X-Total-Count"] == "1"


def test_emsp_b_never_sees_emsp_a_s_cdrs(
    make_session: MakeSession, emsp: PartnerPlatform, other_emsp: PartnerPlatform
) -> None:
    t10_cdr(make_session, "A1", token_party=("DE", "MSP"))
    t10_cdr(make_session, "B1", token_party=("NL", "OTH"))
    t10_cdr(make_session, "A2", token_party=("de", "msp"))  # CiStrings: the same party

    assert ids(get(EMSP_TOKEN)) == ["A1", "A2"]
    assert ids(get(OTHER_TOKEN)) == ["B1"]
    assert get(OTHER_TOKEN)["X-Total-Count"] == "1"


def test_the_from_party_selects_which_of_the_platform_s_emsps(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    PartnerRole.objects.create(
        partner=emsp, role="EMSP", country_code="DE", party_id="MS2", business_details={}
    )
    t10_cdr(make_session, "ONE", token_party=("DE", "MSP"))
    t10_cdr(make_session, "TWO", token_party=("DE", "MS2"))
    routing = {
        "HTTP_OCPI_FROM_COUNTRY_CODE": "DE",
        "HTTP_OCPI_FROM_PARTY_ID": "MS2",
        "HTTP_OCPI_TO_COUNTRY_CODE": "BE",
        "HTTP_OCPI_TO_PARTY_ID": "BEC",
    }

    routed = get(EMSP_TOKEN, **routing)
    unrouted = get(EMSP_TOKEN)

    assert ids(routed) == ["TWO"]
    assert (routed["OCPI-from-party-id"], routed["OCPI-to-party-id"]) == ("BEC", "MS2")
    assert ids(unrouted) == ["ONE", "TWO"]


def test_the_to_party_selects_whose_cdrs(
    make_session: MakeSession, emsp: PartnerPlatform, cpo: LocalParty
) -> None:
    t10_cdr(make_session, "S1", token_party=("DE", "MSP"))
    LocalParty.objects.create(
        country_code="NL", party_id="TN2", role="CPO", business_name="Other CPO"
    )

    response = get(
        EMSP_TOKEN,
        HTTP_OCPI_FROM_COUNTRY_CODE="DE",
        HTTP_OCPI_FROM_PARTY_ID="MSP",
        HTTP_OCPI_TO_COUNTRY_CODE="NL",
        HTTP_OCPI_TO_PARTY_ID="TN2",
    )

    assert (ids(response), response["X-Total-Count"]) == ([], "0")


def test_credit_cdrs_are_listed_after_their_original(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr_credit(cdr=t10_cdr(make_session, "S1", token_party=("DE", "MSP")))

    data = body(get(EMSP_TOKEN))["data"]

    assert [(cdr["id"], cdr.get("credit"), cdr.get("credit_reference_id")) for cdr in data] == [
        ("S1", None, None),
        ("S1-C", True, "S1"),
    ]


def test_pages_carry_total_count_limit_and_a_next_link(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdrs = [t10_cdr(make_session, f"S{index}", token_party=("DE", "MSP")) for index in range(5)]

    first = get(EMSP_TOKEN, "?limit=2")
    last = get(EMSP_TOKEN, "?offset=4&limit=2")

    assert ids(first) == ["S0", "S1"]
    assert (first["X-Total-Count"], first["X-Limit"]) == ("5", "100")
    assert first["Link"] == f'<{BASE}{URL}?offset=2&limit=2&after={cdrs[1].pk}>; rel="next"'
    assert ids(last) == ["S4"]
    assert "Link" not in last


def test_date_from_is_inclusive_and_date_to_exclusive(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    early, middle, late = (
        t10_cdr(make_session, f"S{n}", token_party=("DE", "MSP")) for n in range(3)
    )
    stamp(early, "2024-01-01T00:00:00+00:00")
    stamp(middle, "2024-01-02T00:00:00+00:00")
    stamp(late, "2024-01-03T00:00:00+00:00")

    response = get(EMSP_TOKEN, "?date_from=2024-01-02T00:00:00Z&date_to=2024-01-03T00:00:00Z")

    assert (ids(response), response["X-Total-Count"]) == (["S1"], "1")


def test_an_invalid_date_is_2001(emsp: PartnerPlatform) -> None:
    response = get(EMSP_TOKEN, "?date_from=2024-01-01T00:00:00+01:00")

    assert (response.status_code, body(response)["status_code"]) == (200, 2001)


def test_a_page_costs_the_same_queries_however_many_cdrs(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    t10_cdr(make_session, "S0", token_party=("DE", "MSP"))
    get(EMSP_TOKEN)  # the first call also records the partner's last contact
    with CaptureQueriesContext(connection) as one:
        get(EMSP_TOKEN)
    credit = cdr_credit(cdr=t10_cdr(make_session, "S1", token_party=("DE", "MSP")))
    for index in range(2, 5):
        t10_cdr(make_session, f"S{index}", token_party=("DE", "MSP"))

    with CaptureQueriesContext(connection) as six:
        response = get(EMSP_TOKEN)

    assert [cdr["id"] for cdr in body(response)["data"]] == [
        "S0",
        "S1",
        credit.ocpi_id,
        "S2",
        "S3",
        "S4",
    ]
    assert len(six) == len(one)
    # Of the CDRs table: X-Total-Count and the page, nothing per CDR.
    assert len([q for q in six.captured_queries if '"cdrs_cdr"' in q["sql"]]) == 2


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_405_in_the_envelope(emsp: PartnerPlatform, method: str) -> None:
    response = getattr(APIClient(), method)(URL, HTTP_AUTHORIZATION=authorization(EMSP_TOKEN))

    assert response.status_code == 405
    assert set(body(response)) >= {"status_code", "timestamp"}


def test_without_a_known_token_it_is_401(emsp: PartnerPlatform) -> None:
    response = get("not-a-token")

    assert response.status_code == 401
    assert body(response)["status_code"] == 2000


def test_the_endpoint_is_in_our_version_details(emsp: PartnerPlatform) -> None:
    response = APIClient().get("/ocpi/2.2.1", HTTP_AUTHORIZATION=authorization(EMSP_TOKEN))

    assert {"identifier": "cdrs", "role": "SENDER", "url": f"{BASE}{URL}"} in body(response)[
        "data"
    ]["endpoints"]


def test_the_list_is_described_in_the_openapi_schema(client: Client) -> None:
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)

    operation = schema["paths"]["/ocpi/cpo/2.2.1/cdrs"]["get"]
    data = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "data"
    ]
    assert operation["operationId"] == "cdrs_sender_list"
    assert {"date_from", "date_to", "offset", "limit", "OCPI-to-party-id"} <= {
        parameter["name"] for parameter in operation["parameters"]
    }
    assert data["items"]["properties"]["id"] == {"type": "string", "maxLength": 39}
    assert "charging_periods" in data["items"]["required"]
