"""Corrected CDRs (mod_cdrs.asciidoc, Credit CDRs): a wrong CDR is credited, then replaced.

The corrected CDR has a new id and the original's session, token and location, repriced from
the session's charging periods under the tariff the operator chose, or free of charge. Its
POST follows the credit's in the original's push queue.
"""

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from cdrs.models import PRICE_FIELDS, Cdr, ImmutableCdr
from cdrs.selectors import tariff_object
from cdrs.services import CorrectionRefused, cdr_correct, cdr_credit, render_cdr
from credentials.models import PartnerPlatform
from ocpi import json
from push.models import Change, Delivery
from sessions.pricing import engine_periods, stored_periods
from tariffs.engine import Timeline, price_session, tariff_from_ocpi
from tests.admin_pages import messages_of, page_text
from tests.cdrs.conftest import MakeSession, t10_cdr
from tests.examples import tariff_example, upsert_tariff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:cdrs_cdr_changelist")
# tariff_8_simple_025kwh.json: 0.25 EUR/kWh + 10 % VAT; the T10 session charged 20 kWh.
PER_KWH = "tariff_8_simple_025kwh.json"


def totals(cdr: Cdr) -> dict[str, Any]:
    return {name: getattr(cdr, f"{name}_excl_vat") for name in PRICE_FIELDS}


def test_the_corrected_cdr_is_the_session_repriced_under_the_chosen_tariff(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)
    tariff = tariff_example(PER_KWH)

    credit, corrected = cdr_correct(cdr=original, tariff=tariff, remark="Wrong tariff")

    session = original.charging_session
    assert session is not None
    assert session.end_date_time is not None
    engine = price_session(
        tariff_from_ocpi(tariff),
        Timeline(periods=engine_periods(stored_periods(session)), end=session.end_date_time),
        ZoneInfo("Europe/Brussels"),
    )
    assert (corrected.total_cost_excl_vat, corrected.total_cost_incl_vat) == (
        engine.total_cost.excl_vat,
        engine.total_cost.incl_vat,
    )
    assert (corrected.total_cost_excl_vat, corrected.total_cost_incl_vat) == (
        Decimal("5.00"),
        Decimal("5.50"),
    )
    sent, was = render_cdr(corrected), render_cdr(original)
    assert (sent["remark"], sent["tariffs"]) == ("Wrong tariff", [tariff])
    assert not {"credit", "credit_reference_id"} & set(sent)  # false and empty: omitted
    assert {period["tariff_id"] for period in sent["charging_periods"]} == {"16"}
    same = ("session_id", "cdr_token", "cdr_location", "auth_method", "start_date_time")
    assert {name: sent[name] for name in same} == {name: was[name] for name in same}
    assert sum(line["excl_vat"] for line in corrected.cost_lines) == Decimal("5.00")
    assert (credit.original, credit.remark) == (original, "Wrong tariff")
    assert (corrected.corrects, corrected.charging_session) == (original, session)
    assert list(original.corrections.all()) == [corrected]


