"""Our EVSEs' OCPI statuses from what their charge point reports (StatusNotification).

The one table OCPP status → OCPI EVSE status is TO_OCPI. OCPI calls CHARGING "The EVSE is in
use" (mod_locations, Status): that is every OCPP state in which the EVSE cannot serve another
driver, not only the ones that deliver energy.

An EVSE's status is derived, never stored twice: each connector's last report is kept
(ConnectorStatus) and the EVSE's status is computed from them whenever one changes:
- the statuses of its connectors (2.0.1: an EVSE has several) combine by PRECEDENCE;
- the charge point as a whole (1.6 connector 0, 2.0.1 EVSE 0) Unavailable or Faulted makes
  every EVSE of it INOPERATIVE or OUTOFORDER, except one still in use: an availability change
  waits for the transaction (1.6 §5.2 ChangeAvailability "Scheduled", 2.0.1 G04), and that EVSE
  reports its own status when the transaction ends. When it clears, each EVSE returns to its
  own connectors' status (UNKNOWN if they never reported);
- a report older than the one applied last for that connector is not applied: a charge point
  that was offline may deliver reports out of order.
PLANNED and REMOVED are the operator's, never overwritten by a charge point.
An EVSE held by an accepted reservation (chargers.reservations) whose connectors are
available is RESERVED, whether or not its charge point reports Reserved (1.6 does, 2.0.1 may).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from chargers.models import (
    ChargePoint,
    ChargePointEvse,
    ConnectorStatus,
    Reservation,
    ReservationState,
)
from locations.models import EVSE, Status
from locations.services import evses_set_status
from ocpi.querysets import update_rows

logger = logging.getLogger(__name__)

# OCPP 1.6 ChargePointStatus and 2.0.1 ConnectorStatusEnumType: where both have a value it
# means the same (Available, Reserved, Unavailable, Faulted), so one table serves both.
TO_OCPI: dict[str, Status] = {
    "Available": Status.AVAILABLE,
    # 1.6: "no longer available for a new user but there is no ongoing Transaction (yet)": a
    # driver has presented a card or plugged in; the EVSE is taken.
    "Preparing": Status.CHARGING,
    "Charging": Status.CHARGING,
    # A transaction is open and the EV (SuspendedEV) or the charge point (SuspendedEVSE) holds
    # back energy: still in use.
    "SuspendedEV": Status.CHARGING,
    "SuspendedEVSE": Status.CHARGING,
    # 1.6: the transaction has stopped "but the Connector is not yet available for a new user",
    # the cable still plugged or the vehicle still in the bay.
    "Finishing": Status.CHARGING,
    # 2.0.1: a cable is plugged in or a vehicle detected, with or without a transaction.
    "Occupied": Status.CHARGING,
    "Reserved": Status.RESERVED,
    # Switched off on purpose (ChangeAvailability), not broken: OCPI INOPERATIVE.
    "Unavailable": Status.INOPERATIVE,
    "Faulted": Status.OUTOFORDER,
}

# How an EVSE's connectors combine: the first status any of them has. In use by one, the EVSE
# serves no one else; reserved, it is held for one driver; one connector usable, it can charge;
# else it is off on purpose rather than broken, when either is true of some connector.
PRECEDENCE = (
    Status.CHARGING,
    Status.RESERVED,
    Status.AVAILABLE,
    Status.INOPERATIVE,
    Status.OUTOFORDER,
    Status.UNKNOWN,
)

# The charge point as a whole in one of these: every EVSE of it too (but one in use).
WHOLE_OVERRIDES = frozenset({Status.INOPERATIVE, Status.OUTOFORDER})

# Set by the operator, about the EVSE's place in the estate rather than its state.
OPERATOR_STATUSES = frozenset({Status.PLANNED, Status.REMOVED})

# What a batch reads of a link's EVSE (evses_set_status reads it again under its location's
# lock): not its JSON fields.
_LINK_FIELDS = ("ocpp_evse_id", "evse__location_id", "evse__status")

WHOLE = 0  # OCPP 1.6 connector id 0, 2.0.1 EVSE id 0: the charge point as a whole
_MAX_ID = 2**31 - 1  # what the id columns hold; a charge point may send any integer


@dataclass(frozen=True)
class Report:
    """One connector's status as a charge point reported it (1.6: connector_id 0)."""

    ocpp_evse_id: int
    connector_id: int
    status: str
    reported_at: datetime
    error_code: str = ""
    info: str = ""
    vendor_error_code: str = ""


def to_ocpi(ocpp_status: str) -> Status:
    """A status outside both versions (a vendor relaxation may let one through) says nothing."""
    return TO_OCPI.get(ocpp_status, Status.UNKNOWN)


