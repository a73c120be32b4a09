"""Driving two live instances of our platform through their management commands (tests/live.py)."""

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from tests.conftest import authorization
from tests.live import LivePlatform

_STATE = """
import json
from credentials.selectors import registered_partner_by_name
p = registered_partner_by_name({name!r})
print(json.dumps({{
    "id": p.pk,
    "status": p.status,
    "incoming": p.incoming_token if p.incoming_token_sealed else None,
    "outgoing": p.outgoing_token if p.outgoing_token_sealed else None,
    "last_contact_at": p.last_contact_at.isoformat() if p.last_contact_at else None,
}}))
"""


@dataclass(frozen=True)
class PartnerState:
    """One side's record of the other: its status and the tokens in both directions."""

    id: int
    status: str
    incoming: str | None
    outgoing: str | None
    last_contact_at: str | None


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent commands on different instances at the same time (each takes ~1 s)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """Read until `done(value)` holds (a worker acts in its own time); return that value."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout:.0f} s")
        value = read()
    return value


def invite(platform: LivePlatform, name: str) -> dict[str, str]:
    return dict(json.loads(platform.manage("ocpi_invite", name, "--json").stdout))


def register(platform: LivePlatform, invitation: dict[str, str], name: str) -> str:
    # `--` before the positionals: a token may start with "-" (URL-safe Base64).
    return platform.manage(
        "ocpi_register", "--name", name, "--", invitation["versions_url"], invitation["token"]
    ).stdout


def show(platform: LivePlatform, name: str) -> str:
    return platform.manage("ocpi_partner", "show", name).stdout


def state(platform: LivePlatform, name: str) -> PartnerState:
    return PartnerState(**json.loads(platform.shell(_STATE.format(name=name))))


def published_endpoints(platform: LivePlatform, token: str | None) -> list[tuple[str, str, str]]:
    """The endpoints `platform` lists in its version details, in `ocpi_partner show` order."""
    response = requests.get(
        f"{platform.base_url}/ocpi/2.2.1",
        headers={"Authorization": authorization(token or "")},
        timeout=10,
    )
    return sorted(
        (e["identifier"], e["role"], e["url"]) for e in response.json()["data"]["endpoints"]
    )


def expected_show(name: str, status: str, role: str, endpoints: list[tuple[str, str, str]]) -> str:
    """`ocpi_partner show` of a partner that is another instance of our own platform."""
    return f"{name} (id N): {status}, version 2.2.1\n  stale updates 0\n  role {role}\n" + "".join(
        f"  {identifier:16} {r:8} {url}\n" for identifier, r, url in endpoints
    )


def without_id(output: str) -> str:
    return re.sub(r"\(id \d+\)", "(id N)", output)


def versions_status(platform: LivePlatform, token: str | None) -> int:
    """HTTP status of GET versions on `platform` with `token`."""
    response = requests.get(
        platform.versions_url, headers={"Authorization": authorization(token or "")}, timeout=10
    )
    return response.status_code
