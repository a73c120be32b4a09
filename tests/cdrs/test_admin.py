"""The operator's CDR screens: read-only list and page, and the credit CDR action."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdrs.models import Cdr
from cdrs.services import cdr_credit
from credentials.models import PartnerPlatform
from ocpi.time import now
from push.models import Change, Delivery, DeliveryStatus
from tests.admin_pages import filter_choices, scans_for_choices
from tests.cdrs.conftest import MakeSession, t10_cdr
from tests.examples import tariff_example, upsert_tariff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:cdrs_cdr_changelist")


def page(cdr: Cdr) -> str:
    return reverse("admin:cdrs_cdr_change", args=[cdr.pk])


def test_the_list_shows_what_was_billed_and_whether_it_was_sent(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    t10_cdr(make_session)

    response = operator.get(LIST)

    assert response.status_code == 200
    text = response.content.decode()
    for shown in ("S1", "DE*MSP", "LOC1 Gent Zuid", "9 / 10.3 EUR", "Pending to Emsp-A"):
        assert shown in text, shown


def test_the_list_is_searched_by_cdr_session_token_and_location(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    t10_cdr(make_session, "FIRST")
    t10_cdr(make_session, "SECOND")

    found = {
        query: operator.get(LIST, {"q": query}).context["cl"].result_count
        for query in ("secon", "012345678", "loc1", "nowhere")
    }

    assert found == {"secon": 1, "012345678": 2, "loc1": 2, "nowhere": 0}


def test_the_filters_list_our_parties_the_emsps_and_the_tariffs_currencies(
    operator: Client,
    make_session: MakeSession,
    emsp: PartnerPlatform,
    other_emsp: PartnerPlatform,
) -> None:
    t10_cdr(make_session)
    upsert_tariff(tariff_example("tariff_4_complex.json"))
    upsert_tariff(tariff_example("tariff_4_complex.json", id="USD-1", currency="USD"))
    upsert_tariff(tariff_example("tariff_4_complex.json", id="EUR-2"))

    response = operator.get(LIST)

    assert filter_choices(response, "emsp") == ["DE*MSP", "NL*OTH"]
    assert filter_choices(response, "cpo") == ["BE*BEC"]
    assert filter_choices(response, "currency") == ["EUR", "USD"]


def test_the_filters_filter(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    first = t10_cdr(make_session, "FIRST")
    second = t10_cdr(make_session, "SECOND")
    Cdr.objects.filter(pk=first.pk).update(
        token_country_code="NL", token_party_id="OTH", end_date_time=now() - timedelta(days=40)
    )
    Cdr.objects.filter(pk=second.pk).update(end_date_time=now() - timedelta(days=1))

    def found(**query: str) -> list[str]:
        return sorted(cdr.ocpi_id for cdr in operator.get(LIST, query).context["cl"].result_list)

    assert found(emsp="de*msp") == ["SECOND"]
    assert found(emsp="NL*OTH") == ["FIRST"]
    assert found(cpo="BE*BEC") == ["FIRST", "SECOND"]
    assert found(cpo="NL*OTH") == []
    assert found(currency="EUR") == ["FIRST", "SECOND"]
    assert found(currency="USD") == []
    assert found(**date_link(operator, "Past 7 days")) == ["SECOND"]
    assert found(**date_link(operator, "Any date")) == ["FIRST", "SECOND"]


def date_link(operator: Client, title: str) -> dict[str, str]:
    """The query of the end date filter's link `title` (in the operator's zone)."""
    for spec in operator.get(LIST).context["cl"].filter_specs:
        if getattr(spec, "field_path", None) == "end_date_time":
            return {name: str(value) for name, value in dict(spec.links)[title].items()}
    raise AssertionError("no end date filter")


def test_the_list_reads_no_filter_choice_from_the_cdrs_and_no_query_per_row(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session)
    with CaptureQueriesContext(connection) as one:
        assert operator.get(LIST).context["cl"].result_count == 1
    for number in range(29):
        cdr.pk = None
        cdr.ocpi_id, cdr._state.adding = f"COPY-{number}", True
        cdr.save()
    with CaptureQueriesContext(connection) as thirty:
        assert operator.get(LIST).context["cl"].result_count == 30

    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert scans_for_choices(thirty, "cdrs_cdr") == []


def test_the_page_shows_the_breakdown_the_sealed_data_and_the_location_answered(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session)
    Delivery.objects.update(
        status=DeliveryStatus.DELIVERED,
        attempts=1,
        response_location="https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/S1",
    )

    response = operator.get(page(cdr))

    assert response.status_code == 200
    text = response.content.decode()
    # Each price component: what it billed, at which price and VAT.
    assert (
        "<tr><td>PARKING</td><td>PARKING_TIME</td><td>element 5, component 1</td>"
        "<td>0.75 h</td><td>5</td><td>10 %</td><td>3.75</td><td>4.125</td></tr>"
    ) in text
    assert "<td>FIXED</td><td>FLAT</td><td>element 1, component 1</td><td>1 ×</td>" in text
    assert "<th>10.3</th>" in text  # total_cost incl. VAT
    # In the location's zone (Europe/Brussels: summer time), labelled.
    assert "<td>2024-06-03 12:15 CEST</td><td>PARKING_TIME 0.7 h</td><td>14</td>" in text
    assert "&quot;tariff_alt_url&quot;: &quot;https://company.com/tariffs/14&quot;" in text
    assert "&quot;address&quot;: &quot;F.Rooseveltlaan 3A&quot;" in text
    assert "https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/S1" in text
    assert "Delivered" in text


def test_the_page_says_when_no_emsp_receives_it(
    operator: Client, make_session: MakeSession
) -> None:
    cdr = t10_cdr(make_session)

    text = operator.get(page(cdr)).content.decode()

    assert "Not sent: the token&#x27;s eMSP has no registered cdrs Receiver endpoint" in text


def test_nothing_can_be_added_changed_or_deleted(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session)

    assert operator.get(reverse("admin:cdrs_cdr_add")).status_code == 403
    assert operator.post(page(cdr), {"remark": "changed"}).status_code == 403
    delete = reverse("admin:cdrs_cdr_delete", args=[cdr.pk])
    assert operator.post(delete, {"post": "yes"}).status_code == 403
    assert Cdr.objects.get().remark == ""


def test_the_credit_action_asks_for_a_remark_then_issues_and_posts_the_credit(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    cdr = t10_cdr(make_session)
    chosen = {"action": "issue_credit", ACTION_CHECKBOX_NAME: [cdr.pk]}

    asked = operator.post(LIST, chosen)
    assert (asked.status_code, Cdr.objects.count()) == (200, 1)  # asking issues nothing
    assert 'name="remark"' in asked.content.decode()

    done = operator.post(LIST, {**chosen, "apply": "1", "remark": "Meter fault"}, follow=True)

    credit = Cdr.objects.get(credit=True)
    assert (credit.ocpi_id, credit.remark, credit.total_cost_excl_vat) == (
        "S1-C",
        "Meter fault",
        -cdr.total_cost_excl_vat,
    )
    assert Change.objects.filter(module="cdrs").count() == 2
    assert "Credit CDR S1-C issued for BE*BEC S1." in done.content.decode()


def test_the_credit_action_refuses_what_the_service_refuses(
    operator: Client, make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    original = t10_cdr(make_session)
    credit = cdr_credit(cdr=original)
    chosen = {"action": "issue_credit", ACTION_CHECKBOX_NAME: [original.pk, credit.pk]}

    done = operator.post(LIST, {**chosen, "apply": "1", "remark": ""}, follow=True)

    text = done.content.decode()
    assert "BE*BEC S1: BE*BEC S1 has been credited already" in text
    assert "BE*BEC S1-C: BE*BEC S1-C is a credit CDR; it cannot be credited" in text
    assert Cdr.objects.count() == 2
