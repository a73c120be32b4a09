"""A small estate with known figures for the dashboard's tests (and the browser test)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cdrs.models import Cdr
from chargers.models import ChargePoint
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from monitoring.models import Alert, AlertRule
from ocpi.time import now
from push.models import Change, Delivery, DeliveryStatus
from sessions.models import Session, SessionStatus
from tests.cdrs.conftest import cdr_location, create_location
from tests.partners import only_local_party, registered_emsp
from tokens.models import PullStatus, TokenPull

# The clock of every test: a Sunday noon in March (UTC, the admin's time zone).
MOMENT = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def at(day: str, time: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}:00+00:00")


def add_evse(location: Location, uid: str, status: str) -> EVSE:
    return EVSE.objects.create(location=location, uid=uid, status=status, last_updated=MOMENT)


def add_session(
    location: Location, ocpi_id: str, start: datetime, kwh: str, status: str = "COMPLETED"
) -> Session:
    evse = location.evses.order_by("pk").first()
    return Session.objects.create(
        country_code="BE",
        party_id="BEC",
        ocpi_id=ocpi_id,
        start_date_time=start,
        end_date_time=None if status == SessionStatus.ACTIVE else start + timedelta(hours=1),
        kwh=Decimal(kwh),
        token_country_code="DE",
        token_party_id="MSP",
        token_uid="012345678",
        token_type="RFID",
        contract_id="DE8ACC12E46L89",
        auth_method="WHITELIST",
        location=location,
        evse=evse,
        currency="EUR",
        status=status,
        last_updated=now(),  # when written, as every service writes it: what the kept figures watch
        cdr_location=cdr_location(),
        time_zone="Europe/Brussels",
    )


def add_cdr(ocpi_id: str, end: datetime, total: str, currency: str = "EUR", **fields: Any) -> Cdr:
    """A CDR at LOC1 for DE*MSP's driver; `fields` override any of that."""
    values: dict[str, Any] = {
        "country_code": "BE",
        "party_id": "BEC",
        "ocpi_id": ocpi_id,
        "start_date_time": end - timedelta(hours=1),
        "end_date_time": end,
        "token_country_code": "DE",
        "token_party_id": "MSP",
        "token_uid": "012345678",
        "token_type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "auth_method": "WHITELIST",
        "cdr_location": cdr_location(),
        "currency": currency,
        "charging_periods": [],
        "total_cost_excl_vat": Decimal(total),
        "total_energy": Decimal("10"),
        "total_time": Decimal("1"),
        "last_updated": now(),  # when written, as cdrs.services writes it
    }
    return Cdr.objects.create(**{**values, **fields})


def add_delivery(partner: PartnerPlatform, status: str, queued: datetime, key: str) -> Delivery:
    change = Change.objects.create(
        module="locations",
        method="PATCH",
        object_key=key,
        path=["BE", "BEC", key],
        payload={"status": "AVAILABLE"},
        owner_country_code="BE",
        owner_party_id="BEC",
    )
    delivery = Delivery.objects.create(
        change=change,
        partner=partner,
        to_country_code="DE",
        to_party_id="MSP",
        queue_key=key,
        status=status,
        next_attempt_at=queued,
        last_error="HTTP 503, OCPI 3000: down" if status == DeliveryStatus.FAILED else "",
    )
    Delivery.objects.filter(pk=delivery.pk).update(created_at=queued)  # auto_now_add
    return delivery


def add_pull(partner: PartnerPlatform, status: str, started: datetime, error: str = "") -> None:
    TokenPull.objects.create(
        partner=partner,
        full=True,
        status=status,
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        error=error,
    )


def build_estate() -> dict[str, Any]:
    """EVSEs: 1 AVAILABLE, 2 CHARGING, 1 OUTOFORDER, 1 REMOVED. Charge points: 1 online, 2
    offline. Sessions: 2 charged today (15.75 kWh), 3 this month (35.75 kWh), 1 active.
    Revenue: EUR 10.50 today, 14.75 this month (a credited CDR nets to nothing); CHF 7.00.
    Partners: Alpha with 3 open deliveries (oldest queued 10:00), 1 failed, its queue alerted
    as stuck; Beta none, its failed pull's alert cleared."""
    only_local_party()
    location = create_location()  # EVSE 3256, AVAILABLE
    add_evse(location, "C1", "CHARGING")
    add_evse(location, "C2", "CHARGING")
    add_evse(location, "X1", "OUTOFORDER")
    add_evse(location, "R1", "REMOVED")
    ChargePoint.objects.create(identity="CP-ONLINE", gateway="gateway-1")
    ChargePoint.objects.create(identity="CP-OFF-1")
    ChargePoint.objects.create(identity="CP-OFF-2")

    add_session(location, "TODAY-1", at("2026-03-15", "08:00"), "12.5")
    add_session(location, "TODAY-2", at("2026-03-15", "11:00"), "3.25", SessionStatus.ACTIVE)
    add_session(location, "TODAY-INVALID", at("2026-03-15", "09:00"), "99", "INVALID")
    add_session(location, "TODAY-RESERVED", at("2026-03-15", "09:30"), "0", "RESERVATION")
    add_session(location, "MONTH-1", at("2026-03-02"), "20")
    add_session(location, "LAST-MONTH", at("2026-02-20"), "7")
    add_session(location, "LONG-AGO", at("2026-01-01"), "50")

    add_cdr("CDR-TODAY", at("2026-03-15", "09:00"), "10.50")
    credited = add_cdr("CDR-CREDITED", at("2026-03-02"), "20.00")
    add_cdr(
        "CDR-CREDITED-C",
        at("2026-03-02"),
        "-20.00",
        credit=True,
        original=credited,
        credit_reference_id="CDR-CREDITED",
    )
    add_cdr("CDR-MONTH", at("2026-03-10"), "4.25")
    add_cdr("CDR-CHF", at("2026-03-15", "10:00"), "7.00", currency="CHF")
    add_cdr("CDR-LAST-MONTH", at("2026-02-27"), "100.00")

    alpha = registered_emsp("Alpha", "alpha-token", ("DE", "MSP"))
    beta = registered_emsp("Beta", "beta-token", ("NL", "BET"))
    add_delivery(alpha, DeliveryStatus.PENDING, at("2026-03-15", "10:00"), "a")
    add_delivery(alpha, DeliveryStatus.PENDING, at("2026-03-15", "11:00"), "b")
    add_delivery(alpha, DeliveryStatus.IN_FLIGHT, at("2026-03-15", "11:30"), "c")
    failed = add_delivery(alpha, DeliveryStatus.FAILED, at("2026-03-14"), "d")
    add_delivery(alpha, DeliveryStatus.DELIVERED, at("2026-03-13"), "e")
    add_pull(alpha, PullStatus.SUCCEEDED, at("2026-03-14", "06:00"))
    add_pull(alpha, PullStatus.SUCCEEDED, at("2026-03-15", "06:00"))
    add_pull(beta, PullStatus.FAILED, at("2026-03-15", "07:00"), "HTTP 500 from the tokens module")
    Alert.objects.create(
        rule=AlertRule.QUEUE_STUCK, partner=alpha, message="3 waiting", started_at=MOMENT
    )
    Alert.objects.create(  # over
        rule=AlertRule.PULL_FAILED,
        partner=beta,
        message="pull failed",
        started_at=at("2026-03-15", "07:00"),
        cleared_at=at("2026-03-15", "08:00"),
    )
    return {"location": location, "alpha": alpha, "beta": beta, "failed": failed}
