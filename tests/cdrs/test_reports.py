"""Reports from CDRs: sessions, kWh and revenue per month, site and eMSP party
(CdrQuerySet.report), the admin page with its filters, and the CSV export, which streams."""

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdrs.models import Cdr
from cdrs.services import cdr_correct, cdr_credit, cdr_for_session
from credentials.models import PartnerPlatform
from tests.cdrs.conftest import MakeSession, cdr_location, energy, t10_cdr
from tests.examples import tariff_example

PAGE = reverse("admin:cdrs_cdr_report")
CSV = reverse("admin:cdrs_cdr_report_csv")
PER_KWH = "tariff_8_simple_025kwh.json"  # 0.25 EUR per kWh excl. VAT


def july_cdr(make_session: MakeSession, session_id: str, kwh: str, **fields: Any) -> Cdr:
    session = make_session(
        session_id,
        periods=[("2024-07-10T08:00:00Z", [energy(kwh)])],
        end="2024-07-10T09:00:00Z",
        tariffs=[tariff_example(PER_KWH)],
        **fields,
    )
    cdr = cdr_for_session(session=session)
    assert cdr is not None
    return cdr


@pytest.fixture
def estate(make_session: MakeSession, emsp: PartnerPlatform, other_emsp: PartnerPlatform):
    """June: two T10 sessions (20 kWh each) at LOC1, one for each eMSP, the NL one credited.
    July: 10 kWh at LOC1 for DE*MSP, corrected to free; 4 kWh at LOC2 (Brugge) for DE*MSP."""
    june_de = t10_cdr(make_session, "S1")
    june_nl = t10_cdr(make_session, "S2", token_party=("NL", "OTH"))
    cdr_credit(cdr=june_nl)
    july_loc1 = july_cdr(make_session, "S3", "10")
    cdr_correct(cdr=july_loc1, tariff=None)
    july_loc2 = july_cdr(
        make_session, "S4", "4", cdr_location=cdr_location(id="LOC2", name="Brugge Station")
    )
    return {"june_de": june_de, "june_nl": june_nl, "july_loc1": july_loc1, "july_loc2": july_loc2}


def test_per_month_revenue_is_net_and_each_charge_counts_once(estate):
    t10 = estate["june_de"].total_cost_excl_vat
    t10_incl = estate["june_de"].total_cost_incl_vat
    assert estate["july_loc2"].total_cost_excl_vat == Decimal("1.0000")  # 4 kWh at 0.25

    rows = list(Cdr.objects.report(by=["month"]))

    # Numbers compared as numbers: SQLite sums decimals in floating point (15 digits).
    assert rows == [
        {
            "month": date(2024, 6, 1),
            "currency_code": "EUR",
            "sessions": 2,
            "energy_kwh": Decimal("40"),
            "revenue_excl_vat": t10,  # the NL one credited back
            "revenue_incl_vat": t10_incl,
        },
        {
            "month": date(2024, 7, 1),
            "currency_code": "EUR",
            "sessions": 2,  # the corrected one replaces the original
            "energy_kwh": Decimal("14"),
            "revenue_excl_vat": Decimal("1"),  # 2.50, credited, corrected to 0; plus 1.00
            "revenue_incl_vat": estate["july_loc2"].total_cost_incl_vat,
        },
    ]
    assert t10 > 0


def test_per_site_and_partner(estate):
    rows = Cdr.objects.report(by=["site", "partner"])

    assert [
        (r["site_id"], r["site_name"], r["emsp_country_code"], r["emsp_party_id"])
        + (r["sessions"], r["energy_kwh"])
        for r in rows
    ] == [
        ("LOC1", "Gent Zuid", "DE", "MSP", 2, Decimal("30")),
        ("LOC1", "Gent Zuid", "NL", "OTH", 1, Decimal("20")),
        ("LOC2", "Brugge Station", "DE", "MSP", 1, Decimal("4")),
    ]
    assert {r["site_country_code"] + "*" + r["site_party_id"] for r in rows} == {"BE*BEC"}


def test_filters_period_site_and_partner(estate):
    july = Cdr.objects.ended_in(*_utc("2024-07-01", "2024-08-01"))
    assert [r["sessions"] for r in july.report(by=[])] == [2]
    assert [r["sessions"] for r in july.at_site("loc2").report(by=[])] == [1]
    june = Cdr.objects.ended_in(*_utc("2024-06-01", "2024-07-01"))
    assert [r["sessions"] for r in june.at_site("LOC2").report(by=[])] == []


def _utc(start: str, end: str) -> tuple[datetime, datetime]:
    return (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )


def test_currencies_are_never_added_up(estate):
    Cdr.objects.filter(pk=estate["july_loc2"].pk).update(currency="CHF")

    rows = Cdr.objects.report(by=["month"])

    assert [(str(r["month"]), r["currency_code"], r["sessions"]) for r in rows] == [
        ("2024-06-01", "EUR", 2),
        ("2024-07-01", "CHF", 1),
        ("2024-07-01", "EUR", 1),
    ]


def test_one_query_however_many_cdrs(make_session, emsp, django_assert_num_queries):
    for number in range(5):
        july_cdr(make_session, f"S{number}", "1")
    with django_assert_num_queries(1):
        assert [r["sessions"] for r in Cdr.objects.report(by=["month", "site", "partner"])] == [5]