def combined(ocpp_statuses: Iterable[str]) -> Status | None:
    """The OCPI status of connectors reported as `ocpp_statuses`; None when there are none."""
    present = {to_ocpi(status) for status in ocpp_statuses}
    return next((status for status in PRECEDENCE if status in present), None)


def evse_status(own: Status | None, whole: Status | None) -> Status:
    """An EVSE's status from its own connectors' and the whole charge point's."""
    if whole in WHOLE_OVERRIDES and own != Status.CHARGING:
        return whole
    return own or Status.UNKNOWN


@dataclass(frozen=True)
class Arrival:
    """A report as it arrived: from which charge point, when (our clock)."""

    charge_point: ChargePoint
    report: Report
    received_at: datetime


def record(*, charge_point: ChargePoint, report: Report, received_at: datetime) -> str | None:
    """Keep `report` as its connector's last and set the EVSEs it changes: one transaction with
    their PATCHes. A report of a connector we do not map is kept and logged, never refused: a
    refused StatusNotification would be sent again and again. Returns the connector's status
    before (None: its first report, or this one was not applied)."""
    return record_all([Arrival(charge_point, report, received_at)])[0]


def record_all(arrivals: Sequence[Arrival]) -> list[str | None]:
    """`record` for many reports (the gateway's StatusNotifications that arrived together), in
    one transaction: the connector rows of their charge points locked and read in one
    statement and written in one, the EVSEs they change set together (evses_set_status: one
    lock per location, one list-generation write, the PATCHes queued together). Each
    connector's reports apply in the order given. What `record` returns, for each.

    A lone report that repeats its connector's last status costs one conditional UPDATE and
    no transaction (_repeated): most StatusNotifications are such."""
    previous: list[str | None] = [None] * len(arrivals)
    kept = [n for n, arrival in enumerate(arrivals) if _possible(arrival)]
    if len(kept) == 1 and _repeated(arrivals[kept[0]]):
        previous[kept[0]] = arrivals[kept[0]].report.status
        return previous
    if not kept:
        return previous
    # By charge point, each one's reports in their order: batches lock rows in one order.
    kept.sort(key=lambda n: arrivals[n].charge_point.pk)
    with transaction.atomic():
        batch = _Batch([arrivals[n].charge_point for n in kept])
        batch.lock_rows([arrivals[n] for n in kept])
        for n in kept:
            previous[n] = batch.apply(arrivals[n])
        batch.write()
    return previous


def restore(charge_point: ChargePoint) -> None:
    """Set every EVSE of `charge_point` to the status its reports give (back from offline)."""
    with transaction.atomic(savepoint=False):
        batch = _Batch([charge_point])
        batch.restore(charge_point)
        batch.write()


def refresh(charge_point: ChargePoint) -> None:
    """Derive its EVSEs' statuses again (a reservation began or ended), unless the charge
    point is marked offline: its EVSEs stay UNKNOWN until it is back (restore)."""
    offline = ChargePoint.objects.filter(pk=charge_point.pk, offline_marked=True).exists()
    if not offline:
        restore(charge_point)


def mark_unknown(charge_point: ChargePoint) -> None:
    """Set every EVSE of `charge_point` UNKNOWN ("also used when offline", mod_locations)."""
    batch = _Batch([charge_point])
    for link in batch.links(charge_point):
        batch.want(link.evse, Status.UNKNOWN)
    batch.write()


def _possible(arrival: Arrival) -> bool:
    """Whether its ids are ones we can store (a charge point may send any integer); its
    error, if any, logged."""
    charge_point, report = arrival.charge_point, arrival.report
    if not (0 <= report.ocpp_evse_id <= _MAX_ID and 0 <= report.connector_id <= _MAX_ID):
        logger.warning(
            "Charge point %s reported %s for impossible OCPP ids %s/%s: ignored",
            charge_point.identity,
            report.status,
            report.ocpp_evse_id,
            report.connector_id,
        )
        return False
    if report.error_code not in ("", "NoError"):
        logger.warning(
            "Charge point %s OCPP %s/%s reports %s: error %s, vendor error %r, info %r",
            charge_point.identity,
            report.ocpp_evse_id,
            report.connector_id,
            report.status,
            report.error_code,
            report.vendor_error_code,
            report.info,
        )
    return True


def _repeated(arrival: Arrival) -> bool:
    """Keep its report if it repeats its connector's last status, not older: one UPDATE, no
    transaction, no EVSE to set (_Batch.apply would change none). Conditional, so that a
    report older than the last, a new status, or a first report goes through record_all's
    transaction; a writer changing the row meanwhile makes it match nothing (PostgreSQL
    checks the condition again on the row it waited for)."""
    report = arrival.report
    return bool(
        ConnectorStatus.objects.filter(
            charge_point=arrival.charge_point,
            ocpp_evse_id=report.ocpp_evse_id,
            connector_id=report.connector_id,
            status=report.status,
            reported_at__lte=report.reported_at,
        ).update(**_values(report, arrival.received_at))
    )


