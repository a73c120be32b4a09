"""What authorize() reads in one round trip (tokens.selectors.token_and_sender: two compiled
queries) is what tokens.selectors.token_get() and tokens_sender() read on their own."""

from typing import Any

import pytest
from django.db.models import Model

from credentials.models import PartnerEndpoint, PartnerPlatform, PartnerStatus
from ocpi.routing import PartyRef
from tests.tokens.conftest import cache_token, make_partner
from tokens.selectors import token_and_sender, token_get, tokens_sender

DE_TNM = PartyRef.of("DE", "TNM")


def fields(obj: Model | None) -> dict[str, Any] | None:
    return (
        None
        if obj is None
        else {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    )


def orm(party: PartyRef, uid: str, token_type: str = "RFID") -> tuple[Any, Any]:  # noqa: S107
    return fields(token_get(party=party, uid=uid, token_type=token_type)), tokens_sender(party)


def sql(party: PartyRef, uid: str, token_type: str = "RFID") -> tuple[Any, Any]:  # noqa: S107
    token, sender = token_and_sender(party=party, uid=uid, token_type=token_type)
    return fields(token), sender


@pytest.fixture
def emsp(our_party: Any) -> PartnerPlatform:
    return make_partner(
        "EmspA", "a-token", ("DE", "TNM"), tokens_url="https://a.example.com/tokens"
    )


def test_a_cached_token_and_its_emsps_sender(emsp: PartnerPlatform) -> None:
    cache_token("04A2B3C4", energy_contract={"supplier_name": "Greenpeace Energy eG"})

    found = sql(PartyRef.of("de", "tnm"), "04a2b3c4")

    assert found == orm(DE_TNM, "04A2B3C4")
    assert found[0] is not None
    assert found[1].url == "https://a.example.com/tokens"
    assert found[1].token == "out-a-token"
    assert found[1].plain_tokens is False


def test_no_token_but_a_sender(emsp: PartnerPlatform) -> None:
    assert sql(DE_TNM, "NOPE") == orm(DE_TNM, "NOPE")
    assert sql(DE_TNM, "NOPE")[1] is not None


def test_a_token_of_another_type_is_another_token(emsp: PartnerPlatform) -> None:
    cache_token("04A2B3C4")

    assert sql(DE_TNM, "04A2B3C4", "APP_USER") == orm(DE_TNM, "04A2B3C4", "APP_USER")
    assert sql(DE_TNM, "04A2B3C4", "APP_USER")[0] is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p: PartnerPlatform.objects.filter(pk=p.pk).update(
                status=PartnerStatus.UNREGISTERED
            ),
            id="unregistered",
        ),
        pytest.param(lambda p: p.roles.update(role="CPO"), id="not-an-emsp"),
        pytest.param(
            lambda p: PartnerEndpoint.objects.filter(partner=p).update(role="RECEIVER"),
            id="receiver-only",
        ),
        pytest.param(
            lambda p: PartnerEndpoint.objects.filter(partner=p).delete(), id="no-endpoint"
        ),
    ],
)
def test_no_sender_where_the_orm_finds_none(emsp: PartnerPlatform, change: Any) -> None:
    cache_token("04A2B3C4")
    change(emsp)

    assert sql(DE_TNM, "04A2B3C4") == orm(DE_TNM, "04A2B3C4")
    assert sql(DE_TNM, "04A2B3C4")[1] is None
    assert tokens_sender(DE_TNM) is None


def test_a_plain_token_partner_is_asked_with_its_plain_token(emsp: PartnerPlatform) -> None:
    PartnerPlatform.objects.filter(pk=emsp.pk).update(plain_tokens=True)

    sender = tokens_sender(DE_TNM)

    assert sender is not None
    assert sender.plain_tokens is True
