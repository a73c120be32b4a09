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
from collections.abc import Iterable
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
from locations.services import evse_set_status

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

# What _set reads of a link's EVSE (evse_set_status reads it again under its location's
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


def record(*, charge_point: ChargePoint, report: Report, received_at: datetime) -> str | None:
    """Keep `report` as its connector's last and set the EVSEs it changes: one transaction with
    their PATCHes. A report of a connector we do not map is kept and logged, never refused: a
    refused StatusNotification would be sent again and again. Returns the connector's status
    before (None: its first report, or this one was not applied)."""
    if not (0 <= report.ocpp_evse_id <= _MAX_ID and 0 <= report.connector_id <= _MAX_ID):
        logger.warning(
            "Charge point %s reported %s for impossible OCPP ids %s/%s: ignored",
            charge_point.identity,
            report.status,
            report.ocpp_evse_id,
            report.connector_id,
        )
        return None
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
    if _repeated(charge_point, report, received_at):
        return report.status
    with transaction.atomic():
        row, created = ConnectorStatus.objects.select_for_update().get_or_create(
            charge_point=charge_point,
            ocpp_evse_id=report.ocpp_evse_id,
            connector_id=report.connector_id,
            defaults=_values(report, received_at),
        )
        previous = None if created else row.status
        if not created:
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
            values = _values(report, received_at)
            for name, value in values.items():
                setattr(row, name, value)
            row.save(update_fields=list(values))
        _apply(charge_point, report, previous)
    return previous


def restore(charge_point: ChargePoint) -> None:
    """Set every EVSE of `charge_point` to the status its reports give (back from offline)."""
    _restore(charge_point, _reports_by_evse(charge_point))


def refresh(charge_point: ChargePoint) -> None:
    """Derive its EVSEs' statuses again (a reservation began or ended), unless the charge
    point is marked offline: its EVSEs stay UNKNOWN until it is back (restore)."""
    offline = ChargePoint.objects.filter(pk=charge_point.pk, offline_marked=True).exists()
    if not offline:
        restore(charge_point)


def mark_unknown(charge_point: ChargePoint) -> None:
    """Set every EVSE of `charge_point` UNKNOWN ("also used when offline", mod_locations)."""
    for link in _links(charge_point):
        _set(link.evse, Status.UNKNOWN)


def _repeated(charge_point: ChargePoint, report: Report, received_at: datetime) -> bool:
    """Keep `report` if it repeats its connector's last status, not older: one UPDATE, no
    transaction, no EVSE to set (_apply would change none). Most StatusNotifications are
    such (a charge point reconnecting reports every connector again). Conditional, so that a
    report older than the last, a new status, or a first report goes through `record`'s
    transaction; a writer changing the row meanwhile makes it match nothing (PostgreSQL
    checks the condition again on the row it waited for)."""
    return bool(
        ConnectorStatus.objects.filter(
            charge_point=charge_point,
            ocpp_evse_id=report.ocpp_evse_id,
            connector_id=report.connector_id,
            status=report.status,
            reported_at__lte=report.reported_at,
        ).update(**_values(report, received_at))
    )


def _values(report: Report, received_at: datetime) -> dict[str, object]:
    return {
        "status": report.status,
        "error_code": report.error_code,
        "info": report.info,
        "vendor_error_code": report.vendor_error_code,
        "reported_at": report.reported_at,
        "received_at": received_at,
    }


def _apply(charge_point: ChargePoint, report: Report, previous: str | None) -> None:
    """Set the EVSEs whose status the report may change: none when it repeats the last (a
    charge point reconnecting reports every connector again, mostly unchanged)."""
    if report.status == previous:
        return
    reports = _reports_by_evse(charge_point)
    if report.ocpp_evse_id == WHOLE:
        others = list(reports[WHOLE])
        others.remove(report.status)
        before = combined(others if previous is None else [*others, previous])
        after = combined(reports[WHOLE])
        if before != after and WHOLE_OVERRIDES & {before, after}:
            _restore(charge_point, reports)
        return
    link = (
        ChargePointEvse.objects.filter(charge_point=charge_point, ocpp_evse_id=report.ocpp_evse_id)
        .select_related("evse")
        .only(*_LINK_FIELDS)
        .first()
    )
    if link is None:
        logger.warning(
            "Charge point %s reported %s for OCPP %s/%s, which is none of our EVSEs: kept, "
            "not applied",
            charge_point.identity,
            report.status,
            report.ocpp_evse_id,
            report.connector_id,
        )
        return
    status = _status_of(reports, report.ocpp_evse_id)
    if status == Status.AVAILABLE and report.ocpp_evse_id in _reserved(charge_point):
        status = Status.RESERVED
    _set(link.evse, status)


def _restore(charge_point: ChargePoint, reports: dict[int, list[str]]) -> None:
    reserved = _reserved(charge_point)
    for link in _links(charge_point):
        status = _status_of(reports, link.ocpp_evse_id)
        if status == Status.AVAILABLE and link.ocpp_evse_id in reserved:
            status = Status.RESERVED
        _set(link.evse, status)


def _reserved(charge_point: ChargePoint) -> frozenset[int]:
    """Its OCPP EVSE ids held by an accepted reservation."""
    return frozenset(
        Reservation.objects.filter(charge_point=charge_point, state=ReservationState.ACTIVE)
        .order_by()
        .values_list("ocpp_evse_id", flat=True)
    )


def _reports_by_evse(charge_point: ChargePoint) -> dict[int, list[str]]:
    """The last reported statuses of its connectors, by OCPP EVSE id."""
    reports: dict[int, list[str]] = defaultdict(list)
    # No order: the model's default (by charge point) would join chargers_chargepoint for it.
    rows = (
        ConnectorStatus.objects.filter(charge_point=charge_point)
        .order_by()
        .values_list("ocpp_evse_id", "status")
    )
    for ocpp_evse_id, status in rows:
        reports[ocpp_evse_id].append(status)
    return reports


def _status_of(reports: dict[int, list[str]], ocpp_evse_id: int) -> Status:
    return evse_status(combined(reports.get(ocpp_evse_id, ())), combined(reports.get(WHOLE, ())))


def _links(charge_point: ChargePoint) -> list[ChargePointEvse]:
    """Its EVSEs, by location: writers of several locations lock them in one order."""
    return list(
        ChargePointEvse.objects.filter(charge_point=charge_point)
        .select_related("evse")
        .only(*_LINK_FIELDS)
        .order_by("evse__location_id", "ocpp_evse_id")
    )


def _set(evse: EVSE, status: Status) -> None:
    if evse.status in OPERATOR_STATUSES:
        return
    evse_set_status(evse=evse, status=status)
