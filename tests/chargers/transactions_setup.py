"""Test data of the Authorize and transaction tests, and calling a handler as the gateway does.

Our CPO party BE*BEC runs the spec's location LOC1 (tests/sessions/conftest.py): EVSE 3256
(connector 1 priced by tariff 11: FLAT 0.50, ENERGY 0.25/kWh, PARKING 2.00/h; connector 2 by
tariff 13) and EVSE 3257 (connector 1, tariff 12). A charge point of each OCPP version carries
them as OCPP connector / EVSE 1 (3256) and 2 (3257). eMSP A (DE*TNM) has sessions and cdrs
Receivers, and its tokens Sender on a fake eMSP when a test asks in real time.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ocpp.messages import get_validator

from cdrs.models import Cdr
from chargers.handlers import Context, Payload, handler_for
from chargers.models import ChargePoint, ChargePointEvse, ChargerTransaction
from credentials.models import PartnerPlatform
from locations.models import EVSE
from push.models import Change
from sessions.models import Session
from tests.examples import upsert_location, upsert_tariff
from tests.partners import only_local_party, registered_emsp
from tests.sessions.conftest import TARIFFS, location_payload, tariff_payload
from tests.tokens.conftest import cache_token
from tokens.models import Token

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Brussels
MINUTE = timedelta(minutes=1)
TOKEN_UID = "TOKEN1"
EMSP_URL = "https://emsp.example.com/ocpi/emsp/2.2.1"


def estate() -> None:
    """Our party BE*BEC, tariffs 11-13 and LOC1."""
    only_local_party()
    for tariff_id, name in TARIFFS.items():
        upsert_tariff(tariff_payload(tariff_id, name))
    upsert_location(location_payload())


def emsp(tokens_url: str | None = None) -> PartnerPlatform:
    """eMSP A (DE*TNM): sessions and cdrs Receivers, a tokens Sender at `tokens_url`."""
    endpoints = [
        ("sessions", "RECEIVER", f"{EMSP_URL}/sessions"),
        ("cdrs", "RECEIVER", f"{EMSP_URL}/cdrs"),
    ]
    if tokens_url is not None:
        endpoints.append(("tokens", "SENDER", tokens_url))
    return registered_emsp("EmspA", "emsp-a-token", ("DE", "TNM"), endpoints=tuple(endpoints))


def token(uid: str = TOKEN_UID, **overrides: Any) -> Token:
    """DE*TNM's RFID token `uid` in our cache (whitelist ALLOWED, valid: decided by the cache)."""
    return cache_token(uid, **overrides)


def charge_point(identity: str, version: str, *, mapped: bool = True) -> ChargePoint:
    """A charge point carrying EVSEs 3256 and 3257 (`mapped`), else none."""
    point = ChargePoint.objects.create(identity=identity, ocpp_version=version)
    for ocpp_id, uid in ((1, "3256"), (2, "3257")) if mapped else ():
        ChargePointEvse.objects.create(
            charge_point=point, ocpp_evse_id=ocpp_id, evse=EVSE.objects.get(uid=uid)
        )
    return point


def call(
    point: ChargePoint, action: str, payload: Payload, received_at: datetime | None = None
) -> Payload:
    """The handler of `action`, called as the gateway calls it (the payload checked against
    the library's request schema first); its answer checked against the response schema."""
    version = point.ocpp_version
    get_validator(2, action, version).validate(payload)
    handler = handler_for(version, action)
    assert handler is not None
    context = Context(
        charge_point=ChargePoint.objects.get(pk=point.pk),
        version=version,
        received_at=received_at or datetime.now(UTC),
        unique_id="test",
    )
    answer = handler(context, payload)
    get_validator(3, action, version).validate(answer)
    return answer


def start_16_payload(at: datetime, meter_start: int) -> dict[str, Any]:
    """A 1.6 StartTransaction of TOKEN_UID on connector 1."""
    return {
        "connectorId": 1,
        "idTag": TOKEN_UID,
        "meterStart": meter_start,
        "timestamp": stamp(at),
    }


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- what came out ----------------------------------------------------------------------------


def session_of(transaction: ChargerTransaction) -> Session:
    transaction.refresh_from_db()
    assert transaction.session is not None
    return transaction.session


def periods(session: Session) -> list[tuple[datetime, dict[str, Decimal]]]:
    return [
        (period.start_date_time, {d["type"]: Decimal(d["volume"]) for d in period.dimensions})
        for period in session.charging_periods.order_by("position")
    ]


def pushes(module: str) -> list[tuple[str, Mapping[str, Any]]]:
    """(method, payload) of the outbox's changes of `module`, in order."""
    return [
        (change.method, change.payload or {})
        for change in Change.objects.filter(module=module).order_by("pk")
    ]


def cdr_of(session: Session) -> Cdr:
    return Cdr.objects.get(charging_session=session)


# --- OCPP payloads ------------------------------------------------------------------------------


def sampled_16(
    wh: Decimal | int | str, *, unit: str = "Wh", power_w: int | None = None, **fields: str
) -> list[dict[str, str]]:
    values = [{"value": str(wh), "unit": unit, "measurand": "Energy.Active.Import.Register"}]
    values[0].update(fields)
    if power_w is not None:
        values.append({"value": str(power_w), "unit": "W", "measurand": "Power.Active.Import"})
    return values


def meter_value_16(at: datetime, wh: Decimal | int | str, **kwargs: Any) -> dict[str, Any]:
    return {"timestamp": stamp(at), "sampledValue": sampled_16(wh, **kwargs)}


def meter_value_201(
    at: datetime, wh: int | float, *, context: str | None = None, power_w: int | None = None
) -> dict[str, Any]:
    energy: dict[str, Any] = {
        "value": wh,
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"},
    }
    if context is not None:
        energy["context"] = context
    values = [energy]
    if power_w is not None:
        values.append(
            {"value": power_w, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}
        )
    return {"timestamp": stamp(at), "sampledValue": values}


def transaction_event(
    event_type: str,
    seq_no: int,
    at: datetime,
    *,
    transaction_id: str = "TX-1",
    trigger: str = "MeterValuePeriodic",
    charging_state: str | None = None,
    id_token: str | None = None,
    evse: int | None = None,
    meter: list[dict[str, Any]] | None = None,
    stopped_reason: str | None = None,
) -> dict[str, Any]:
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": stamp(at),
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
    }
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": "ISO14443"}
    if evse is not None:
        payload["evse"] = {"id": evse, "connectorId": 1}
    if meter is not None:
        payload["meterValue"] = meter
    return payload


def started_201(point: ChargePoint, transaction_id: str, uid: str = "TOKEN1") -> None:
    """A 2.0.1 charge point's transaction charging now on EVSE 1 for a cached token."""
    token(uid)
    call(
        point,
        "TransactionEvent",
        transaction_event(
            "Started",
            0,
            datetime.now(UTC),
            trigger="Authorized",
            charging_state="Charging",
            id_token=uid,
            evse=1,
            transaction_id=transaction_id,
        ),
    )
