"""Issue 14, the first hour: inviting the same name twice is refused (command and admin)
unless asked for (`--again`, "Invite again"), instead of silently issuing a second token A."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from credentials.models import Invitation, LocalParty, PartnerStatus
from credentials.services import InvitationExists, invitation_create, invitation_revoke
from ocpi.time import now
from tests.admin_pages import messages_of
from tests.credentials.conftest import Registration

ADD = "/admin/credentials/invitation/add/"


def invite(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ocpi_invite", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_second_invitation_for_an_open_one_is_refused(our_party: LocalParty) -> None:
    first, _ = invitation_create(name="Example eMSP")

    with pytest.raises(CommandError) as refused:
        invite("example emsp")

    assert str(refused.value).startswith(
        f"Not invited: example emsp already has: open invitation {first.pk} issued "
    )
    assert str(refused.value).endswith(
        "Hand over the open invitation's token A (the admin shows it) or revoke it there; "
        "--again issues another one anyway."
    )
    assert list(Invitation.objects.all()) == [first]


def test_again_issues_it_with_a_warning(our_party: LocalParty) -> None:
    first, _ = invitation_create(name="Example eMSP")

    out, err = invite("Example eMSP", "--again")

    second = Invitation.objects.exclude(pk=first.pk).get()
    assert out.startswith(f"Invitation {second.pk} for Example eMSP\n")
    assert err.startswith(f"Warning: Example eMSP also has open invitation {first.pk} issued ")
    assert (first.state, second.state) == ("open", "open")


def test_a_registered_partners_name_is_refused_too(registered: Registration) -> None:
    name = registered.partner.name

    with pytest.raises(InvitationExists, match=f"registered partner '{name}'"):
        invitation_create(name=name)


@pytest.mark.parametrize("ended", ["revoked", "expired", "unregistered"])
def test_a_name_whose_invitation_ended_is_invited_without_ado(
    registered: Registration, ended: str
) -> None:
    target = "Later eMSP"
    invitation, _ = invitation_create(name=target)
    if ended == "revoked":
        invitation_revoke(invitation=invitation)
    elif ended == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=now())
    else:  # the partner of the used invitation has left since
        invitation_revoke(invitation=invitation)
        registered.partner.status = PartnerStatus.UNREGISTERED
        registered.partner.save()
        target = registered.partner.name

    out, err = invite(target)

    assert out.startswith("Invitation ")
    assert err == ""


def test_the_admin_form_refuses_a_namesake_until_asked(operator: Client, our_party: LocalParty):
    first, _ = invitation_create(name="Example eMSP")

    refused = operator.post(ADD, {"name": "Example eMSP"})

    assert refused.status_code == 200  # the form again, in the admin's page, with the error
    page = refused.content.decode()
    assert 'class="errorlist' in page
    assert f"Example eMSP already has: open invitation {first.pk} issued " in page
    assert "Invite again" in page
    assert Invitation.objects.count() == 1

    accepted = operator.post(ADD, {"name": "Example eMSP", "again": "on"}, follow=True)

    assert Invitation.objects.count() == 2
    assert any(m.startswith("Invitation for Example eMSP") for m in messages_of(accepted))


def test_renaming_an_invitation_is_not_checked(operator: Client, our_party: LocalParty):
    first, _ = invitation_create(name="Example eMSP")
    second, _ = invitation_create(name="Other eMSP")

    operator.post(f"/admin/credentials/invitation/{second.pk}/change/", {"name": "Example eMSP"})

    second.refresh_from_db()
    assert (first.name, second.name) == ("Example eMSP", "Example eMSP")