def test_the_page_shows_rows_and_totals_with_the_filters(operator: Client, estate):
    response = operator.get(
        PAGE,
        {"date_from": "2024-07-01", "date_to": "2024-07-31", "group_by": ["site"]},
    )

    assert response.status_code == 200
    context = response.context
    assert context["headers"][:4] == ["site_country_code", "site_party_id", "site_id", "site_name"]
    assert [row[2:5] + row[5:7] for row in context["rows"]] == [
        ["LOC1", "Gent Zuid", "EUR", "1", "10.0000"],
        ["LOC2", "Brugge Station", "EUR", "1", "4.0000"],
    ]
    assert context["totals"] == [
        ["EUR", "2", "14.0000", "1.0000", str(estate["july_loc2"].total_cost_incl_vat)]
    ]
    assert b'href="csv/?date_from=2024-07-01' in response.content


def test_the_first_visit_shows_every_month(operator: Client, estate):
    rows = operator.get(PAGE).context["rows"]
    assert [row[:3] for row in rows] == [["2024-06", "EUR", "2"], ["2024-07", "EUR", "2"]]


def test_the_page_filters_by_emsp_party(operator: Client, estate):
    response = operator.get(PAGE, {"partner": "NL*OTH", "group_by": ["partner"]})
    assert [row[:4] for row in response.context["rows"]] == [["NL", "OTH", "EUR", "1"]]


def test_bad_filters_are_shown_not_run(operator: Client, estate):
    response = operator.get(PAGE, {"date_from": "2024-07-10", "date_to": "2024-07-01"})
    assert "The last day is before the first." in response.content.decode()
    assert "rows" not in response.context
    assert operator.get(CSV, {"partner": "XX*NOP"}).status_code == 400


def test_the_csv_streams_every_row(operator: Client, estate):
    response = operator.get(CSV, {"group_by": ["month", "site", "partner"]})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="report-month-site-partner.csv"'
    )
    # Nothing is read before the file is: the header goes out first, then the rows as the
    # database cursor hands them over.
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before:
        header = next(chunks)
    assert len(before) == 0
    lines = list(csv.reader(line.decode() for line in [header, *chunks]))
    assert lines[0] == [
        "month",
        "site_country_code",
        "site_party_id",
        "site_id",
        "site_name",
        "emsp_country_code",
        "emsp_party_id",
        "currency_code",
        "sessions",
        "energy_kwh",
        "revenue_excl_vat",
        "revenue_incl_vat",
    ]
    assert [line[:4] + line[5:10] for line in lines[1:]] == [
        ["2024-06", "BE", "BEC", "LOC1", "DE", "MSP", "EUR", "1", "20.0000"],
        ["2024-06", "BE", "BEC", "LOC1", "NL", "OTH", "EUR", "1", "20.0000"],
        ["2024-07", "BE", "BEC", "LOC1", "DE", "MSP", "EUR", "1", "10.0000"],
        ["2024-07", "BE", "BEC", "LOC2", "DE", "MSP", "EUR", "1", "4.0000"],
    ]
    assert lines[2][10] == "0.0000"  # credited


def test_site_names_cannot_become_spreadsheet_formulas(operator: Client, make_session, emsp):
    july_cdr(make_session, "S1", "1", cdr_location=cdr_location(name="=HYPERLINK(1)"))

    response = operator.get(CSV, {"group_by": ["site"]})

    assert isinstance(response, StreamingHttpResponse)
    lines = list(csv.reader(b"".join(response.streaming_content).decode().splitlines()))
    assert lines[1][3] == "'=HYPERLINK(1)"
    # The page is not a spreadsheet: it shows the name as it is.
    page = operator.get(PAGE, {"group_by": ["site"]})
    assert page.context["rows"][0][3] == "=HYPERLINK(1)"


def test_a_credit_s_negative_amounts_stay_numbers_in_the_csv(operator: Client, make_session, emsp):
    cdr = july_cdr(make_session, "S1", "10")
    credit = cdr_credit(cdr=cdr)
    # The credit alone in August: August's figures are negative.
    Cdr.objects.filter(pk=credit.pk).update(end_date_time=datetime(2024, 8, 1, tzinfo=UTC))

    response = operator.get(CSV, {"group_by": ["month"], "date_from": "2024-08-01"})

    assert isinstance(response, StreamingHttpResponse)
    lines = list(csv.reader(b"".join(response.streaming_content).decode().splitlines()))
    assert lines[1][4] == str(credit.total_cost_excl_vat) == "-2.5000"
    assert lines[1][5] == str(credit.total_cost_incl_vat)
    assert lines[1][5].startswith("-")


def test_only_operators_who_may_see_cdrs(client: Client, estate):
    assert client.get(PAGE).status_code == 302  # to the login
    assert client.get(CSV).status_code == 302


def test_the_page_costs_the_same_queries_however_many_cdrs(operator: Client, make_session, emsp):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(PAGE, {"group_by": ["month", "site", "partner"]}).status_code == 200
        return len(captured)

    july_cdr(make_session, "S1", "1")
    few = queries()
    for number in range(2, 7):
        july_cdr(make_session, f"S{number}", "1", cdr_location=cdr_location(id=f"L{number}"))

    assert queries() == few


def test_parties_and_sites_written_in_lower_case_group_with_upper_case(estate):
    keys = ["site_country_code", "site_party_id", "emsp_country_code", "emsp_party_id"]
    before = [{key: row[key] for key in keys} for row in Cdr.objects.report(by=["site", "partner"])]
    july = Cdr.objects.filter(pk=estate["july_loc1"].pk)
    july.update(
        country_code=Lower("country_code"),
        party_id=Lower("party_id"),
        token_country_code=Lower("token_country_code"),
        token_party_id=Lower("token_party_id"),
    )

    after = [{key: row[key] for key in keys} for row in Cdr.objects.report(by=["site", "partner"])]

    assert after == before
    assert july.values_list("country_code", flat=True).get().islower()
