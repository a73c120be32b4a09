"""Stale updates change nothing (ocpi.receiving, credentials.receiving).

A PUT or PATCH whose last_updated is older than the cached token's is answered HTTP 200 /
OCPI 1000 with a status_message saying it was not applied, leaves the token as it is, and
counts once in the sending partner's stale_updates (admin, ocpi_partner show). Equal
last_updated is applied. The check holds against a concurrent writer, and a pulled older
copy does not overwrite a newer token either (without counting: it is not the partner's doing).
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import Client
from rest_framework.test import APIClient

from credentials.models import PartnerPlatform
from ocpi import json
from ocpi.time import format_datetime
from tests.admin_pages import page_text
from tests.conftest import client_for
from tests.tokens.conftest import TOKEN_A, URL, token_payload, validated
from tests.tokens.fake_emsp import FakeEmsp
from tokens.models import Token
from tokens.pull import token_pull
from tokens.services import token_patch

TOKEN_URL = f"{URL}/DE/TNM/TOKEN1"
CREATED = "2026-01-01T00:00:00Z"  # the token as first PUT, valid
BETWEEN = "2026-01-15T00:00:00Z"  # sent before the invalidation, arrives after it
INVALIDATED = "2026-02-01T10:00:00Z"  # the eMSP blocks the token: valid=false


def not_applied(received: str, stored: str = INVALIDATED) -> dict[str, Any]:
    """The stale answer's envelope, without its timestamp."""
    return {
        "status_code": 1000,
        "status_message": f"Not applied: Token DE*TNM RFID TOKEN1 has last_updated {stored} "
        f"here, newer than this update's {received}; the newer state stands",
    }


def answer(response: Any) -> tuple[int, dict[str, Any]]:
    body = {key: value for key, value in response.json().items() if key != "timestamp"}
    return response.status_code, body


def put(client: APIClient, payload: Any, url: str = TOKEN_URL) -> Any:
    return client.put(url, payload, format="json")


def patch(client: APIClient, payload: Any) -> Any:
    return client.patch(TOKEN_URL, payload, format="json")


def write(client: APIClient, method: str, payload: Any) -> Any:
    return client.generic(method, TOKEN_URL, json.dumps(payload), "application/json")


# Sent before the eMSP invalidated the token, arriving after: (method, body, last_updated).
OLD_WRITES = [
    ("PUT", token_payload(last_updated=CREATED), CREATED),  # a retried first PUT
    ("PATCH", {"valid": True, "whitelist": "NEVER", "last_updated": BETWEEN}, BETWEEN),
]


def cached() -> tuple[bool, str, str]:
    token = Token.objects.get(uid="TOKEN1")
    return token.valid, token.whitelist, format_datetime(token.last_updated)


def stale_updates(partner: PartnerPlatform) -> int:
    partner.refresh_from_db()
    return partner.stale_updates


def invalidate(client: APIClient) -> None:
    """The eMSP PUTs the token, then blocks it with a PATCH valid=false."""
    assert put(client, token_payload(last_updated=CREATED)).status_code == 201
    invalidated = patch(client, {"valid": False, "last_updated": INVALIDATED})
    assert answer(invalidated) == (200, {"status_code": 1000})


# --- the Receiver interface -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload", "envelope", "token", "counted"),
    [
        *(
            (method, payload, not_applied(received), (False, "ALLOWED", INVALIDATED), 1)
            for method, payload, received in OLD_WRITES
        ),
        # Equal last_updated: the same update again, applied (an idempotent retry).
        (
            "PUT",
            token_payload(whitelist="NEVER", last_updated=INVALIDATED),
            {"status_code": 1000},
            (True, "NEVER", INVALIDATED),
            0,
        ),
        (
            "PATCH",
            {"whitelist": "NEVER", "last_updated": INVALIDATED},
            {"status_code": 1000},
            (False, "NEVER", INVALIDATED),
            0,
        ),
    ],
    ids=["older-put", "older-patch", "equal-put", "equal-patch"],
)
@pytest.mark.django_db
def test_a_write_older_than_the_cached_token_changes_nothing(
    client_a: APIClient,
    partner_a: PartnerPlatform,
    method: str,
    payload: dict[str, Any],
    envelope: dict[str, Any],
    token: tuple[bool, str, str],
    counted: int,
) -> None:
    invalidate(client_a)

    response = write(client_a, method, payload)

    assert answer(response) == (200, envelope)  # no `data`: only the timestamp is left out
    assert cached() == token
    assert stale_updates(partner_a) == counted


@pytest.mark.django_db
def test_the_stale_answer_carries_the_routing_headers_back(
    client_a: APIClient, partner_a: PartnerPlatform
) -> None:
    invalidate(client_a)

    response = client_a.put(
        TOKEN_URL,
        token_payload(last_updated=CREATED),
        format="json",
        HTTP_OCPI_FROM_COUNTRY_CODE="DE",
        HTTP_OCPI_FROM_PARTY_ID="TNM",
        HTTP_OCPI_TO_COUNTRY_CODE="BE",
        HTTP_OCPI_TO_PARTY_ID="BEC",
    )

    assert answer(response) == (200, not_applied(CREATED))
    assert [response[name] for name in ("OCPI-from-party-id", "OCPI-to-party-id")] == [
        "BEC",
        "TNM",
    ]


