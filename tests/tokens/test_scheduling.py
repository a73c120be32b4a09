"""Pulls on demand (`manage.py ocpi_pull PARTNER tokens [--full]`) and on schedule (the beat
entry, the tasks: full when due, delta otherwise)."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from config.celery import app as celery_app
from credentials.models import PartnerPlatform, PartnerStatus
from ocpi.time import now
from tests.tokens.conftest import make_partner, token_payload
from tests.tokens.fake_emsp import FakeEmsp
from tokens import tasks
from tokens.models import PullStatus, TokenPull
from tokens.pull import full_pull_due, token_pull

pytestmark = pytest.mark.django_db


def pull(*args: str) -> str:
    out = io.StringIO()
    call_command("ocpi_pull", *args, stdout=out)
    return out.getvalue()


def test_the_command_pulls_and_prints_the_counts(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = [token_payload("A"), token_payload("B")]

    output = pull("EmspA", "tokens", "--full")

    assert output == (
        "full pull of tokens from EmspA: SUCCEEDED; received 2, created 2, updated 0, "
        "unchanged 0, invalid 0, ignored 0, invalidated 0, held 0\n"
    )


def test_the_command_pulls_a_delta_by_default(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    token_pull(partner=emsp_partner, full=True)

    output = pull(str(emsp_partner.pk), "tokens")

    assert output.startswith("delta pull of tokens from EmspA: SUCCEEDED;")


def test_the_command_fails_with_the_pulls_error(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.server.stop()

    with pytest.raises(CommandError) as raised:
        pull("EmspA", "tokens")

    assert str(raised.value).startswith("DE*TNM: GET http://127.0.0.1:")
    assert TokenPull.objects.get().status == PullStatus.FAILED


def test_the_command_refuses_an_unknown_partner(our_party: Any) -> None:
    with pytest.raises(CommandError) as raised:
        pull("nobody", "tokens")

    assert str(raised.value) == "No partner 'nobody'"


def test_the_command_refuses_an_unregistered_partner(emsp_partner: PartnerPlatform) -> None:
    PartnerPlatform.objects.filter(pk=emsp_partner.pk).update(
        status=PartnerStatus.UNREGISTERED, incoming_token_digest=None
    )

    with pytest.raises(CommandError) as raised:
        pull("EmspA", "tokens")

    assert str(raised.value) == "EmspA is UNREGISTERED, not registered"


def test_beat_runs_the_pull_of_every_partner() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["tokens-pull"]

    assert entry == {"task": "tokens.pull_all", "schedule": 3600.0}
    assert "tokens.pull_all" in celery_app.tasks
    assert "tokens.pull_partner" in celery_app.tasks


def test_a_full_pull_is_due_once_a_day(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    assert full_pull_due(emsp_partner) is True
    full = token_pull(partner=emsp_partner, full=True)
    assert full_pull_due(emsp_partner) is False
    TokenPull.objects.filter(pk=full.pk).update(started_at=now() - timedelta(days=1, seconds=1))
    assert full_pull_due(emsp_partner) is True


def test_pull_all_pulls_each_partner_with_a_tokens_sender(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    make_partner("NoSender", "tok", ("DE", "BBB"))
    settings.TOKENS_PULL_JITTER_SECONDS = 0
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        tasks.pull_all()
        tasks.pull_all()
    finally:
        celery_app.conf.task_always_eager = before

    # The first is full (none before), the next a delta (a full one ran today).
    assert list(
        TokenPull.objects.order_by("pk").values_list("partner__name", "full", "status")
    ) == [("EmspA", True, PullStatus.SUCCEEDED), ("EmspA", False, PullStatus.SUCCEEDED)]


def test_the_task_skips_a_partner_whose_pull_is_running(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    TokenPull.objects.create(partner=emsp_partner, full=True, started_at=now())

    tasks.pull_partner(emsp_partner.pk, True)

    assert TokenPull.objects.count() == 1
    assert emsp.requests("GET") == []


def test_the_task_ignores_a_partner_that_is_gone(our_party: Any) -> None:
    tasks.pull_partner(12345)

    assert TokenPull.objects.count() == 0
