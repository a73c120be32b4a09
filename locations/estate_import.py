"""Importing the estate's CSV files (locations.estate_csv): a dry run, then the writes.

plan_estate_import() writes nothing. It builds, for every location a row touches, the whole
Location as OCPI JSON (stored object rendered, or a new one, with the rows' cells set on it),
validates it with LocationSerializer, the partners' own check, and reports per row: new,
changed (which columns), unchanged, or its errors. apply_plan() then hands each changed
location to location_upsert(), one service call per location (so one push per location,
none for an unchanged one), all in one transaction.

All or nothing: an import with any row in error writes nothing. Rows depend on each other
(an EVSE needs its connectors, a connector its EVSE, a new EVSE's evse_id may be freed by
another row), so writing "the valid rows" could store an estate no file described.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db.models.functions import Upper

from locations.estate_csv import (
    CONNECTOR_COLUMNS,
    CONNECTOR_KEYS,
    CONNECTORS,
    EVSE_COLUMNS,
    EVSE_KEYS,
    EVSES,
    LOCATION_COLUMNS,
    LOCATION_KEYS,
    LOCATIONS,
    our_parties,
)
from locations.models import EVSE, Location, Status
from locations.selectors import with_evses
from locations.serializers import LocationSerializer
from locations.services import location_upsert
from ocpi import json
from ocpi.estate_csv import (
    Column,
    ImportPlan,
    Row,
    RowReport,
    apply_row,
    changed_columns,
    column_for,
    error_lines,
    keyed_rows,
    read_csv,
)
from ocpi.routing import PartyRef
from ocpi.time import format_datetime, now

FILES: tuple[tuple[str, tuple[Column, ...], tuple[str, ...]], ...] = (
    (LOCATIONS, LOCATION_COLUMNS, LOCATION_KEYS),
    (EVSES, EVSE_COLUMNS, EVSE_KEYS),
    (CONNECTORS, CONNECTOR_COLUMNS, CONNECTOR_KEYS),
)
LOOKUP_CHUNK = 500  # ids per query when reading the stored locations
LocationKey = tuple[str, str, str]


@dataclass
class _Tree:
    """One location being built: its OCPI JSON and which row set which part."""

    location: Location | None
    data: dict[str, Any]
    roaming: bool | None = None
    changed: bool = False
    location_row: RowReport | None = None
    evse_rows: dict[int, RowReport] = field(default_factory=dict)  # by index in data["evses"]
    connector_rows: dict[tuple[int, int], RowReport] = field(default_factory=dict)
    rows: list[RowReport] = field(default_factory=list)

    def evse_index(self, uid: str) -> int | None:
        for index, evse in enumerate(self.data["evses"]):
            if evse["uid"].upper() == uid.upper():
                return index
        return None

    def note(self, report: RowReport, changes: list[str] | None) -> None:
        """The row's outcome: `changes` None for a new object."""
        report.outcome = "new" if changes is None else ("changed" if changes else "unchanged")
        report.changes = changes or []
        self.changed = self.changed or report.outcome != "unchanged"
        self.rows.append(report)


def _rendered(location: Location) -> dict[str, Any]:
    """The stored location as a partner would get it: plain JSON values, exact decimals."""
    loaded: dict[str, Any] = json.loads(json.dumps(LocationSerializer(location).data))
    loaded.setdefault("evses", [])
    return loaded


def _stored(keys: set[LocationKey]) -> dict[LocationKey, Location]:
    """The stored locations of `keys`, with EVSEs and connectors, a few queries per chunk."""
    by_party: dict[PartyRef, list[str]] = {}
    for country_code, party_id, location_id in keys:
        by_party.setdefault(PartyRef.of(country_code, party_id), []).append(location_id)
    found = {}
    for party, ids in by_party.items():
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            rows = with_evses(
                Location.objects.for_party(party)
                .annotate(upper_id=Upper("ocpi_id"))
                .filter(upper_id__in=chunk)
            )
            for location in rows:
                found[(party.country_code, party.party_id, location.ocpi_id.upper())] = location
    return found


