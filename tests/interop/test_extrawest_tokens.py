"""Tokens with extrawest-ocpi as the eMSP: we pull its tokens and authorize them in real time.

We register with the peer (our platform on live_server, so the peer can fetch our versions
during the handshake); the peer serves the tokens we seed through its control API on its
tokens Sender interface (GET list, POST authorize: py_ocpi's own routers and models). We check
our cache and decisions, and what the peer received (/_control/state request_log).
mod_tokens.asciidoc, Sender Interface. What we tolerate from the peer, and why the spec lets a
receiver do so: extrawest_peer/README.md, "Tokens".
"""

import io
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from credentials.models import PartnerPlatform
from ocpi.routing import PartyRef
from ocpi.time import format_datetime
from tests.interop.helpers import Entry, peer_token
from tests.interop.peer import ExtrawestPeer
from tokens.authorization import LocationReferences, Result, Source
from tokens.models import PullStatus, Token, TokenPull
from tokens.services import authorize

pytestmark = [pytest.mark.interop, pytest.mark.django_db(transaction=True)]

PEER_PARTY = PartyRef("DE", "XWE")
TOKENS_PATH = "/ocpi/emsp/2.2.1/tokens/"


def token_requests(peer: ExtrawestPeer) -> list[Entry]:
    return [e for e in peer.state()["request_log"] if e["path"].startswith(TOKENS_PATH)]


def pull(*args: str) -> str:
    out = io.StringIO()
    call_command("ocpi_pull", "extrawest", "tokens", *args, stdout=out)
    return out.getvalue()


def cached() -> list[tuple[str, str, str, str, bool]]:
    return list(
        Token.objects.order_by("uid").values_list("party_id", "uid", "type", "whitelist", "valid")
    )


# --- pull -----------------------------------------------------------------------------------


def test_we_pull_the_peers_tokens(peer: ExtrawestPeer, partner: PartnerPlatform) -> None:
    peer.seed_tokens(
        [
            peer_token("rfid-0001"),
            peer_token("app-0002", type="APP_USER", valid=False, whitelist="ALLOWED"),
            peer_token(
                "rfid-0003",
                whitelist="ALWAYS",
                energy_contract={"supplier_name": "Greenpeace Energy eG"},
            ),
            peer_token("rfid-other", party_id="ABC"),  # not a party of the peer's
        ]
    )

    output = pull("--full")

    assert output == (
        "full pull of tokens from extrawest: SUCCEEDED; received 4, created 3, updated 0, "
        "unchanged 0, invalid 0, ignored 1, invalidated 0, held 0\n"
    )
    # The peer upper-cases CiStrings (README, "CiString case folding"): they are the same ids.
    assert cached() == [
        ("XWE", "APP-0002", "APP_USER", "ALLOWED", False),
        ("XWE", "RFID-0001", "RFID", "NEVER", True),
        ("XWE", "RFID-0003", "RFID", "ALWAYS", True),
    ]
    assert Token.objects.get(uid="RFID-0003").energy_contract == {
        "supplier_name": "Greenpeace Energy eG"
    }
    (request,) = token_requests(peer)
    assert (request["method"], request["query"], request["response_status"]) == ("GET", "", 200)
    assert request["authorization"]["token_decoded"] == partner.outgoing_token
    headers = request["headers"]
    assert [
        headers[f"ocpi-{side}-{name}"]
        for side in ("from", "to")
        for name in (
            "country-code",
            "party-id",
        )
    ] == ["BE", "BEC", "DE", "XWE"]


def test_a_delta_pull_asks_for_changes_since_the_last_pull(
    peer: ExtrawestPeer, partner: PartnerPlatform
) -> None:
    peer.seed_tokens([peer_token("rfid-0001"), peer_token("rfid-0002")])
    pull("--full")
    first = TokenPull.objects.get()
    peer.seed_tokens([peer_token("rfid-0002", valid=False, last_updated="2099-01-01T00:00:00Z")])

    output = pull()

    assert output.startswith("delta pull of tokens from extrawest: SUCCEEDED; received 1,")
    delta = token_requests(peer)[-1]
    since = first.started_at - timedelta(seconds=300)
    assert parse_qs(delta["query"]) == {"date_from": [format_datetime(since)]}
    assert cached() == [
        ("XWE", "RFID-0001", "RFID", "NEVER", True),
        ("XWE", "RFID-0002", "RFID", "NEVER", False),
    ]


def test_a_second_page_behind_the_peers_broken_link_fails_the_pull_safely(
    peer: ExtrawestPeer, partner: PartnerPlatform
) -> None:
    # The peer pages by 50 and its Link points at https:// and its /cpo/ path (README,
    # "URLs in headers ignore PROTOCOL and role"): the second page cannot be read.
    peer.seed_tokens([peer_token(f"rfid-{n:04d}") for n in range(51)])
    Token.objects.create(**{**peer_token("KEEP-ME"), "last_updated": "2020-01-01T00:00:00Z"})

    with pytest.raises(CommandError):
        pull("--full")

    failed = TokenPull.objects.get()
    assert (failed.status, failed.received, failed.created, failed.invalidated) == (
        PullStatus.FAILED,
        50,
        50,
        0,
    )
    assert failed.error.startswith("DE*XWE: GET https://127.0.0.1:")
    # A crawl that did not finish is no new truth: nothing was invalidated.
    assert Token.objects.get(uid="KEEP-ME").valid is True


# --- real-time authorization ----------------------------------------------------------------


def test_we_authorize_a_peer_token_in_real_time(
    peer: ExtrawestPeer, partner: PartnerPlatform
) -> None:
    peer.seed_tokens([peer_token("rfid-0001")])
    pull("--full")

    decision = authorize(
        party=None, uid="rfid-0001", location=LocationReferences("LOC1", ("LOC1-E1",))
    )

    assert (decision.allowed, decision.result, decision.source) == (
        True,
        Result.ALLOWED,
        Source.REALTIME,
    )
    (request,) = [e for e in token_requests(peer) if e["method"] == "POST"]
    assert request["path"] == f"{TOKENS_PATH}RFID-0001/authorize"
    assert request["query"] == "type=RFID"
    assert request["body"] == {"location_id": "LOC1", "evse_uids": ["LOC1-E1"]}
    answered = request["response_body"]["data"][0]  # README, "Single objects … in a list"
    assert decision.authorization_reference == answered["authorization_reference"]
    assert decision.location == LocationReferences("LOC1", ("LOC1-E1",))
    assert decision.token == Token.objects.get(uid="RFID-0001")


def test_a_token_the_peer_holds_invalid_is_blocked(
    peer: ExtrawestPeer, partner: PartnerPlatform
) -> None:
    peer.seed_tokens([peer_token("rfid-0009", valid=False, last_updated="2026-04-01T00:00:00Z")])

    decision = authorize(party=PEER_PARTY, uid="RFID-0009")

    assert (decision.allowed, decision.result, decision.source) == (
        False,
        Result.BLOCKED,
        Source.REALTIME,
    )
    # We had never seen it: the answer's token is cached now.
    assert cached() == [("XWE", "RFID-0009", "RFID", "NEVER", False)]


def test_a_token_unknown_to_the_peer_is_refused(
    peer: ExtrawestPeer, partner: PartnerPlatform
) -> None:
    decision = authorize(party=PEER_PARTY, uid="NOBODY")

    assert (decision.allowed, decision.result, decision.source) == (
        False,
        Result.UNKNOWN_TOKEN,
        Source.REALTIME,
    )
    (request,) = token_requests(peer)
    assert (request["response_status"], request["response_body"]) == (
        404,
        {"detail": "Object not found."},
    )
