"""Reading what the extrawest peer received and stored, as the interop tests compare it.

The peer logs every request (/_control/state request_log) and keeps the objects it stored
(objects), both as JSON read by the standard library: numbers are floats there, and its
models drop the fractions of our DateTimes and fill in nulls for what we left out
(extrawest_peer/README.md).
"""

import io
import json as stdlib_json
import re
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.management import call_command

from credentials.models import PartnerPlatform
from ocpi import json
from push.services import KICK_KEY
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until

Entry = dict[str, Any]
FRACTION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def register_with(peer: ExtrawestPeer) -> PartnerPlatform:
    """Register with the peer as an operator does (ocpi_register with its token A)."""
    call_command(
        "ocpi_register",
        peer.versions_url,
        peer.issue_token_a(),
        name="extrawest",
        stdout=io.StringIO(),
    )
    registered = PartnerPlatform.objects.get()
    # Partner ids start again with every test database: a wake-up marker an earlier run left
    # in the shared cache must not swallow this partner's first kick.
    cache.delete(KICK_KEY.format(partner_id=registered.pk))
    return registered


def as_received(value: Any) -> Any:
    """Our data as the peer's log shows it: JSON read by the standard library (floats)."""
    return stdlib_json.loads(json.dumps(value))


def pushes(peer: ExtrawestPeer, since: int = 0) -> list[Entry]:
    """The OCPI requests the peer received from us (its log, from entry `since`), minus the
    handshake's."""
    return [
        entry
        for entry in peer.state()["request_log"][since:]
        if "/credentials" not in entry["path"]
        and not entry["path"].startswith("/ocpi/versions")
        and entry["path"] != "/ocpi/2.2.1/details"
    ]


def summary(entries: list[Entry]) -> list[tuple[str, str, int, int]]:
    """(method, path, HTTP status, OCPI status) of each request."""
    return [
        (e["method"], e["path"], e["response_status"], e["response_body"]["status_code"])
        for e in entries
    ]


def summary_http(entries: list[Entry]) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(method, path, HTTP status, the answer without data/timestamp/message) of each."""
    return [
        (
            e["method"],
            e["path"],
            e["response_status"],
            {
                k: v
                for k, v in e["response_body"].items()
                if k not in {"data", "timestamp", "status_message"}
            },
        )
        for e in entries
    ]


def stored(peer: ExtrawestPeer, module: str, key: str) -> Entry | None:
    objects: dict[str, Entry] = peer.state()["objects"].get(module, {})
    return objects.get(key)


def stored_if(
    peer: ExtrawestPeer, module: str, key: str, check: Callable[[Entry], bool]
) -> Entry | None:
    obj = stored(peer, module, key)
    return obj if obj is not None and check(obj) else None


def wait_for_stored(
    peer: ExtrawestPeer, module: str, key: str, check: Callable[[Entry], bool] = bool
) -> Entry:
    return wait_until(
        lambda: stored_if(peer, module, key, check), what=f"the peer's {module} {key}"
    )


def as_sent(kept: Any) -> Any:
    """What the peer stored, without the nulls and empty lists it fills in for every optional
    field we left out (README, deviation 9)."""
    if isinstance(kept, dict):
        return {k: as_sent(v) for k, v in kept.items() if v is not None and v != []}
    if isinstance(kept, list):
        return [as_sent(item) for item in kept]
    return kept


def seconds_only(sent: Any) -> Any:
    """Our DateTimes as the peer keeps them: fractions of a second dropped (README, Pushes)."""
    if isinstance(sent, dict):
        return {k: seconds_only(v) for k, v in sent.items()}
    if isinstance(sent, list):
        return [seconds_only(item) for item in sent]
    if isinstance(sent, str) and FRACTION.fullmatch(sent):
        return sent.split(".")[0] + "Z"
    return sent


def peer_token(uid: str, **fields: Any) -> dict[str, Any]:
    """A Token of the peer's party DE*XWE, as its eMSP would issue it."""
    return {
        "country_code": "DE",
        "party_id": "XWE",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"DE-XWE-{uid}",
        "issuer": "Extrawest",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2026-03-01T12:00:00Z",
        **fields,
    }
