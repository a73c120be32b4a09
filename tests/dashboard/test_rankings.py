"""The dashboard's rankings per site and per eMSP party over the last 30 days, against CDRs
built here; their cost in queries does not grow with the number of sites."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdrs.selectors import Figures, cdr_top_sites
from dashboard.overview import TOP, overview
from tests.cdrs.conftest import cdr_location
from tests.dashboard.direct_figures import cdr_figures_per
from tests.dashboard.estate import MOMENT, add_cdr, at
from tests.partners import only_local_party

SINCE = at("2026-02-14", "00:00")  # the overview's 30 days up to MOMENT
CURRENCIES = ["CHF", "EUR"]


def site(ocpi_id: str, name: str) -> dict[str, Any]:
    return {"cdr_location": cdr_location(id=ocpi_id, name=name)}


@pytest.fixture
def cdrs(db: None) -> None:
    only_local_party()
    gent, antwerpen = site("LOC1", "Gent Zuid"), site("LOC2", "Antwerpen")
    add_cdr("G-1", at("2026-03-15", "09:00"), "10.50", **gent)
    add_cdr("G-2", at("2026-03-10"), "4.00", token_country_code="NL", token_party_id="BET", **gent)
    add_cdr("A-1", at("2026-03-12"), "7.00", currency="CHF", **antwerpen)
    credited = add_cdr("A-2", at("2026-03-02"), "20.00", **antwerpen)
    add_cdr(
        "A-2-C",
        at("2026-03-02"),
        "-20.00",
        credit=True,
        original=credited,
        credit_reference_id="A-2",
        **antwerpen,
    )
    add_cdr("OLD", at("2026-01-01"), "99.00", **site("LOC3", "Brugge"))  # before the 30 days


@pytest.fixture
def admin_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("boss", "boss@cpo.test", "pw")


def test_the_figures_per_site_add_up_the_cdrs_that_stand(cdrs: None) -> None:
    assert cdr_figures_per("site", since=SINCE) == [
        Figures("BE*BEC*LOC1", "Gent Zuid", 2, Decimal("20"), {"EUR": Decimal("14.50")}),
        # The credited CDR was charged (a session, its kWh); its money came back.
        Figures(
            "BE*BEC*LOC2",
            "Antwerpen",
            2,
            Decimal("20"),
            {"CHF": Decimal("7.00"), "EUR": Decimal("0.00")},
        ),
    ]


def test_the_figures_per_emsp_party(cdrs: None) -> None:
    assert cdr_figures_per("partner", since=SINCE) == [
        Figures(
            "DE*MSP",
            "DE*MSP",
            3,
            Decimal("30"),
            {"CHF": Decimal("7.00"), "EUR": Decimal("10.50")},
        ),
        Figures("NL*BET", "NL*BET", 1, Decimal("10"), {"EUR": Decimal("4.00")}),
    ]


def test_the_rankings_draw_them_largest_first(cdrs: None, admin_user: Any) -> None:
    rankings = {chart.title: chart for chart in overview(admin_user, MOMENT).rankings or []}

    def bars(title: str) -> list[tuple[str, str]]:
        return [(bar.full_name, bar.figure) for bar in rankings[title].bars]

    assert list(rankings) == [
        "Energy per site",
        "Sessions per site",
        "Revenue per site, CHF excl. VAT",
        "Revenue per site, EUR excl. VAT",
        "Energy per eMSP party",
        "Sessions per eMSP party",
        "Revenue per eMSP party, CHF excl. VAT",
        "Revenue per eMSP party, EUR excl. VAT",
    ]
    assert bars("Energy per site") == [("Antwerpen", "20.0 kWh"), ("Gent Zuid", "20.0 kWh")]
    assert bars("Revenue per site, EUR excl. VAT") == [("Gent Zuid", "14.50 EUR")]  # nets to 0
    assert bars("Sessions per eMSP party") == [("DE*MSP", "3 sessions"), ("NL*BET", "1 session")]
    assert bars("Revenue per eMSP party, EUR excl. VAT") == [
        ("DE*MSP", "10.50 EUR"),
        ("NL*BET", "4.00 EUR"),
    ]
    # The longest bar spans the plot; the others in proportion.
    eur = rankings["Revenue per eMSP party, EUR excl. VAT"].bars
    assert (eur[0].width, eur[1].width) == ("300.0", f"{300 * 4 / 10.5:.1f}")


def test_two_sites_of_one_name_stay_apart(cdrs: None, admin_user: Any) -> None:
    add_cdr("C-1", at("2026-03-14"), "1.00", **site("LOC9", "Gent Zuid"))

    rankings = {chart.title: chart for chart in overview(admin_user, MOMENT).rankings or []}

    names = [bar.full_name for bar in rankings["Sessions per site"].bars]
    assert names == ["Antwerpen", "Gent Zuid (BE*BEC*LOC1)", "Gent Zuid (BE*BEC*LOC9)"]


def test_the_rankings_show_the_top_sites_at_the_same_cost_in_queries(
    cdrs: None, admin_user: Any
) -> None:
    overview(admin_user, MOMENT)  # the first view computes the figures kept per day
    with CaptureQueriesContext(connection) as few:
        overview(admin_user, MOMENT)
    for index in range(TOP + 5):
        add_cdr(f"M-{index}", at("2026-03-13"), f"{index + 1}.00", **site(f"S{index}", f"S{index}"))

    with CaptureQueriesContext(connection) as many:
        rankings = overview(admin_user, MOMENT).rankings or []

    assert len(many) == len(few)
    sessions = next(chart for chart in rankings if chart.title == "Sessions per site")
    assert len(sessions.bars) == TOP
    revenue = next(chart for chart in rankings if chart.title == "Revenue per site, EUR excl. VAT")
    assert [bar.full_name for bar in revenue.bars[:3]] == ["S14", "Gent Zuid", "S13"]


def credited_before_the_period() -> None:
    """Site Outside: a CDR before the period, and its credit inside it (net: nothing)."""
    credited = add_cdr("OUT-1", at("2026-01-05"), "9.00", **site("SOUT", "Outside"))
    add_cdr(
        "OUT-1-C",
        at("2026-03-05"),
        "-9.00",
        credit=True,
        original=credited,
        credit_reference_id="OUT-1",
        **site("SOUT", "Outside"),
    )


def _ranked(figures: list[Figures]) -> dict[str, list[tuple[str, Any]]]:
    """Each ranking the dashboard draws from `figures`: (name, figure) of its first TOP."""

    def first(values: dict[str, Any]) -> list[tuple[str, Any]]:
        best = sorted(((k, v) for k, v in values.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
        return best[:TOP]

    rankings = {
        metric: first({one.key: getattr(one, metric) for one in figures})
        for metric in ("kwh", "sessions")
    }
    for currency in sorted({code for one in figures for code in one.revenue}):
        rankings[currency] = first(
            {one.key: one.revenue.get(currency, Decimal(0)) for one in figures}
        )
    return rankings


def test_the_sites_chosen_in_the_database_rank_as_all_sites_would(cdrs: None) -> None:
    # More sites than a ranking shows; ties at its last places (the same amount, kWh and
    # sessions), a site first by CHF revenue only, one with only a credit in the period.
    for index in range(TOP * 2):
        amount = f"{(index % 4) + 1}.00"  # four values: ties everywhere, also at place TOP
        add_cdr(f"T-{index}", at("2026-03-13"), amount, **site(f"S{index:02}", f"Site {index}"))
    add_cdr("CHF-1", at("2026-03-11"), "50.00", currency="CHF", **site("SCHF", "Swiss"))
    credited_before_the_period()
    everything = cdr_figures_per("site", since=SINCE)

    chosen = cdr_top_sites(since=SINCE, top=TOP, currencies=CURRENCIES)

    assert len(everything) > len(chosen)
    assert _ranked(chosen) == _ranked(everything)
    by_key = {one.key: one for one in everything}
    assert all(one == by_key[one.key] for one in chosen)  # each with all its figures
    assert "BE*BEC*SCHF" in {one.key for one in chosen}


def test_no_sites_no_rows(db: None) -> None:
    assert cdr_top_sites(since=SINCE, top=TOP, currencies=CURRENCIES) == []


def test_a_currency_left_out_still_counts_sessions_and_kwh(cdrs: None) -> None:
    # Antwerpen: 1 EUR CDR (credited: 20 kWh, net 0.00) and 1 in CHF, which is not asked.
    chosen = {one.key: one for one in cdr_top_sites(since=SINCE, top=TOP, currencies=["EUR"])}

    assert chosen["BE*BEC*LOC2"] == Figures(
        "BE*BEC*LOC2", "Antwerpen", 2, Decimal("20"), {"EUR": Decimal("0.00")}
    )


def test_a_site_without_a_standing_cdr_does_not_push_others_down(db: None) -> None:
    # A site whose only CDR in the period is a credit has no kWh: it ranks nowhere, and the
    # sites below it keep their places (a sum of nothing sorts first in PostgreSQL).
    only_local_party()
    credited_before_the_period()
    add_cdr("BIG-1", at("2026-03-13"), "1.00", total_energy=Decimal(30), **site("BIG", "Big"))
    for index in range(2):
        add_cdr(f"MANY-{index}", at("2026-03-13"), "5.00", **site("MANY", "Many"))

    chosen = cdr_top_sites(since=SINCE, top=1, currencies=CURRENCIES)

    # Big is first by kWh only (30 against 20), Many by sessions and revenue.
    assert [one.key for one in chosen] == ["BE*BEC*BIG", "BE*BEC*MANY"]
