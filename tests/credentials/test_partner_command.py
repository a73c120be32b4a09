"""`manage.py ocpi_partner {show,rotate,refresh,unregister} PARTNER` against a fake partner.

Rotation is our PUT (credentials.asciidoc, Updating): the partner fetches our versions with
the new token before it answers, so the new token works before the old one is dropped.
Unregistration is our DELETE: all traffic stops, whatever the partner answers.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from credentials.models import PartnerPlatform, PartnerStatus
from tests.credentials.conftest import calls_us
from tests.credentials.fake_partner import FakePartner, RawReply, envelope, token_header


def partner_command(action: str, partner: str = "Fake eMSP") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ocpi_partner", action, partner, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def summary(
    stored: PartnerPlatform, partner: FakePartner, status: str = "REGISTERED", stale: int = 0
) -> str:
    return (
        f"Fake eMSP (id {stored.pk}): {status}, version 2.2.1\n"
        f"  stale updates {stale}\n"
        "  role DE*FKE EMSP\n"
        + "".join(
            f"  {identifier:16} {role:8} {url}\n"
            for identifier, role, url in partner.endpoint_rows()
        )
    )


def test_show_prints_status_roles_and_endpoints(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    output, _ = partner_command("show")

    assert output == summary(registered_with_partner, partner)
    assert partner.calls == []


def test_show_prints_the_stale_updates_the_partner_sent(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    PartnerPlatform.objects.update(stale_updates=3)

    output, _ = partner_command("show")

    assert output == summary(registered_with_partner, partner, stale=3)


def test_show_finds_a_partner_by_id(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    output, _ = partner_command("show", str(registered_with_partner.pk))

    assert output == summary(registered_with_partner, partner)


def test_an_unknown_partner_is_an_error(registered_with_partner: PartnerPlatform) -> None:
    with pytest.raises(CommandError, match="^No partner 'Nobody'$"):
        partner_command("show", "Nobody")


def test_rotate_swaps_both_tokens(
    registered_with_partner: PartnerPlatform, partner: FakePartner, live_platform: str
) -> None:
    old_b, old_c = registered_with_partner.incoming_token, registered_with_partner.outgoing_token

    output, _ = partner_command("rotate")

    stored = PartnerPlatform.objects.get()
    assert output == summary(stored, partner)
    assert partner.seen() == [("PUT", "/ocpi/2.2.1/credentials", token_header(old_c))]
    assert partner.calls[0].body["token"] == partner.platform_token
    assert (stored.incoming_token, stored.outgoing_token) == (
        partner.platform_token,
        partner.token_c,
    )
    assert stored.incoming_token != old_b
    assert stored.outgoing_token != old_c
    assert (stored.next_incoming_token_digest, stored.last_error) == (None, "")
    assert calls_us(live_platform, old_b) == 401
    assert calls_us(live_platform, stored.incoming_token) == 200


def test_a_failed_rotation_keeps_the_old_tokens(
    registered_with_partner: PartnerPlatform, partner: FakePartner, live_platform: str
) -> None:
    old_b, old_c = registered_with_partner.incoming_token, registered_with_partner.outgoing_token
    partner.credentials_reply = RawReply(500, envelope(status_code=3000, message="Down"))

    with pytest.raises(CommandError) as failure:
        partner_command("rotate")

    reason = f"PUT {partner.credentials_url} answered HTTP 500, OCPI 3000: Down"
    assert str(failure.value) == f"Rotation with Fake eMSP failed: {reason}"
    stored = PartnerPlatform.objects.get()
    assert (stored.incoming_token, stored.outgoing_token) == (old_b, old_c)
    assert (stored.next_incoming_token_digest, stored.last_error) == (
        None,
        f"rotate tokens (PUT credentials): {reason}",
    )
    assert stored.last_error_at is not None
    assert calls_us(live_platform, old_b) == 200


def test_refresh_replaces_the_endpoints(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    contact_before = registered_with_partner.last_contact_at
    partner.endpoints = [
        {"identifier": "credentials", "role": "SENDER", "url": partner.credentials_url},
        {"identifier": "locations", "role": "RECEIVER", "url": f"{partner.base_url}/loc"},
    ]

    output, _ = partner_command("refresh")

    stored = PartnerPlatform.objects.get()
    assert output == summary(stored, partner)
    assert list(stored.endpoints.values_list("identifier", "role", "url")) == [
        ("credentials", "SENDER", partner.credentials_url),
        ("locations", "RECEIVER", f"{partner.base_url}/loc"),
    ]
    assert stored.last_contact_at is not None
    assert contact_before is not None
    assert stored.last_contact_at > contact_before
    token = token_header(stored.outgoing_token)
    assert partner.seen() == [("GET", "/ocpi/versions", token), ("GET", "/ocpi/2.2.1", token)]


def test_a_failed_refresh_keeps_the_endpoints_and_records_the_error(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    partner.versions_reply = RawReply(500, envelope(status_code=3000, message="Down"))

    with pytest.raises(CommandError) as failure:
        partner_command("refresh")

    reason = f"GET {partner.versions_url} answered HTTP 500, OCPI 3000 Down"
    assert str(failure.value) == f"Refreshing Fake eMSP failed: {reason}"
    stored = PartnerPlatform.objects.get()
    assert stored.last_error == f"refresh versions and endpoints: {reason}"
    assert stored.last_error_at is not None
    assert list(stored.endpoints.values_list("identifier", "role", "url")) == (
        partner.endpoint_rows()
    )


def test_unregister_tells_the_partner_and_stops_our_token(
    registered_with_partner: PartnerPlatform, partner: FakePartner, live_platform: str
) -> None:
    token_b = registered_with_partner.incoming_token
    token_c = registered_with_partner.outgoing_token

    output, errors = partner_command("unregister")

    stored = PartnerPlatform.objects.get()
    assert (output, errors) == (summary(stored, partner, "UNREGISTERED"), "")
    assert partner.seen() == [("DELETE", "/ocpi/2.2.1/credentials", token_header(token_c))]
    assert stored.status == PartnerStatus.UNREGISTERED
    assert calls_us(live_platform, token_b) == 401


def test_unregister_when_the_partner_cannot_be_told_still_stops_traffic(
    registered_with_partner: PartnerPlatform, partner: FakePartner, live_platform: str
) -> None:
    token_b = registered_with_partner.incoming_token
    partner.credentials_reply = RawReply(500, envelope(status_code=3000, message="Down"))

    output, errors = partner_command("unregister")

    assert errors == (
        "Unregistered here; the partner was not told: "
        f"DELETE {partner.credentials_url} answered HTTP 500, OCPI 3000: Down\n"
    )
    assert PartnerPlatform.objects.get().status == PartnerStatus.UNREGISTERED
    assert calls_us(live_platform, token_b) == 401


@pytest.mark.parametrize("action", ["rotate", "refresh", "unregister"])
def test_actions_on_an_unregistered_partner_are_errors(
    action: str, registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    partner_command("unregister")
    partner.calls.clear()

    with pytest.raises(CommandError, match="^Fake eMSP is not registered$"):
        partner_command(action)

    assert partner.calls == []


def test_a_name_used_again_means_the_registered_partner(
    registered_with_partner: PartnerPlatform, partner: FakePartner
) -> None:
    partner_command("unregister")
    call_command("ocpi_register", partner.versions_url, partner.invite(), name="Fake eMSP")
    newest = PartnerPlatform.objects.order_by("pk").last()
    assert newest is not None

    output, _ = partner_command("show", "fake emsp")

    assert output == summary(newest, partner)
    assert newest.pk != registered_with_partner.pk
