"""The Tariffs Sender interface: GET list (mod_tariffs, Sender Interface; pagination in
transport_and_format.asciidoc). Other methods are n/a: 405 in the envelope."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from credentials.models import LocalParty, PartnerPlatform
from ocpi import json
from ocpi.time import format_datetime
from tariffs.models import Tariff
from tests.conftest import authorization
from tests.tariffs.conftest import example, simple_tariff

pytestmark = pytest.mark.django_db

URL = "/ocpi/cpo/2.2.1/tariffs"
Upsert = Callable[[dict[str, Any]], Tariff]
MakeEmsp = Callable[..., PartnerPlatform]


@pytest.fixture
def partner(make_emsp: MakeEmsp) -> PartnerPlatform:
    return make_emsp("emsp-token", "EMS")


def get(client: APIClient, query: str = "", **headers: Any) -> Any:
    return client.get(URL + query, HTTP_AUTHORIZATION=authorization("emsp-token"), **headers)


def body(response: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response.content)
    return parsed


def stamp(tariff: Tariff, moment: str) -> None:
    """Arrange a known last_updated (services always stamp the current time)."""
    Tariff.objects.filter(pk=tariff.pk).update(last_updated=datetime.fromisoformat(moment))


def many_tariffs(upsert: Upsert, count: int) -> list[Tariff]:
    return [upsert(simple_tariff(f"T{index}")) for index in range(count)]


def test_the_list_holds_our_tariffs_as_rendered(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    tariff = upsert(example("tariff_4_complex.json"))

    response = get(api_client)

    assert response.status_code == 200
    assert body(response)["status_code"] == 1000
    (data,) = body(response)["data"]
    expected = example("tariff_4_complex.json")
    expected["last_updated"] = data["last_updated"]
    assert data == expected
    assert data["last_updated"] == format_datetime(tariff.last_updated)


def test_numbers_are_json_numbers_with_their_exact_digits(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    upsert(example("tariff_2_alt_text.json"))

    response = get(api_client)

    assert b'"price_components":[{"type":"TIME","price":1.9000,"vat":5.2000,"step_size":300}]' in (
        response.content
    )


def test_pages_carry_total_count_limit_and_a_next_link(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert, settings: Any
) -> None:
    tariffs = many_tariffs(upsert, 5)

    first = get(api_client, "?limit=2")
    last = get(api_client, "?offset=4&limit=2")

    assert [t["id"] for t in body(first)["data"]] == ["T0", "T1"]
    assert first["X-Total-Count"] == "5"
    assert first["X-Limit"] == "100"
    assert first["Link"] == (
        f'<{settings.OCPI_BASE_URL}{URL}?offset=2&limit=2&after={tariffs[1].pk}>; rel="next"'
    )
    assert [t["id"] for t in body(last)["data"]] == [tariffs[4].ocpi_id]
    assert "Link" not in last


def test_the_limit_is_capped_by_the_server(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert, settings: Any
) -> None:
    settings.OCPI_PAGE_LIMIT = 3
    tariffs = many_tariffs(upsert, 5)

    response = get(api_client, "?limit=1000")

    assert len(body(response)["data"]) == 3
    assert response["X-Limit"] == "3"
    assert response["X-Total-Count"] == "5"
    assert response["Link"].endswith(f'{URL}?offset=3&limit=3&after={tariffs[2].pk}>; rel="next"')


def test_date_from_is_inclusive_and_date_to_exclusive(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    early, middle, late = many_tariffs(upsert, 3)
    stamp(early, "2024-01-01T00:00:00+00:00")
    stamp(middle, "2024-01-02T00:00:00+00:00")
    stamp(late, "2024-01-03T00:00:00+00:00")

    response = get(api_client, "?date_from=2024-01-02T00:00:00Z&date_to=2024-01-03T00:00:00Z")

    assert [t["id"] for t in body(response)["data"]] == ["T1"]
    assert response["X-Total-Count"] == "1"


def test_date_filters_are_kept_in_the_next_link(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    for tariff in many_tariffs(upsert, 3):
        stamp(tariff, "2024-01-02T00:00:00+00:00")

    response = get(api_client, "?date_from=2024-01-01T00:00:00Z&limit=1")

    assert "date_from=2024-01-01T00%3A00%3A00Z&offset=1&limit=1" in response["Link"]


def test_an_invalid_date_is_2001(api_client: APIClient, partner: PartnerPlatform) -> None:
    response = get(api_client, "?date_from=2024-01-01T00:00:00+01:00")

    assert response.status_code == 200
    assert body(response)["status_code"] == 2001


def test_queries_per_page_do_not_grow_with_tariffs_elements_or_components(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    upsert(simple_tariff("small"))
    get(api_client)  # the first call also records the partner's last contact
    get(api_client)  # which moved the credentials generation: the caller is read again
    with CaptureQueriesContext(connection) as one:
        get(api_client)
    for index in range(10):
        upsert(example("tariff_4_complex.json") | {"id": f"big-{index}"})

    with CaptureQueriesContext(connection) as eleven:
        response = get(api_client)

    assert len(body(response)["data"]) == 11
    assert len(eleven) == len(one)


def test_a_page_costs_a_fixed_number_of_queries(
    api_client: APIClient,
    partner: PartnerPlatform,
    upsert: Upsert,
    django_assert_num_queries: Any,
) -> None:
    for index in range(3):
        upsert(example("tariff_17_reservation_with_expire_fee.json") | {"id": f"r-{index}"})

    get(api_client)  # the first call also records the partner's last contact
    get(api_client)  # which moved the credentials generation: the caller is read again

    # the credentials generation (the caller and our parties are kept), count, page,
    # elements, components
    with django_assert_num_queries(5):
        get(api_client)


def test_the_to_party_header_selects_whose_tariffs(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert, cpo_party: LocalParty
) -> None:
    upsert(simple_tariff("ours-de"))
    LocalParty.objects.create(country_code="NL", party_id="TN2", business_name="Other CPO")
    upsert(simple_tariff("ours-nl", country_code="NL", party_id="TN2"))

    routed = get(
        api_client,
        HTTP_OCPI_FROM_COUNTRY_CODE="NL",
        HTTP_OCPI_FROM_PARTY_ID="EMS",
        HTTP_OCPI_TO_COUNTRY_CODE="nl",
        HTTP_OCPI_TO_PARTY_ID="tn2",
    )
    unrouted = get(api_client)

    assert [t["id"] for t in body(routed)["data"]] == ["ours-nl"]
    assert routed["OCPI-from-party-id"] == "TN2"
    assert [t["id"] for t in body(unrouted)["data"]] == ["ours-de", "ours-nl"]


def test_an_unknown_to_party_is_4001(api_client: APIClient, partner: PartnerPlatform) -> None:
    response = get(
        api_client,
        HTTP_OCPI_FROM_COUNTRY_CODE="NL",
        HTTP_OCPI_FROM_PARTY_ID="EMS",
        HTTP_OCPI_TO_COUNTRY_CODE="DE",
        HTTP_OCPI_TO_PARTY_ID="XXX",
    )

    assert body(response)["status_code"] == 4001


def test_a_trailing_slash_is_answered_too(
    api_client: APIClient, partner: PartnerPlatform, upsert: Upsert
) -> None:
    upsert(simple_tariff())

    response = api_client.get(URL + "/", HTTP_AUTHORIZATION=authorization("emsp-token"))

    assert response.status_code == 200
    assert len(body(response)["data"]) == 1


def test_token_a_is_refused_with_401(api_client: APIClient, invitation: tuple[Any, str]) -> None:
    _, token_a = invitation

    response = api_client.get(URL, HTTP_AUTHORIZATION=authorization(token_a))

    assert response.status_code == 401
    assert body(response)["status_code"] == 2000


def test_no_token_is_401(api_client: APIClient) -> None:
    response = api_client.get(URL)

    assert response.status_code == 401
    assert "timestamp" in body(response)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_405_in_the_envelope(
    api_client: APIClient, partner: PartnerPlatform, method: str
) -> None:
    response = getattr(api_client, method)(
        URL,
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization("emsp-token"),
    )

    assert response.status_code == 405
    assert body(response)["status_code"] == 2000


def test_version_details_list_the_tariffs_sender_endpoint(
    api_client: APIClient, partner: PartnerPlatform, settings: Any
) -> None:
    response = api_client.get("/ocpi/2.2.1", HTTP_AUTHORIZATION=authorization("emsp-token"))

    assert {
        "identifier": "tariffs",
        "role": "SENDER",
        "url": settings.OCPI_BASE_URL + URL,
    } in body(response)["data"]["endpoints"]