class _EstateImport:
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.moment = format_datetime(now())
        self.trees: dict[LocationKey, _Tree] = {}

    def run(self, rows: Mapping[str, list[Row]]) -> None:
        parties = our_parties()
        keyed = {
            name: keyed_rows(rows.get(name, []), keys, parties, name) for name, _, keys in FILES
        }
        wanted = {key[:3] for file_rows in keyed.values() for key, _ in file_rows}
        stored = _stored({(k[0], k[1], k[2]) for k in wanted})
        for location_key, location in stored.items():
            self.trees[location_key] = _Tree(location, _rendered(location))
        for key, row in keyed[LOCATIONS]:
            self._location(key, row)
        for key, row in keyed[EVSES]:
            self._evse(key, row)
        for key, row in keyed[CONNECTORS]:
            self._connector(key, row)
        self._check_evse_ids()
        for tree in self.trees.values():
            if tree.rows:
                self._validate(tree)

    def _tree(self, key: tuple[str, ...], row: Row) -> _Tree | None:
        tree = self.trees.get((key[0], key[1], key[2]))
        if tree is None:
            location = "*".join(row.cells[name].strip() for name in ("country_code", "party_id"))
            row.report.error(
                f"Unknown location {location}*{row.cells['location_id'].strip()}: neither in "
                "the estate nor in the locations file."
            )
        return tree

    def _location(self, key: tuple[str, ...], row: Row) -> None:
        tree = self.trees.get((key[0], key[1], key[2]))
        changes = None
        if tree is None:
            cells = {name: row.cells[name].strip() for name in LOCATION_KEYS}
            tree = self.trees[(key[0], key[1], key[2])] = _Tree(
                None, {**cells, "evses": [], "last_updated": self.moment}
            )
        else:
            assert tree.location is not None
            current = {**tree.data, "roaming": tree.location.roaming}
            changes = changed_columns(row, current, LOCATION_COLUMNS, LOCATION_KEYS)
        apply_row(row, tree.data, LOCATION_COLUMNS, (*LOCATION_KEYS, "roaming"))
        tree.roaming = row.values.get("roaming")
        tree.location_row = row.report
        if not row.report.errors:
            tree.note(row.report, changes)

    def _evse(self, key: tuple[str, ...], row: Row) -> None:
        tree = self._tree(key, row)
        if tree is None:
            return
        uid = row.cells["uid"].strip()
        index = tree.evse_index(uid)
        changes = None
        if index is None:
            index = len(tree.data["evses"])
            tree.data["evses"].append({"uid": uid, "connectors": [], "last_updated": self.moment})
        else:
            changes = changed_columns(row, tree.data["evses"][index], EVSE_COLUMNS, EVSE_KEYS)
        apply_row(row, tree.data["evses"][index], EVSE_COLUMNS, EVSE_KEYS)
        tree.evse_rows[index] = row.report
        if not row.report.errors:
            tree.note(row.report, changes)

    def _connector(self, key: tuple[str, ...], row: Row) -> None:
        tree = self._tree(key, row)
        if tree is None:
            return
        evse_uid, connector_id = row.cells["evse_uid"].strip(), row.cells["id"].strip()
        evse_index = tree.evse_index(evse_uid)
        if evse_index is None:
            row.report.error(
                f"Unknown EVSE {evse_uid} at location {tree.data['id']}: neither in the estate "
                "nor in the EVSEs file."
            )
            return
        connectors = tree.data["evses"][evse_index]["connectors"]
        index = next(
            (i for i, c in enumerate(connectors) if c["id"].upper() == connector_id.upper()), None
        )
        changes = None
        if index is None:
            index = len(connectors)
            connectors.append({"id": connector_id, "last_updated": self.moment})
        else:
            changes = changed_columns(row, connectors[index], CONNECTOR_COLUMNS, CONNECTOR_KEYS)
        apply_row(row, connectors[index], CONNECTOR_COLUMNS, CONNECTOR_KEYS)
        tree.connector_rows[(evse_index, index)] = row.report
        if not row.report.errors:
            tree.note(row.report, changes)

    def _check_evse_ids(self) -> None:
        """An evse_id belongs to one EVSE that is not REMOVED, across the whole estate
        (mod_locations, EVSE.evse_id): among the locations as the import leaves them, and
        against every location it does not touch."""
        holders: dict[str, list[tuple[str, RowReport | None]]] = {}
        for tree in self.trees.values():
            for index, evse in enumerate(tree.data["evses"]):
                evse_id = evse.get("evse_id") or ""
                if evse_id and evse.get("status") != Status.REMOVED:
                    where = f"EVSE {evse['uid']} of location {tree.data['id']}"
                    holders.setdefault(evse_id.upper(), []).append(
                        (where, tree.evse_rows.get(index))
                    )
        for evse_id, claims in holders.items():
            for where, report in claims:
                others = [w for w, _ in claims if w != where]
                if report is not None and others:
                    report.error(f"evse_id: {evse_id} is also the evse_id of {others[0]}.")
        from_rows = [evse_id for evse_id, claims in holders.items() if any(r for _, r in claims)]
        touched = [tree.location.pk for tree in self.trees.values() if tree.location]
        for start in range(0, len(from_rows), LOOKUP_CHUNK):
            taken = (
                EVSE.objects.exclude(status=Status.REMOVED)
                .exclude(location__in=touched)
                .annotate(upper_evse_id=Upper("evse_id"))
                .filter(upper_evse_id__in=from_rows[start : start + LOOKUP_CHUNK])
                .select_related("location")
            )
            for evse in taken:
                for _, report in holders[evse.evse_id.upper()]:
                    if report is not None:
                        report.error(
                            f"evse_id: {evse.evse_id} is in use by EVSE {evse.uid} of "
                            f"location {evse.location.ocpi_id}, which is not REMOVED."
                        )

    def _validate(self, tree: _Tree) -> None:
        if not tree.changed:
            return
        serializer = LocationSerializer(data=tree.data)
        if serializer.is_valid():
            self.plan.writes.append(
                partial(location_upsert, data=serializer.validated_data, roaming=tree.roaming)
            )
            return
        for path, message in error_lines(serializer.errors):
            report, name = self._blame(tree, path)
            # A cell that could not be read has its error already; not also "required".
            if not any(error.startswith(f"{name}: ") for error in report.errors):
                report.error(f"{name}: {message}")

    def _blame(self, tree: _Tree, path: tuple[Any, ...]) -> tuple[RowReport, str]:
        """The row and column an error of the built location belongs to; an error in a part
        no row set (stored data) goes to the location's first row, with its path."""
        fallback = tree.location_row or tree.rows[0]
        if path[:1] != ("evses",) or len(path) < 2:
            return tree.location_row or fallback, column_for(path, LOCATION_COLUMNS)
        evse = path[1]
        if len(path) >= 4 and path[2] == "connectors":
            report = tree.connector_rows.get((evse, path[3]))
            if report is not None:
                return report, column_for(path[4:], CONNECTOR_COLUMNS)
        report = tree.evse_rows.get(evse)
        if report is not None:
            return report, column_for(path[2:], EVSE_COLUMNS)
        return fallback, ".".join(str(part) for part in path)


def plan_estate_import(texts: Mapping[str, str]) -> ImportPlan:
    """The dry run of importing the files in `texts` (by name: LOCATIONS, EVSES,
    CONNECTORS; any may be absent): nothing is written."""
    plan = ImportPlan()
    rows: dict[str, list[Row]] = {}
    for name, columns, keys in FILES:
        if texts.get(name, "").strip():
            rows[name], problems = read_csv(texts[name], file=name, columns=columns, keys=keys)
            plan.file_errors += problems
            plan.reports += [row.report for row in rows[name]]
    if not plan.file_errors:
        _EstateImport(plan).run(rows)
    return plan