def _same_report(row: ConnectorStatus, inserted: ConnectorStatus) -> bool:
    """Whether `row` holds what lock_rows inserted. Another writer's row would hold a report
    received at another moment (received_at is our clock's, to the microsecond)."""
    return all(getattr(row, name) == getattr(inserted, name) for name in _VALUES)


_VALUES = ("status", "error_code", "info", "vendor_error_code", "reported_at", "received_at")


def _values(report: Report, received_at: datetime) -> dict[str, object]:
    return {
        "status": report.status,
        "error_code": report.error_code,
        "info": report.info,
        "vendor_error_code": report.vendor_error_code,
        "reported_at": report.reported_at,
        "received_at": received_at,
    }


class _Batch:
    """Reports of some charge points applied in one transaction: their connector rows, locked
    and read once (the first report), kept up to date in memory and written at the end;
    their EVSE links and reservations read once when needed; the EVSE statuses to set, set
    together (evses_set_status) by `write`."""

    def __init__(self, charge_points: Sequence[ChargePoint]) -> None:
        self._charge_points = {charge_point.pk for charge_point in charge_points}
        self._rows: dict[int, dict[tuple[int, int], ConnectorStatus]] | None = None
        # Rows this batch inserted with their connector's first report (lock_rows): moved to
        # _rows when that report is applied.
        self._created: dict[tuple[int, int, int], ConnectorStatus] = {}
        self._dirty: dict[int, ConnectorStatus] = {}
        self._links: dict[int, list[ChargePointEvse]] | None = None
        self._reserved: dict[int, set[int]] | None = None
        self._wanted: dict[int, tuple[EVSE, Status]] = {}

    def apply(self, arrival: Arrival) -> str | None:
        """Keep the report unless older than its connector's last; `record`'s answer."""
        charge_point, report = arrival.charge_point, arrival.report
        rows = self._rows_of(charge_point)
        key = (report.ocpp_evse_id, report.connector_id)
        values = _values(report, arrival.received_at)
        row = rows.get(key)
        if row is None:  # its first report: lock_rows inserted its row with it
            rows[key] = self._created.pop((charge_point.pk, *key))
            self._changed(charge_point, report, None)
            return None
        if report.reported_at < row.reported_at:
            logger.info(
                "Charge point %s OCPP %s/%s: %s of %s is older than the %s applied (%s)",
                charge_point.identity,
                report.ocpp_evse_id,
                report.connector_id,
                report.status,
                report.reported_at.isoformat(),
                row.status,
                row.reported_at.isoformat(),
            )
            return None
        previous = row.status
        for name, value in values.items():
            setattr(row, name, value)
        self._dirty[row.pk] = row
        self._changed(charge_point, report, previous)
        return previous

    def lock_rows(self, arrivals: Sequence[Arrival]) -> None:
        """Lock and read the connector rows of the batch's charge points (one statement), and
        make those its reports need that do not exist yet, each with its first report: one
        INSERT for all of them that leaves alone a row another writer made meanwhile (ON
        CONFLICT DO NOTHING), one statement to lock and read them. A row another writer made
        is then an existing row (its report applied, or older and not), as it was when
        get_or_create found it."""
        missing: dict[tuple[int, int, int], ConnectorStatus] = {}
        for arrival in arrivals:
            report = arrival.report
            key = (report.ocpp_evse_id, report.connector_id)
            if key in self._rows_of(arrival.charge_point):
                continue
            missing.setdefault(
                (arrival.charge_point.pk, *key),
                ConnectorStatus(
                    charge_point=arrival.charge_point,
                    ocpp_evse_id=report.ocpp_evse_id,
                    connector_id=report.connector_id,
                    **_values(report, arrival.received_at),
                ),
            )
        if not missing:
            return
        ConnectorStatus.objects.bulk_create(
            [missing[key] for key in sorted(missing)], ignore_conflicts=True
        )
        rows = self._rows_of_all()
        for row in (
            ConnectorStatus.objects.select_for_update()
            .filter(charge_point_id__in={charge_point_id for charge_point_id, *_ in missing})
            .order_by("charge_point_id", "ocpp_evse_id", "connector_id")
        ):
            key = (row.ocpp_evse_id, row.connector_id)
            if key in rows[row.charge_point_id]:
                continue
            ours = missing.get((row.charge_point_id, *key))
            if ours is not None and _same_report(row, ours):
                self._created[(row.charge_point_id, *key)] = row
            else:
                rows[row.charge_point_id][key] = row

    def restore(self, charge_point: ChargePoint) -> None:
        """Every EVSE of it to the status its reports give."""
        for link in self.links(charge_point):
            self.want(link.evse, self._status_of(charge_point, link.ocpp_evse_id))

    def want(self, evse: EVSE, status: Status) -> None:
        if evse.status not in OPERATOR_STATUSES:
            self._wanted[evse.pk] = (evse, status)

    def write(self) -> None:
        """The connector rows changed (one UPDATE), the EVSEs to set."""
        update_rows(list(self._dirty.values()), _VALUES)
        if self._wanted:
            evses_set_status(changes=list(self._wanted.values()))

    def links(self, charge_point: ChargePoint) -> list[ChargePointEvse]:
        """Its EVSE links, by location (read for every charge point of the batch at once)."""
        if self._links is None:
            self._links = defaultdict(list)
            for link in (
                ChargePointEvse.objects.filter(charge_point_id__in=self._charge_points)
                .select_related("evse")
                .only("charge_point", *_LINK_FIELDS)
                .order_by("evse__location_id", "ocpp_evse_id")
            ):
                self._links[link.charge_point_id].append(link)
        return self._links[charge_point.pk]

    def _rows_of(self, charge_point: ChargePoint) -> dict[tuple[int, int], ConnectorStatus]:
        """Its connector rows by (OCPP EVSE id, connector id), locked: those of every charge
        point of the batch in one statement, in one order."""
        return self._rows_of_all()[charge_point.pk]

    def _rows_of_all(self) -> dict[int, dict[tuple[int, int], ConnectorStatus]]:
        if self._rows is None:
            self._rows = defaultdict(dict)
            for row in (
                ConnectorStatus.objects.select_for_update()
                .filter(charge_point_id__in=self._charge_points)
                .order_by("charge_point_id", "ocpp_evse_id", "connector_id")
            ):
                self._rows[row.charge_point_id][(row.ocpp_evse_id, row.connector_id)] = row
        return self._rows

    def _changed(self, charge_point: ChargePoint, report: Report, previous: str | None) -> None:
        """The EVSEs whose status the report may change: none when it repeats the last."""
        if report.status == previous:
            return
        if report.ocpp_evse_id == WHOLE:
            whole = self._reports(charge_point).get(WHOLE, [])
            others = list(whole)
            others.remove(report.status)
            before = combined(others if previous is None else [*others, previous])
            after = combined(whole)
            if before != after and WHOLE_OVERRIDES & {before, after}:
                self.restore(charge_point)
            return
        link = next(
            (link for link in self.links(charge_point) if link.ocpp_evse_id == report.ocpp_evse_id),
            None,
        )
        if link is None:
            logger.warning(
                "Charge point %s reported %s for OCPP %s/%s, which is none of our EVSEs: "
                "kept, not applied",
                charge_point.identity,
                report.status,
                report.ocpp_evse_id,
                report.connector_id,
            )
            return
        self.want(link.evse, self._status_of(charge_point, report.ocpp_evse_id))

    def _status_of(self, charge_point: ChargePoint, ocpp_evse_id: int) -> Status:
        """An EVSE's status from its connectors' and the whole charge point's last reports;
        RESERVED instead of AVAILABLE while an accepted reservation holds it."""
        reports = self._reports(charge_point)
        status = evse_status(
            combined(reports.get(ocpp_evse_id, ())), combined(reports.get(WHOLE, ()))
        )
        if status == Status.AVAILABLE and ocpp_evse_id in self._reserved_of(charge_point):
            return Status.RESERVED
        return status

    def _reports(self, charge_point: ChargePoint) -> dict[int, list[str]]:
        """The last reported statuses of its connectors, by OCPP EVSE id."""
        reports: dict[int, list[str]] = defaultdict(list)
        for (ocpp_evse_id, _), row in self._rows_of(charge_point).items():
            reports[ocpp_evse_id].append(row.status)
        return reports

    def _reserved_of(self, charge_point: ChargePoint) -> set[int]:
        """Its OCPP EVSE ids held by an accepted reservation."""
        if self._reserved is None:
            self._reserved = defaultdict(set)
            for charge_point_id, ocpp_evse_id in (
                Reservation.objects.filter(
                    charge_point_id__in=self._charge_points, state=ReservationState.ACTIVE
                )
                .order_by()
                .values_list("charge_point_id", "ocpp_evse_id")
            ):
                self._reserved[charge_point_id].add(ocpp_evse_id)
        return self._reserved[charge_point.pk]