def test_free_of_charge_costs_nothing_and_names_no_tariff(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    _, corrected = cdr_correct(cdr=original, tariff=None)

    assert set(totals(corrected).values()) == {Decimal(0)}
    sent = render_cdr(corrected)
    assert ("tariffs" in sent, corrected.tariffs, corrected.cost_lines) == (False, [], [])
    assert [period.get("tariff_id") for period in sent["charging_periods"]] == [None, None]
    assert sent["total_energy"] == original.total_energy


def test_original_credit_and_corrected_sum_to_the_corrected_total(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    credit, corrected = cdr_correct(cdr=original, tariff=tariff_example(PER_KWH))

    for name in PRICE_FIELDS:
        for part in ("excl_vat", "incl_vat"):
            column = f"{name}_{part}"
            amounts = [getattr(cdr, column) or 0 for cdr in (original, credit, corrected)]
            assert sum(amounts) == (getattr(corrected, column) or 0), column


def test_the_corrected_id_is_new_36_characters_at_most_and_unique(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    first = t10_cdr(make_session, "X" * 36)
    second = t10_cdr(make_session, "S2")

    _, one = cdr_correct(cdr=first, tariff=None)
    _, two = cdr_correct(cdr=second, tariff=None)

    ids = [cdr.ocpi_id.upper() for cdr in Cdr.objects.all()]
    assert (len(one.ocpi_id), len(two.ocpi_id)) == (36, 36)
    assert one.ocpi_id not in (first.ocpi_id, two.ocpi_id)
    assert len(ids) == len(set(ids)) == 6


def test_the_three_posts_wait_in_one_queue_original_credit_corrected(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    credit, corrected = cdr_correct(cdr=original, tariff=None)

    changes = list(Change.objects.order_by("pk"))
    assert [(change.payload or {}).get("id") for change in changes] == [
        "S1",
        "S1-C",
        corrected.ocpi_id,
    ]
    assert {change.object_key for change in changes} == {"cdrs:BE:BEC:S1"}
    assert {change.method for change in changes} == {"POST"}
    assert changes[2].payload == json.loads(json.dumps(render_cdr(corrected)))
    queues = Delivery.objects.order_by("change_id").values_list("queue_key", flat=True)
    assert list(queues) == ["DE*MSP|cdrs:BE:BEC:S1"] * 3
    assert (credit.push_change, corrected.push_change) == (changes[1], changes[2])


def test_a_credit_issued_before_is_reused(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    original = t10_cdr(make_session)
    earlier = cdr_credit(cdr=original, remark="Meter fault")

    credit, corrected = cdr_correct(cdr=original, tariff=None)

    assert credit == earlier
    assert (Cdr.objects.count(), Change.objects.count()) == (3, 3)
    assert corrected.corrects == original


def test_a_corrected_cdr_is_corrected_in_the_originals_queue(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)
    _, corrected = cdr_correct(cdr=original, tariff=None)

    credit, again = cdr_correct(cdr=corrected, tariff=tariff_example(PER_KWH))

    assert credit.credit_reference_id == corrected.ocpi_id
    assert again.corrects == corrected
    keys = set(Change.objects.values_list("object_key", flat=True))
    assert keys == {"cdrs:BE:BEC:S1"}


def refused(cdr: Cdr, tariff: dict[str, Any] | None, match: str) -> None:
    """cdr_correct refuses, and writes neither a CDR nor an outbox row."""
    before = (Cdr.objects.count(), Change.objects.count())
    with pytest.raises(CorrectionRefused, match=match):
        cdr_correct(cdr=cdr, tariff=tariff)
    assert (Cdr.objects.count(), Change.objects.count()) == before


def test_a_credit_cdr_is_never_corrected(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    credit = cdr_credit(cdr=t10_cdr(make_session))

    refused(credit, None, "is a credit CDR")


def test_a_cdr_is_corrected_once(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    original = t10_cdr(make_session)
    cdr_correct(cdr=original, tariff=None)

    refused(original, tariff_example(PER_KWH), "has been corrected already")


def test_a_tariff_in_another_currency_is_refused_before_crediting(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    refused(original, tariff_example(PER_KWH, currency="CHF"), "in CHF, the CDR BE\\*BEC S1 in EUR")
    assert not Cdr.objects.filter(credit=True).exists()


def test_a_tariff_of_another_party_or_unreadable_is_refused(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)

    refused(original, tariff_example(PER_KWH, party_id="OTH"), "belongs to BE\\*OTH")
    refused(original, tariff_example(PER_KWH, elements=[]), "cannot price the session")


def test_a_corrected_cdr_is_as_immutable_as_any(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    _, corrected = cdr_correct(cdr=t10_cdr(make_session), tariff=None)
    corrected.remark = "changed"

    with pytest.raises(ImmutableCdr):
        corrected.save()
    with pytest.raises(ImmutableCdr):
        corrected.delete()


def test_the_admin_action_offers_our_tariffs_in_the_currency_then_corrects(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session)
    chosen = upsert_tariff(tariff_example(PER_KWH))
    upsert_tariff(tariff_example("tariff_13_simple_3hour_5parking.json", currency="CHF"))
    picked = {"action": "issue_correction", ACTION_CHECKBOX_NAME: [cdr.pk]}

    asked = operator.post(LIST, picked)
    assert (asked.status_code, Cdr.objects.count()) == (200, 1)  # asking issues nothing
    offered = [value for value, _ in asked.context["form"].fields["tariff"].choices]
    assert offered == ["", "free", str(chosen.pk)]

    done = operator.post(
        LIST, {**picked, "apply": "1", "tariff": str(chosen.pk), "remark": "Wrong tariff"}
    )

    corrected = Cdr.objects.get(corrects=cdr)
    assert corrected.tariffs == [tariff_object(chosen)]
    assert (corrected.total_cost_excl_vat, corrected.remark) == (Decimal("5.00"), "Wrong tariff")
    assert messages_of(done)[0] == (
        f"BE*BEC S1 credited by S1-C and corrected by {corrected.ocpi_id}: 5 / 5.5 EUR."
    )
    original_page = page_text(operator.get(reverse("admin:cdrs_cdr_change", args=[cdr.pk])))
    assert f"Corrected by: {corrected.ocpi_id}" in original_page
    corrected_page = operator.get(reverse("admin:cdrs_cdr_change", args=[corrected.pk]))
    link = reverse("admin:cdrs_cdr_change", args=[cdr.pk])
    assert f'<a href="{link}">BE*BEC S1</a>' in corrected_page.content.decode()


def test_the_admin_action_free_of_charge_and_refusals(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)
    credit = cdr_credit(cdr=original)
    picked = {"action": "issue_correction", ACTION_CHECKBOX_NAME: [original.pk, credit.pk]}

    unchosen = operator.post(LIST, {**picked, "apply": "1", "remark": ""})
    assert (unchosen.status_code, Cdr.objects.count()) == (200, 2)  # a tariff must be chosen

    done = operator.post(LIST, {**picked, "apply": "1", "tariff": "free", "remark": ""})

    corrected = Cdr.objects.get(corrects=original)
    assert corrected.total_cost_excl_vat == 0
    assert messages_of(done) == [
        f"BE*BEC S1 credited by S1-C and corrected by {corrected.ocpi_id}: 0 / 0 EUR.",
        "BE*BEC S1-C: BE*BEC S1-C is a credit CDR; it cannot be corrected",
        "1 corrected CDR(s) queued to their eMSPs.",
    ]
