"""Issue 14: a full pull that would set more than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE of an
eMSP's valid tokens invalid (one broken answer: an empty list) is held for an operator to
confirm: nothing invalidated, the numbers recorded and logged as an error; applied from the
admin or `ocpi_pull PARTNER tokens --apply-held`."""

import logging
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from credentials.models import PartnerPlatform
from credentials.problems import partner_error_record
from ocpi.time import format_datetime, now
from tests.admin_pages import messages_of, page_text, run_action
from tests.tokens.conftest import cache_token, token_payload
from tests.tokens.fake_emsp import FakeEmsp
from tokens.models import PullStatus, Token, TokenPull
from tokens.pull import NotApplicable, apply_held_pull, token_pull

pytestmark = pytest.mark.django_db

EARLIER = format_datetime(now() - timedelta(days=1))


def cache(count: int) -> None:
    """Tokens TNM-0… cached a day ago (a token cached in the very millisecond a pull starts
    is not the pull's to judge)."""
    for n in range(count):
        cache_token(f"TNM-{n}", last_updated=EARLIER)
    Token.objects.update(created_at=now() - timedelta(days=1))


def served(*numbers: int) -> list[dict[str, Any]]:
    """What the eMSP's pages hold: tokens TNM-n as cached."""
    return [token_payload(f"TNM-{n}", last_updated=EARLIER) for n in numbers]


def valid_uids() -> list[str]:
    return list(Token.objects.filter(valid=True).order_by("pk").values_list("uid", flat=True))


def pull_from_command(partner: PartnerPlatform, *args: str) -> str:
    out = StringIO()
    call_command("ocpi_pull", partner.name, "tokens", *args, stdout=out)
    return out.getvalue()


