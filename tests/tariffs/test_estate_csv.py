"""Tariffs as CSV: export, the import's dry run and the confirmed import via tariff_upsert."""

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from credentials.models import PartnerPlatform
from ocpi.csv_cells import csv_lines
from ocpi.estate_csv import ImportPlan
from push.models import Change
from tariffs.estate_csv import TARIFF_COLUMNS, TARIFFS, plan_tariff_import, tariff_rows
from tariffs.models import Tariff
from tests.csv_files import streamed, table, written
from tests.tariffs.conftest import simple_tariff

IMPORT = "/admin/tariffs/tariff/import/"


def exported() -> str:
    rows = ([c.read(obj) for c in TARIFF_COLUMNS] for obj in tariff_rows(Tariff.objects.all()))
    return "".join(csv_lines([c.name for c in TARIFF_COLUMNS], rows))


def errors(plan: ImportPlan) -> dict[int, list[str]]:
    return {r.row: r.errors for r in plan.reports if r.errors}


@pytest.fixture
def tariffs(
    upsert: Callable[[dict[str, Any]], Tariff], make_emsp: Callable[..., PartnerPlatform]
) -> list[Tariff]:
    """Two of our tariffs (DE*ALL) and an eMSP receiving tariff pushes; no push queued yet."""
    make_emsp("tariff-emsp")  # first: the receivers are read once per credentials generation
    made = [upsert(simple_tariff("T1")), upsert(simple_tariff("T2", currency="CHF"))]
    Change.objects.all().delete()
    return made


def test_export_is_flat_with_elements_as_json(tariffs: list[Tariff]) -> None:
    rows = table(exported())

    assert [(row["id"], row["currency"]) for row in rows] == [("T1", "EUR"), ("T2", "CHF")]
    assert rows[0]["elements"].startswith('[{"price_components":[{"type":"ENERGY"')


def test_round_trip_is_unchanged_and_pushes_nothing(tariffs: list[Tariff]) -> None:
    plan = plan_tariff_import({TARIFFS: exported()})
    plan.write()

    assert plan.ok, errors(plan)
    assert [r.outcome for r in plan.reports] == ["unchanged", "unchanged"]
    assert Change.objects.count() == 0


def test_ids_a_spreadsheet_would_run_round_trip_as_text(
    tariffs: list[Tariff], upsert: Callable[[dict[str, Any]], Tariff]
) -> None:
    upsert(simple_tariff("=T3+1"))
    upsert(simple_tariff("'T4"))
    Change.objects.all().delete()
    text = exported()

    assert [row["id"] for row in table(text)][2:] == ["'=T3+1", "''T4"]
    plan = plan_tariff_import({TARIFFS: text})
    plan.write()

    assert plan.ok, errors(plan)
    assert {r.outcome for r in plan.reports} == {"unchanged"}
    assert Change.objects.count() == 0


def test_an_id_that_lost_its_apostrophe_is_a_new_tariff(
    tariffs: list[Tariff], upsert: Callable[[dict[str, Any]], Tariff]
) -> None:
    upsert(simple_tariff("'T4"))
    Change.objects.all().delete()
    rows = table(exported())
    rows[2]["id"] = "'T4"  # read as "T4": not the stored "'T4"

    plan = plan_tariff_import({TARIFFS: written(rows)})

    assert plan.ok, errors(plan)
    assert [r.outcome for r in plan.reports] == ["unchanged", "unchanged", "new"]
    assert plan.reports[2].key == "DE*ALL*T4"


def test_bad_rows_are_reported_and_nothing_is_written(tariffs: list[Tariff]) -> None:
    rows = table(exported())
    rows[0]["currency"] = "EURO"
    rows[1]["min_price_excl_vat"] = "cheap"
    rows.append({**rows[1], "id": "T3", "min_price_excl_vat": "", "elements": "[{"})
    rows.append({**rows[1], "id": "T4", "min_price_excl_vat": "", "party_id": "XYZ"})

    plan = plan_tariff_import({TARIFFS: written(rows)})

    assert errors(plan) == {
        2: ["currency: Ensure this field has no more than 3 characters."],
        3: ["min_price_excl_vat: Must be a number such as 0.25, not 'cheap'."],
        4: [plan.reports[2].errors[0]],
        5: ["DE*XYZ is not a party of ours: only our own tariffs are imported."],
    }
    assert plan.reports[2].errors[0].startswith("elements: Not valid JSON")
    with pytest.raises(ValueError, match="writes nothing"):
        plan.write()
    assert (Tariff.objects.count(), Change.objects.count()) == (2, 0)


def test_a_valid_import_creates_and_updates_with_one_push_each(tariffs: list[Tariff]) -> None:
    rows = table(exported())
    rows[0]["max_price_excl_vat"] = "20.00"
    rows[0]["min_price_excl_vat"] = "1"
    rows.append({**rows[1], "id": "T3"})

    plan = plan_tariff_import({TARIFFS: written(rows)})
    plan.write()

    assert plan.ok, errors(plan)
    assert [(r.outcome, r.changes) for r in plan.reports] == [
        ("changed", ["min_price_excl_vat", "max_price_excl_vat"]),
        ("unchanged", []),
        ("new", []),
    ]
    t1 = Tariff.objects.get(ocpi_id="T1")
    assert (str(t1.min_price_excl_vat), str(t1.max_price_excl_vat)) == ("1.0000", "20.0000")
    assert Tariff.objects.get(ocpi_id="T3").currency == "CHF"
    assert [(c.method, c.path) for c in Change.objects.order_by("pk")] == [
        ("PUT", ["DE", "ALL", "T1"]),
        ("PUT", ["DE", "ALL", "T3"]),
    ]


def test_admin_import_dry_run_then_confirm(operator: Client, tariffs: list[Tariff]) -> None:
    rows = table(exported())
    handle = io.BytesIO(written([{**rows[0], "currency": "USD"}]).encode())
    handle.name = "tariffs.csv"

    dry_run = operator.post(IMPORT, {TARIFFS: handle})

    assert Tariff.objects.get(ocpi_id="T1").currency == "EUR"
    assert dry_run.context["counts"]["changed"] == 1
    assert operator.post(IMPORT, {"token": dry_run.context["token"]}).status_code == 302
    assert Tariff.objects.get(ocpi_id="T1").currency == "USD"
    exported_page = operator.get("/admin/tariffs/tariff/export/?q=T2")
    body = streamed(exported_page)
    assert [row["id"] for row in table(body)] == ["T2"]
