"""The operator's screens for tokens and pulls: cached tokens are read-only (they are the
eMSPs' data), filters and search, the pull log, and pulls started from the admin."""

import re
from typing import Any

import pytest
from django.test import Client

from credentials.models import PartnerPlatform
from tests.admin_pages import messages_of, page_text, run_action
from tests.tokens.conftest import cache_token, token_payload
from tests.tokens.fake_emsp import FakeEmsp
from tokens.models import PullStatus, Token, TokenPull
from tokens.pull import token_pull

pytestmark = pytest.mark.django_db

TOKENS = "/admin/tokens/token/"
PULLS = "/admin/tokens/tokenpull/"


def listed_uids(response: Any) -> list[str]:
    return re.findall(
        r'<th class="field-uid"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


# --- tokens ---------------------------------------------------------------------------------


def test_the_token_list_filters_and_searches(operator: Client, emsp_partner: Any) -> None:
    cache_token("T-VALID", contract_id="NL-TNM-C00001")
    cache_token("T-INVALID", valid=False, whitelist="NEVER")
    cache_token("T-APP", type="APP_USER")

    assert listed_uids(operator.get(TOKENS)) == ["T-VALID", "T-INVALID", "T-APP"]
    assert listed_uids(operator.get(TOKENS, {"valid__exact": "0"})) == ["T-INVALID"]
    assert listed_uids(operator.get(TOKENS, {"whitelist": "NEVER"})) == ["T-INVALID"]
    assert listed_uids(operator.get(TOKENS, {"type": "APP_USER"})) == ["T-APP"]
    assert listed_uids(operator.get(TOKENS, {"party_id": "TNM"})) == [
        "T-VALID",
        "T-INVALID",
        "T-APP",
    ]
    assert listed_uids(operator.get(TOKENS, {"q": "c00001"})) == ["T-VALID"]
    assert listed_uids(operator.get(TOKENS, {"q": "t-app"})) == ["T-APP"]


def test_a_token_is_shown_but_cannot_be_changed_added_or_deleted(
    operator: Client, emsp_partner: Any
) -> None:
    token = cache_token()

    page = operator.get(f"{TOKENS}{token.pk}/change/")
    posted = operator.post(f"{TOKENS}{token.pk}/change/", {**token_payload(), "valid": ""})

    assert page.status_code == 200
    assert "Contract id: DE8ACC12E46L89" in page_text(page)
    assert 'name="valid"' not in page.content.decode()
    assert posted.status_code == 403
    assert Token.objects.get().valid is True
    assert operator.get(f"{TOKENS}add/").status_code == 403
    assert operator.get(f"{TOKENS}{token.pk}/delete/").status_code == 403


def test_the_token_action_pulls_from_the_owners_platform(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform, eager_tasks: None
) -> None:
    token = cache_token()
    emsp.tokens = [token_payload(whitelist="NEVER", last_updated="2026-03-01T12:00:00Z")]

    response = run_action(operator, TOKENS, "pull_from_owners", token.pk)

    assert messages_of(response) == ["Delta token pull queued for EmspA."]
    assert Token.objects.get().whitelist == "NEVER"
    assert TokenPull.objects.get().status == PullStatus.SUCCEEDED


# --- the pull log ---------------------------------------------------------------------------


def test_the_pull_log_lists_pulls_with_their_counts(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = [token_payload("A"), token_payload("B")]
    token_pull(partner=emsp_partner, full=True)

    response = operator.get(PULLS)

    assert response.status_code == 200
    # partner, full (icon), status, date_from, then the counts.
    assert "EmspA Succeeded - 2 2 0 0 0 0 0" in page_text(response)
    assert operator.get(f"{PULLS}add/").status_code == 403


def test_the_pull_form_queues_a_full_pull(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform, eager_tasks: None
) -> None:
    cache_token("GONE")
    cache_token("KEPT")  # half of the tokens go: under the share that holds a pull
    emsp.tokens = [token_payload("KEPT")]

    form = operator.get(f"{PULLS}pull/")
    response = operator.post(
        f"{PULLS}pull/", {"partner": emsp_partner.pk, "full": "on"}, follow=True
    )

    assert form.status_code == 200
    assert f'<option value="{emsp_partner.pk}">EmspA</option>' in form.content.decode()
    assert messages_of(response) == ["Full token pull queued for EmspA."]
    assert response.redirect_chain == [(PULLS, 302)]
    assert list(Token.objects.order_by("uid").values_list("uid", "valid")) == [
        ("GONE", False),
        ("KEPT", True),
    ]


def test_the_pull_form_offers_only_partners_with_a_tokens_sender(
    operator: Client, partner_a: PartnerPlatform
) -> None:
    response = operator.post(f"{PULLS}pull/", {"partner": partner_a.pk})

    assert response.status_code == 200
    assert "Select a valid choice." in page_text(response)
    assert TokenPull.objects.count() == 0


def test_the_log_actions_pull_again(
    operator: Client, emsp: FakeEmsp, emsp_partner: PartnerPlatform, eager_tasks: None
) -> None:
    first = token_pull(partner=emsp_partner, full=True)

    response = run_action(operator, PULLS, "pull_delta", first.pk)

    assert messages_of(response) == ["Delta token pull queued for EmspA."]
    assert list(TokenPull.objects.values_list("full", "status")) == [
        (False, PullStatus.SUCCEEDED),
        (True, PullStatus.SUCCEEDED),
    ]