def test_an_empty_answer_from_an_emsp_with_tokens_is_held(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    cache(4)
    emsp.tokens = []

    with caplog.at_level(logging.ERROR, logger="tokens.pull"):
        pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.HELD
    assert (pull.valid_before, pull.held, pull.invalidated) == (4, 4, 0)
    assert valid_uids() == ["TNM-0", "TNM-1", "TNM-2", "TNM-3"]
    assert pull.error == (
        "Held: this full pull would set 4 of 4 valid tokens invalid (100%, more than "
        "TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE 50%); nothing was invalidated. If the eMSP "
        "really withdrew them, apply the pull (admin: Apply held pull; "
        f"`manage.py ocpi_pull {emsp_partner.pk} tokens --apply-held`)."
    )
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == (
        f"Token pull {pull.pk} from partner {emsp_partner.pk} HELD: would set 4 of 4 valid "
        "tokens invalid (100% > 50%); nothing invalidated until an operator applies it"
    )


def test_the_command_reports_a_held_pull_as_a_failure(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = []

    with pytest.raises(CommandError, match=r"^Held: this full pull would set 2 of 2 valid"):
        pull_from_command(emsp_partner, "--full")

    assert TokenPull.objects.get().status == PullStatus.HELD


@pytest.mark.parametrize(("served_now", "invalidated"), [((0, 1, 2), 1), ((0, 1), 2)])
def test_up_to_the_share_a_full_pull_invalidates_at_once(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, served_now: tuple[int, ...], invalidated: int
) -> None:
    cache(4)
    emsp.tokens = served(*served_now)

    pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.SUCCEEDED
    assert (pull.valid_before, pull.held, pull.invalidated) == (4, 0, invalidated)
    assert valid_uids() == [f"TNM-{n}" for n in served_now]


def test_the_share_is_a_setting(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    settings.TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE = 0.2
    cache(4)
    emsp.tokens = served(0, 1, 2)

    assert token_pull(partner=emsp_partner, full=True).status == PullStatus.HELD  # 25% > 20%
    assert len(valid_uids()) == 4


def test_applying_a_held_pull_invalidates_what_it_did_not_return_but_newer_news(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(3)
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)
    # The eMSP PUTs one of them again after the pull: its word is newer than the pull's.
    cache_token("TNM-2", last_updated=format_datetime(now() + timedelta(seconds=1)))

    out = pull_from_command(emsp_partner, "--apply-held")

    assert out == (
        f"Held full pull {held.pk} of tokens from EmspA applied: 2 of the 3 tokens it did not "
        "return set invalid\n"
    )
    assert valid_uids() == ["TNM-2"]
    held.refresh_from_db()
    assert (held.status, held.invalidated, held.held, held.held_token_ids) == (
        PullStatus.SUCCEEDED,
        2,
        3,
        [],
    )
    assert held.applied_at is not None
    assert Token.objects.filter(valid=False, missing_since__isnull=False).count() == 2
    with pytest.raises(CommandError, match="^EmspA has no held full pull to apply$"):
        pull_from_command(emsp_partner, "--apply-held")


def test_a_later_full_pull_supersedes_a_held_one(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)
    emsp.tokens = served(0, 1)
    later = token_pull(partner=emsp_partner, full=True)

    with pytest.raises(NotApplicable, match=f"superseded by the later full pull {later.pk}"):
        apply_held_pull(held)
    with pytest.raises(CommandError, match="^EmspA has no held full pull to apply$"):
        pull_from_command(emsp_partner, "--apply-held")
    assert len(valid_uids()) == 2


def test_apply_held_pulls_nothing_and_takes_no_full(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    with pytest.raises(CommandError, match="^--apply-held pulls nothing: leave out --full$"):
        pull_from_command(emsp_partner, "--apply-held", "--full")
    assert emsp.requests("GET") == []


def test_the_partners_page_shows_the_held_pull_and_its_action_applies_it(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)

    page = page_text(operator.get(f"/admin/credentials/partnerplatform/{emsp_partner.pk}/change/"))

    assert "Held token pulls (apply with the action “Apply held pull”)" in page
    assert "would set 2 of 2 valid tokens invalid" in page

    response = run_action(
        operator, "/admin/credentials/partnerplatform/", "apply_held_pulls", emsp_partner.pk
    )

    assert messages_of(response) == [
        f"Held pull {held.pk} from EmspA applied: 2 tokens set invalid."
    ]
    assert valid_uids() == []
    page = page_text(operator.get(f"/admin/credentials/partnerplatform/{emsp_partner.pk}/change/"))
    assert "would set 2 of 2" not in page


def test_the_pull_logs_action_applies_held_pulls_only(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = served(0, 1)
    fine = token_pull(partner=emsp_partner, full=True)

    response = run_action(operator, "/admin/tokens/tokenpull/", "apply_held", fine.pk)

    assert messages_of(response) == ["No held pull selected."]
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)

    response = run_action(operator, "/admin/tokens/tokenpull/", "apply_held", held.pk)

    assert messages_of(response) == [
        f"Held pull {held.pk} from EmspA applied: 2 tokens set invalid."
    ]
    assert valid_uids() == []


def test_a_held_or_failed_pull_is_the_partners_last_error_until_a_pull_succeeds(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)

    emsp_partner.refresh_from_db()
    assert emsp_partner.last_error == f"pull tokens: full pull {held.pk}: {held.error}"
    assert emsp_partner.last_error_at is not None
    assert held.started_at <= emsp_partner.last_error_at

    emsp.tokens = served(0, 1)
    token_pull(partner=emsp_partner, full=True)

    emsp_partner.refresh_from_db()
    assert (emsp_partner.last_error, emsp_partner.last_error_at) == ("", None)


def test_a_successful_pull_leaves_another_operations_error(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    partner_error_record(emsp_partner.pk, "rotate tokens (PUT credentials)", "HTTP 500")
    emsp.tokens = served()

    token_pull(partner=emsp_partner, full=True)

    emsp_partner.refresh_from_db()
    assert emsp_partner.last_error == "rotate tokens (PUT credentials): HTTP 500"


def test_a_later_failed_full_pull_does_not_supersede_a_held_one(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache(2)
    emsp.tokens = []
    held = token_pull(partner=emsp_partner, full=True)
    emsp.tokens = served(0, 1)
    emsp.broken_pages = {0}
    assert token_pull(partner=emsp_partner, full=True).status == PullStatus.FAILED

    out = pull_from_command(emsp_partner, "--apply-held")

    assert out.startswith(f"Held full pull {held.pk} of tokens from EmspA applied: 2 of the 2")
    assert valid_uids() == []
