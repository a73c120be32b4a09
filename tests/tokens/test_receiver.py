"""The Tokens Receiver interface (mod_tokens.asciidoc, Receiver Interface): GET, PUT, PATCH.

Party scoping, URL/body consistency, the `type` default, PUT create/replace and idempotency,
PATCH rules, the spec's examples, envelopes and routing headers.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from tests.tokens.conftest import URL, cache_token, example, token_payload
from tokens.models import Token

pytestmark = pytest.mark.django_db

TOKEN_URL = f"{URL}/DE/TNM/TOKEN1"


def body(response: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = response.json()
    return parsed


def status(response: Any) -> tuple[int, int]:
    return response.status_code, body(response)["status_code"]


def put(client: APIClient, url: str, payload: Any) -> Any:
    return client.put(url, payload, format="json")


def patch(client: APIClient, url: str, payload: Any) -> Any:
    return client.patch(url, payload, format="json")


def stored() -> list[tuple[str, str, str, str, bool]]:
    return list(
        Token.objects.order_by("pk").values_list("country_code", "party_id", "uid", "type", "valid")
    )


# --- the spec's examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("token_put_example.json", f"{URL}/NL/TNM/012345678"),
        ("token_example_2_full_rfid.json", f"{URL}/DE/TNM/12345678905880"),
        (
            "token_example_1_app_user.json",
            f"{URL}/DE/TNM/bdf21bce-fc97-11e8-8eb2-f2801f1b9fd1?type=APP_USER",
        ),
    ],
)
def test_an_example_put_is_got_back_exactly(client_a: APIClient, name: str, url: str) -> None:
    response = put(client_a, url, example(name))

    assert status(response) == (201, 1000)
    assert "data" not in body(response)
    got = client_a.get(url)
    assert status(got) == (200, 1000)
    assert body(got)["data"] == example(name)


def test_the_patch_example_invalidates_a_token(client_a: APIClient) -> None:
    put(client_a, f"{URL}/NL/TNM/012345678", example("token_put_example.json"))

    response = patch(client_a, f"{URL}/NL/TNM/012345678", example("token_patch_example.json"))

    assert status(response) == (200, 1000)
    assert "data" not in body(response)
    got = body(client_a.get(f"{URL}/NL/TNM/012345678"))["data"]
    assert got == {**example("token_put_example.json"), **example("token_patch_example.json")}


# --- PUT ------------------------------------------------------------------------------------


def test_put_creates_then_replaces_one_row(client_a: APIClient) -> None:
    first = put(client_a, TOKEN_URL, token_payload())
    second = put(client_a, TOKEN_URL, token_payload(whitelist="NEVER"))

    assert status(first) == (201, 1000)
    assert status(second) == (200, 1000)
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]
    assert Token.objects.get().whitelist == "NEVER"


def test_the_same_put_twice_is_one_row_unchanged(client_a: APIClient) -> None:
    put(client_a, TOKEN_URL, token_payload())
    before = Token.objects.get()

    again = put(client_a, TOKEN_URL, token_payload())

    after = Token.objects.get()
    assert status(again) == (200, 1000)
    assert Token.objects.count() == 1
    assert (after.pk, after.last_updated) == (before.pk, before.last_updated)


def test_put_keeps_the_owners_last_updated(client_a: APIClient) -> None:
    put(client_a, TOKEN_URL, token_payload(last_updated="2019-06-19T02:11:11.123456Z"))

    token = Token.objects.get()
    assert token.last_updated == datetime(2019, 6, 19, 2, 11, 11, 123456, tzinfo=UTC)
    assert body(client_a.get(TOKEN_URL))["data"]["last_updated"] == "2019-06-19T02:11:11.123Z"


def test_a_put_without_optional_fields_removes_them(client_a: APIClient) -> None:
    put(client_a, TOKEN_URL, token_payload())
    minimal = {
        key: value
        for key, value in token_payload().items()
        if key not in {"visual_number", "group_id", "language", "default_profile_type"}
        and key != "energy_contract"
    }

    response = put(client_a, TOKEN_URL, minimal)

    assert status(response) == (200, 1000)
    assert body(client_a.get(TOKEN_URL))["data"] == minimal


def test_put_with_valid_false_invalidates(client_a: APIClient) -> None:
    put(client_a, TOKEN_URL, token_payload())

    put(client_a, TOKEN_URL, token_payload(valid=False, last_updated="2026-01-01T00:00:00Z"))

    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", False)]


def test_uid_and_party_compare_case_insensitively(client_a: APIClient) -> None:
    put(client_a, f"{URL}/de/tnm/abc-1", token_payload("ABC-1"))

    again = put(client_a, f"{URL}/DE/TNM/Abc-1", token_payload("abc-1", issuer="Other"))

    assert status(again) == (200, 1000)
    assert stored() == [("DE", "TNM", "abc-1", "RFID", True)]
    assert body(client_a.get(f"{URL}/De/Tnm/ABC-1"))["data"]["issuer"] == "Other"


def test_the_same_uid_with_another_type_is_another_token(client_a: APIClient) -> None:
    put(client_a, TOKEN_URL, token_payload())

    response = put(client_a, f"{TOKEN_URL}?type=APP_USER", token_payload(type="APP_USER"))

    assert status(response) == (201, 1000)
    assert stored() == [
        ("DE", "TNM", "TOKEN1", "RFID", True),
        ("DE", "TNM", "TOKEN1", "APP_USER", True),
    ]


def test_type_defaults_to_rfid_so_an_app_user_body_without_type_mismatches(
    client_a: APIClient,
) -> None:
    response = put(client_a, TOKEN_URL, token_payload(type="APP_USER"))

    assert status(response) == (200, 2001)
    assert body(response)["status_message"] == (
        "The body does not match the URL: type 'APP_USER' (URL: 'RFID')"
    )
    assert stored() == []


@pytest.mark.parametrize(
    ("url", "payload", "message"),
    [
        (
            f"{URL}/NL/TNM/TOKEN1",
            token_payload(),
            "country_code 'DE' (URL: 'NL')",
        ),
        (
            f"{URL}/DE/TNM/TOKEN2",
            token_payload(),
            "uid 'TOKEN1' (URL: 'TOKEN2')",
        ),
        (
            f"{URL}/DE/TNM/TOKEN1?type=OTHER",
            token_payload(),
            "type 'RFID' (URL: 'OTHER')",
        ),
    ],
)
def test_a_body_that_does_not_match_the_url_is_2001(
    client_a: APIClient, url: str, payload: dict[str, Any], message: str
) -> None:
    response = put(client_a, url, payload)

    assert status(response) == (200, 2001)
    assert body(response)["status_message"] == f"The body does not match the URL: {message}"
    assert stored() == []


def test_a_party_mismatch_between_url_and_body_is_2001(client_a: APIClient) -> None:
    # Both parties are eMSP A's: only the mismatch is wrong.
    response = put(client_a, f"{URL}/DE/TNM/TOKEN1", token_payload(country_code="NL"))

    assert status(response) == (200, 2001)
    assert stored() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuer": None}, "issuer: This field may not be null."),
        ({"valid": "true"}, "valid: Must be a valid boolean."),
        ({"uid": "X" * 37}, "uid: Ensure this field has no more than 36 characters."),
        ({"whitelist": "SOMETIMES"}, 'whitelist: "SOMETIMES" is not a valid choice.'),
        ({"last_updated": "2026-01-01T00:00:00+01:00"}, "last_updated: Invalid OCPI DateTime:"),
        ({"energy_contract": {"contract_id": "1"}}, "energy_contract.supplier_name:"),
    ],
)
def test_an_invalid_token_is_2001_and_not_stored(
    client_a: APIClient, change: dict[str, Any], message: str
) -> None:
    response = put(client_a, TOKEN_URL, token_payload(**change))

    assert status(response) == (200, 2001)
    assert body(response)["status_message"].startswith(message)
    assert stored() == []


def test_a_body_that_is_not_json_is_http_400(client_a: APIClient) -> None:
    response = client_a.put(TOKEN_URL, b"{not json", content_type="application/json")

    assert status(response) == (400, 2000)


# --- GET ------------------------------------------------------------------------------------


def test_get_of_an_unknown_token_is_404_with_2004(client_a: APIClient) -> None:
    response = client_a.get(TOKEN_URL)

    assert status(response) == (404, 2004)
    assert body(response)["status_message"] == "Unknown token DE*TNM RFID TOKEN1"
    assert "data" not in body(response)


def test_get_without_type_finds_only_the_rfid_token(client_a: APIClient) -> None:
    cache_token(type="APP_USER")

    assert status(client_a.get(TOKEN_URL)) == (404, 2004)
    assert status(client_a.get(f"{TOKEN_URL}?type=APP_USER")) == (200, 1000)


def test_an_unknown_type_is_2001(client_a: APIClient) -> None:
    response = client_a.get(f"{TOKEN_URL}?type=rfid")

    assert status(response) == (200, 2001)
    assert body(response)["status_message"] == (
        "type must be one of AD_HOC_USER, APP_USER, OTHER, RFID"
    )


def test_a_uid_longer_than_36_matches_no_url(client_a: APIClient) -> None:
    response = client_a.get(f"{URL}/DE/TNM/{'X' * 37}")

    assert status(response) == (404, 2000)


def test_get_costs_two_queries(
    client_a: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    cache_token()
    client_a.get(TOKEN_URL)  # the caller, its roles and our parties, then kept

    # The credentials generation (the caller and its roles are kept: the URL's party is
    # checked against the roles read with it); the token.
    with django_assert_num_queries(2):
        response = client_a.get(TOKEN_URL)

    assert status(response) == (200, 1000)


def test_the_answer_carries_the_routing_headers_back(client_a: APIClient) -> None:
    cache_token()

    response = client_a.get(
        TOKEN_URL,
        HTTP_OCPI_FROM_COUNTRY_CODE="DE",
        HTTP_OCPI_FROM_PARTY_ID="TNM",
        HTTP_OCPI_TO_COUNTRY_CODE="BE",
        HTTP_OCPI_TO_PARTY_ID="BEC",
    )

    assert status(response) == (200, 1000)
    assert [response[name] for name in ("OCPI-from-country-code", "OCPI-from-party-id")] == [
        "BE",
        "BEC",
    ]
    assert [response[name] for name in ("OCPI-to-country-code", "OCPI-to-party-id")] == [
        "DE",
        "TNM",
    ]


@pytest.mark.parametrize("method", ["post", "delete"])
def test_post_and_delete_are_not_allowed(client_a: APIClient, method: str) -> None:
    cache_token()

    response = getattr(client_a, method)(TOKEN_URL)

    assert status(response) == (405, 2000)
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]


# --- PATCH ----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client_a: APIClient) -> None:
    cache_token()

    response = patch(
        client_a, TOKEN_URL, {"whitelist": "NEVER", "last_updated": "2026-02-01T10:00:00Z"}
    )

    assert status(response) == (200, 1000)
    assert body(client_a.get(TOKEN_URL))["data"] == token_payload(
        whitelist="NEVER", last_updated="2026-02-01T10:00:00Z"
    )


def test_patch_without_last_updated_is_2001_and_changes_nothing(client_a: APIClient) -> None:
    cache_token()

    response = patch(client_a, TOKEN_URL, {"valid": False})

    assert status(response) == (200, 2001)
    assert body(response)["status_message"] == "A PATCH SHALL contain last_updated"
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]


def test_patch_of_an_unknown_token_is_404_with_2004(client_a: APIClient) -> None:
    response = patch(client_a, TOKEN_URL, example("token_patch_example.json"))

    assert status(response) == (404, 2004)
    assert body(response)["status_message"] == (
        "Unknown token DE*TNM RFID TOKEN1: PUT it before patching it"
    )
    assert stored() == []


def test_a_null_in_a_patch_changes_nothing(client_a: APIClient) -> None:
    cache_token()

    response = patch(
        client_a,
        TOKEN_URL,
        {"visual_number": None, "valid": False, "last_updated": "2026-02-01T10:00:00Z"},
    )

    assert status(response) == (200, 1000)
    assert body(client_a.get(TOKEN_URL))["data"]["visual_number"] == "DF000-2001-8999-1"


def test_patch_replaces_the_energy_contract_as_a_whole(client_a: APIClient) -> None:
    cache_token()

    patch(
        client_a,
        TOKEN_URL,
        {"energy_contract": {"supplier_name": "Eneco"}, "last_updated": "2026-02-01T10:00:00Z"},
    )

    assert body(client_a.get(TOKEN_URL))["data"]["energy_contract"] == {"supplier_name": "Eneco"}


def test_patch_that_names_another_token_is_2001(client_a: APIClient) -> None:
    cache_token()

    response = patch(client_a, TOKEN_URL, {"uid": "TOKEN2", "last_updated": "2026-02-01T10:00:00Z"})

    assert status(response) == (200, 2001)
    assert body(response)["status_message"] == (
        "The body does not match the URL: uid 'TOKEN2' (URL: 'TOKEN1')"
    )


def test_patch_with_an_invalid_value_is_2001(client_a: APIClient) -> None:
    cache_token()

    response = patch(client_a, TOKEN_URL, {"valid": 0, "last_updated": "2026-02-01T10:00:00Z"})

    assert status(response) == (200, 2001)
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]


def test_a_patch_body_that_is_not_an_object_is_2001(client_a: APIClient) -> None:
    cache_token()

    response = patch(client_a, TOKEN_URL, [{"valid": False}])

    assert status(response) == (200, 2001)


# --- party scoping --------------------------------------------------------------------------


def test_emsp_b_cannot_read_emsp_a_tokens(client_a: APIClient, client_b: APIClient) -> None:
    cache_token()

    response = client_b.get(TOKEN_URL)

    assert status(response) == (404, 2000)
    assert body(response)["status_message"] == "DE*TNM is not one of your eMSP parties"
    assert "data" not in body(response)


def test_emsp_b_cannot_create_or_replace_emsp_a_tokens(
    client_a: APIClient, client_b: APIClient
) -> None:
    cache_token()

    replaced = put(client_b, TOKEN_URL, token_payload(valid=False))
    created = put(client_b, f"{URL}/DE/TNM/TOKEN2", token_payload("TOKEN2"))

    assert status(replaced) == (404, 2000)
    assert status(created) == (404, 2000)
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]


def test_emsp_b_cannot_patch_emsp_a_tokens(client_a: APIClient, client_b: APIClient) -> None:
    cache_token()

    response = patch(client_b, TOKEN_URL, example("token_patch_example.json"))

    assert status(response) == (404, 2000)
    assert stored() == [("DE", "TNM", "TOKEN1", "RFID", True)]


def test_emsp_b_cannot_smuggle_a_token_of_a_into_its_own_url(client_b: APIClient) -> None:
    response = put(client_b, f"{URL}/DE/BBB/TOKEN1", token_payload())

    assert status(response) == (200, 2001)
    assert stored() == []


def test_emsp_b_writes_its_own_tokens(client_a: APIClient, client_b: APIClient) -> None:
    cache_token()

    response = put(client_b, f"{URL}/DE/BBB/TOKEN1", token_payload(party_id="BBB", issuer="eMSP B"))

    assert status(response) == (201, 1000)
    assert stored() == [
        ("DE", "TNM", "TOKEN1", "RFID", True),
        ("DE", "BBB", "TOKEN1", "RFID", True),
    ]
    assert body(client_a.get(TOKEN_URL))["data"]["issuer"] == "TheNewMotion"
    assert status(client_a.get(f"{URL}/DE/BBB/TOKEN1")) == (404, 2000)


def test_without_a_token_the_answer_is_401(api_client: APIClient, partner_a: Any) -> None:
    response = api_client.get(TOKEN_URL)

    assert status(response) == (401, 2000)
