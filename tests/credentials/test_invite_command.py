"""`manage.py ocpi_invite NAME [--json]`: issue a token A (DESIGN.md, Management commands)."""

import json
from io import StringIO

from django.core.management import call_command

from credentials.models import Invitation, LocalParty
from ocpi.time import format_datetime
from tests.credentials.conftest import VERSIONS_PATH, OcpiCall


def test_json_output_is_one_object_with_a_working_token(
    our_party: LocalParty, ocpi_call: OcpiCall
) -> None:
    out = StringIO()

    call_command("ocpi_invite", "New eMSP", "--json", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    invitation = json.loads(lines[0])
    stored = Invitation.objects.get()
    assert invitation == {
        "versions_url": "https://cpo.test/ocpi/versions",
        "token": invitation["token"],
        "expires_at": format_datetime(stored.expires_at),  # type: ignore[arg-type]
    }
    answer = ocpi_call("GET", invitation["token"], path=VERSIONS_PATH)
    assert (answer.http_status, answer.status_code) == (200, 1000)
    assert stored.name == "New eMSP"


def test_plain_output_names_the_versions_url_and_the_token(our_party: LocalParty) -> None:
    out = StringIO()

    call_command("ocpi_invite", "New eMSP", stdout=out)

    invitation = Invitation.objects.get()
    assert out.getvalue() == (
        f"Invitation {invitation.pk} for New eMSP\n"
        "  versions URL: https://cpo.test/ocpi/versions\n"
        f"  token A:      {invitation.token}\n"
        f"  expires at:   {format_datetime(invitation.expires_at)}\n"  # type: ignore[arg-type]
        "Hand both to the partner; the token works once, for registration.\n"
    )


def test_token_a_also_opens_the_version_details(our_party: LocalParty, ocpi_call: OcpiCall) -> None:
    out = StringIO()
    call_command("ocpi_invite", "New eMSP", "--json", stdout=out)
    token_a = json.loads(out.getvalue())["token"]

    details = ocpi_call("GET", token_a, path="/ocpi/2.2.1")

    assert (details.http_status, details.status_code) == (200, 1000)
    assert details.data["endpoints"][0] == {
        "identifier": "credentials",
        "role": "SENDER",
        "url": "https://cpo.test/ocpi/2.2.1/credentials",
    }
