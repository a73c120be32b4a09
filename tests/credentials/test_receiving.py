"""Counting stale updates per partner (credentials.receiving): one UPDATE with F(), so a
partner object read before other stale updates were counted still adds exactly one."""

import pytest

from credentials.models import PartnerPlatform
from credentials.receiving import stale_update_count
from tests.partners import registered_emsp

pytestmark = pytest.mark.django_db


def test_the_count_adds_one_to_what_the_database_holds_not_to_what_was_read() -> None:
    partner = registered_emsp("EmspA", "token-a", ("DE", "TNM"))
    registered_emsp("EmspB", "token-b", ("DE", "BBB"))
    PartnerPlatform.objects.filter(pk=partner.pk).update(stale_updates=5)  # counted meanwhile

    stale_update_count(partner=partner)  # `partner` still says 0

    assert partner.stale_updates == 0
    assert dict(PartnerPlatform.objects.values_list("name", "stale_updates")) == {
        "EmspA": 6,
        "EmspB": 0,
    }
