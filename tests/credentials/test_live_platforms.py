"""Two instances of our own platform, a CPO and an eMSP, register with each other over real
HTTP, in both directions (credentials.asciidoc: Registration, Updating, Unregistering).

Each instance runs in its own processes with its own database (tests/live.py); the operator's
management commands drive them: `ocpi_invite` on the inviting side, `ocpi_register` on the
other, then `ocpi_partner rotate/refresh/unregister/show` from either side.
"""

from collections.abc import Iterator

import pytest

from tests.credentials.platforms import (
    PartnerState,
    expected_show,
    in_parallel,
    invite,
    published_endpoints,
    register,
    show,
    state,
    versions_status,
    without_id,
)
from tests.live import LivePlatform

pytestmark = pytest.mark.live

ROLES = {"cpo": "NL*CPO CPO", "emsp": "DE*EMS EMSP"}


@pytest.fixture(scope="module")
def cpo() -> Iterator[LivePlatform]:
    with LivePlatform(name="cpo", country_code="NL", party_id="CPO", role="CPO") as platform:
        yield platform


@pytest.fixture(scope="module")
def emsp() -> Iterator[LivePlatform]:
    with LivePlatform(
        name="emsp", country_code="DE", party_id="EMS", role="EMSP", business_name="Live eMSP"
    ) as platform:
        yield platform


@pytest.mark.parametrize(
    ("scenario", "inviter_name", "registrant_name", "leaver"),
    [
        pytest.param("a", "emsp", "cpo", "registrant", id="emsp-invites-cpo-registers"),
        pytest.param("b", "cpo", "emsp", "inviter", id="cpo-invites-emsp-registers"),
    ],
)
def test_register_rotate_both_ways_and_unregister(
    scenario: str,
    inviter_name: str,
    registrant_name: str,
    leaver: str,
    request: pytest.FixtureRequest,
) -> None:
    inviter: LivePlatform = request.getfixturevalue(inviter_name)
    registrant: LivePlatform = request.getfixturevalue(registrant_name)
    # Each side names the other after its role, plus the scenario to keep both apart.
    at_inviter = f"{registrant_name} {scenario}"
    at_registrant = f"{inviter_name} {scenario}"

    def states() -> list[PartnerState]:
        return in_parallel(
            lambda: state(registrant, at_registrant), lambda: state(inviter, at_inviter)
        )

    def shows() -> list[str]:
        return [
            without_id(text)
            for text in in_parallel(
                lambda: show(registrant, at_registrant), lambda: show(inviter, at_inviter)
            )
        ]

    # Registration: the inviter hands out token A, the registrant registers with it.
    output = register(registrant, invite(inviter, at_inviter), at_registrant)

    assert without_id(output) == f"Registered with {at_registrant} (id N): {ROLES[inviter_name]}\n"
    registered = states()
    assert_paired(registered)
    # What each side stored is what the other publishes.
    inviter_endpoints = published_endpoints(inviter, registered[0].outgoing)
    registrant_endpoints = published_endpoints(registrant, registered[1].outgoing)

    def expected_shows(status: str) -> list[str]:
        return [
            expected_show(at_registrant, status, ROLES[inviter_name], inviter_endpoints),
            expected_show(at_inviter, status, ROLES[registrant_name], registrant_endpoints),
        ]

    assert shows() == expected_shows("REGISTERED")

    # Rotation from the registrant's side, then from the inviter's: new tokens both ways.
    registrant.manage("ocpi_partner", "rotate", at_registrant)

    assert versions_status(inviter, registered[0].outgoing) == 401
    assert versions_status(registrant, registered[1].outgoing) == 401

    inviter.manage("ocpi_partner", "rotate", at_inviter)
    rotated = states()

    assert_paired(rotated)
    assert {s.incoming for s in registered}.isdisjoint({s.incoming for s in rotated})

    # Both can still call each other with the tokens they hold now.
    refreshed = in_parallel(
        lambda: registrant.manage("ocpi_partner", "refresh", at_registrant),
        lambda: inviter.manage("ocpi_partner", "refresh", at_inviter),
    )
    assert [without_id(result.stdout) for result in refreshed] == expected_shows("REGISTERED")

    # Unregistration from one side: the other side is told, and no token works any more.
    leaving = {"inviter": (inviter, at_inviter), "registrant": (registrant, at_registrant)}
    platform, name = leaving[leaver]
    left = platform.manage("ocpi_partner", "unregister", name)

    assert left.stderr == ""
    assert shows() == expected_shows("UNREGISTERED")
    failed = in_parallel(
        lambda: registrant.manage("ocpi_partner", "refresh", at_registrant, check=False),
        lambda: inviter.manage("ocpi_partner", "refresh", at_inviter, check=False),
    )
    assert [(result.returncode, result.stderr) for result in failed] == [
        (1, f"CommandError: {at_registrant} is not registered\n"),
        (1, f"CommandError: {at_inviter} is not registered\n"),
    ]
    assert versions_status(inviter, rotated[0].outgoing) == 401
    assert versions_status(registrant, rotated[1].outgoing) == 401


def assert_paired(states: list[PartnerState]) -> None:
    """Both sides registered, each calling the other with the token the other expects."""
    registrant, inviter = states
    assert (registrant.status, inviter.status) == ("REGISTERED", "REGISTERED")
    assert (registrant.outgoing, inviter.outgoing) == (inviter.incoming, registrant.incoming)
    assert None not in (registrant.incoming, inviter.incoming)
