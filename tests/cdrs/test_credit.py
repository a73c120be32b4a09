"""Credit CDRs (mod_cdrs.asciidoc, Credit CDRs): the only way to take back a CDR."""

from decimal import Decimal

import pytest

from cdrs.models import PRICE_FIELDS, Cdr, ImmutableCdr
from cdrs.services import AlreadyCredited, CreditOfCredit, CreditRefused, cdr_credit, render_cdr
from credentials.models import PartnerPlatform
from ocpi import json
from push.models import Change, Delivery
from tests.cdrs.conftest import MakeSession, t10_cdr

pytestmark = pytest.mark.django_db


def test_the_credit_cdr_is_the_original_with_its_costs_negated(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    credit = cdr_credit(cdr=original, remark="Charger fault: session not billable")

    sent, was = render_cdr(credit), render_cdr(original)
    assert (sent["id"], sent["credit"], sent["credit_reference_id"], sent["remark"]) == (
        "S1-C",
        True,
        "S1",
        "Charger fault: session not billable",
    )
    assert sent["total_cost"] == {"excl_vat": Decimal("-9"), "incl_vat": Decimal("-10.3")}
    for name in PRICE_FIELDS:
        assert sent[name] == {part: -value for part, value in was[name].items()}, name
    # A cost of 0 is credited as 0, not -0.
    assert json.dumps(sent["total_energy_cost"]) == '{"excl_vat":0,"incl_vat":0}'
    same = set(was) - {*PRICE_FIELDS, "id", "last_updated"}
    assert {name: sent[name] for name in same} == {name: was[name] for name in same}
    assert sum(line["excl_vat"] for line in credit.cost_lines) == Decimal("-9.00")
    assert (credit.original, credit.charging_session) == (original, original.charging_session)


def test_the_credit_cdr_is_posted_behind_its_original(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    credit = cdr_credit(cdr=original)

    first, second = Change.objects.order_by("pk")
    assert (second.method, second.path, second.payload) == (
        "POST",
        [],
        json.loads(json.dumps(render_cdr(credit))),
    )
    # One queue: the eMSP never gets the credit before the CDR it credits.
    assert first.object_key == second.object_key == "cdrs:BE:BEC:S1"
    assert list(Delivery.objects.values_list("to_party_id", flat=True)) == ["MSP", "MSP"]
    assert credit.push_change == second


def test_a_cdr_is_credited_once(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    original = t10_cdr(make_session)
    cdr_credit(cdr=original)

    with pytest.raises(AlreadyCredited):
        cdr_credit(cdr=original)

    assert (Cdr.objects.count(), Change.objects.count()) == (2, 2)


def test_a_credit_cdr_is_never_credited(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    credit = cdr_credit(cdr=t10_cdr(make_session))

    with pytest.raises(CreditOfCredit):
        cdr_credit(cdr=credit)

    assert Cdr.objects.count() == 2


def test_a_36_character_id_gets_a_39_character_credit_id(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session, "X" * 36)

    credit = cdr_credit(cdr=original)

    assert (credit.ocpi_id, len(credit.ocpi_id)) == ("X" * 36 + "-C", 38)


def test_a_credit_id_taken_by_another_cdr_moves_on(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session, "S1")
    t10_cdr(make_session, "s1-c")  # a session's id, compared case-insensitively

    credit = cdr_credit(cdr=original)

    assert credit.ocpi_id == "S1-C2"


def test_a_remark_longer_than_the_field_is_refused(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    with pytest.raises(CreditRefused):
        cdr_credit(cdr=original, remark="x" * 256)

    assert Cdr.objects.count() == 1


def test_a_stored_cdr_cannot_be_changed_or_deleted(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)
    original.remark = "changed"

    with pytest.raises(ImmutableCdr):
        original.save()
    with pytest.raises(ImmutableCdr):
        original.delete()

    assert Cdr.objects.get().remark == ""
