"""The scheduled pull end to end: what beat queues (tokens.pull_all) runs in a real `celery
worker` process (tests/push/worker.py) against a fake eMSP on loopback."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.models import PartnerPlatform
from tests.push.polling import wait_until
from tests.push.worker import celery_workers
from tests.tokens.conftest import token_payload
from tests.tokens.fake_emsp import FakeEmsp
from tokens import tasks
from tokens.models import PullStatus, Token, TokenPull

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    with celery_workers(tmp_path, {"TOKENS_PULL_JITTER_SECONDS": "0"}) as workers:
        workers.start()
        yield


def test_the_beat_task_pulls_each_partner_in_the_worker(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, worker: Any
) -> None:
    emsp.tokens = [token_payload(f"T{n}") for n in range(5)]

    tasks.pull_all.delay()

    pull = wait_until(
        lambda: TokenPull.objects.filter(status=PullStatus.SUCCEEDED).first(),
        what="a successful pull",
    )
    assert (pull.partner_id, pull.full, pull.created) == (emsp_partner.pk, True, 5)
    assert sorted(Token.objects.values_list("uid", flat=True)) == [f"T{n}" for n in range(5)]