@pytest.mark.django_db
def test_each_stale_write_counts_once_for_the_partner_that_sent_it(
    client_a: APIClient,
    client_b: APIClient,
    partner_a: PartnerPlatform,
    partner_b: PartnerPlatform,
) -> None:
    invalidate(client_a)

    put(client_a, token_payload(last_updated=CREATED))
    patch(client_a, {"valid": True, "last_updated": BETWEEN})
    put(client_a, token_payload(valid=False, last_updated=INVALIDATED))  # equal: not stale
    put(client_a, token_payload(last_updated=BETWEEN))

    assert (stale_updates(partner_a), stale_updates(partner_b)) == (3, 0)


@pytest.mark.django_db
def test_a_newer_put_after_a_stale_one_is_applied(
    client_a: APIClient, partner_a: PartnerPlatform
) -> None:
    invalidate(client_a)
    put(client_a, token_payload(last_updated=CREATED))

    response = put(client_a, token_payload(last_updated="2026-03-01T00:00:00Z"))

    assert answer(response) == (200, {"status_code": 1000})
    assert cached() == (True, "ALLOWED", "2026-03-01T00:00:00Z")
    assert stale_updates(partner_a) == 1


@pytest.mark.django_db
def test_the_operator_sees_the_count_read_only_in_the_admin(
    client_a: APIClient, partner_a: PartnerPlatform, operator: Client
) -> None:
    invalidate(client_a)
    put(client_a, token_payload(last_updated=CREATED))
    put(client_a, token_payload(last_updated=BETWEEN))

    listing = operator.get("/admin/credentials/partnerplatform/")
    page = operator.get(f"/admin/credentials/partnerplatform/{partner_a.pk}/change/")

    assert '<td class="field-stale_updates">2</td>' in listing.content.decode()
    assert "Stale updates: 2" in page_text(page)
    assert 'name="stale_updates"' not in page.content.decode()


# --- concurrency: the check runs under the row lock, in the writing transaction --------------


@pytest.fixture
def thread_pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def write_in_a_thread(method: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    try:
        return answer(write(client_for(TOKEN_A), method, payload))
    finally:
        connections.close_all()  # this thread's own connection


@pytest.mark.parametrize(("method", "payload", "received"), OLD_WRITES, ids=["put", "patch"])
@pytest.mark.django_db(transaction=True)
def test_an_old_write_waiting_on_a_newer_writer_is_not_applied(
    client_a: APIClient,
    partner_a: PartnerPlatform,
    thread_pool: ThreadPoolExecutor,
    method: str,
    payload: dict[str, Any],
    received: str,
) -> None:
    assert put(client_a, token_payload(last_updated=CREATED)).status_code == 201
    token = Token.objects.get()

    # The newer write holds the token's row lock until its transaction commits; the old write
    # arrives meanwhile and must wait for it, then judge against what it committed.
    with transaction.atomic():
        token_patch(token=token, changes=validated_patch(valid=False, last_updated=INVALIDATED))
        old_write = thread_pool.submit(write_in_a_thread, method, payload)
        finished, _ = wait([old_write], timeout=0.5)
        assert finished == set()  # blocked on the lock, not deciding from what it read before

    assert old_write.result(timeout=30) == (200, not_applied(received))
    assert cached() == (False, "ALLOWED", INVALIDATED)
    assert stale_updates(partner_a) == 1


def validated_patch(**changes: Any) -> dict[str, Any]:
    """PATCH fields as the view validates them (a partial TokenSerializer)."""
    full = validated(token_payload(**changes))
    return {name: full[name] for name in changes}


# --- the pull ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pulled_older_copy_does_not_undo_a_newer_invalidation_and_is_not_counted(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    client = client_for(TOKEN_A)
    invalidate(client)
    # The page was read before the eMSP blocked the token: it still shows it valid.
    emsp.tokens = [token_payload("TOKEN1", last_updated=BETWEEN)]

    pull = token_pull(partner=emsp_partner, full=True)

    assert (pull.received, pull.created, pull.updated, pull.unchanged) == (1, 0, 0, 1)
    assert cached() == (False, "ALLOWED", INVALIDATED)
    assert stale_updates(emsp_partner) == 0


@pytest.mark.django_db
def test_a_pulled_copy_with_an_equal_last_updated_is_applied(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    invalidate(client_for(TOKEN_A))
    emsp.tokens = [
        token_payload("TOKEN1", valid=False, whitelist="NEVER", last_updated=INVALIDATED)
    ]

    pull = token_pull(partner=emsp_partner, full=True)

    assert (pull.updated, pull.unchanged) == (1, 0)
    assert cached() == (False, "NEVER", INVALIDATED)
