"""Test data of the reservation tests (chargers.reservations): the estate of
transactions_setup (LOC1: EVSE 3256 = OCPP 1, 3257 = OCPP 2; eMSP A is DE*TNM), the OCPI
Token a RESERVE_NOW carries, and a charge point's answer to a call played into its row."""

from datetime import timedelta
from typing import Any

from chargers import reservations
from chargers.models import CallState, ChargePoint, ChargePointCall, Reservation
from locations.models import EVSE
from ocpi.routing import PartyRef
from ocpi.time import now
from tests.chargers.transactions_setup import charge_point
from tests.tokens.conftest import token_payload

EMSP_A = PartyRef.of("DE", "TNM")
EMSP_B = PartyRef.of("NL", "TNM")
APP_TOKEN = "APP-TOKEN-1"  # not in our cache: only ever seen in the command


def command_token(uid: str = APP_TOKEN, party: PartyRef = EMSP_A, **fields: Any) -> dict[str, Any]:
    """The Token of a RESERVE_NOW as the commands module passes it (validated OCPI Token)."""
    payload = token_payload(uid, country_code=party.country_code, party_id=party.party_id)
    payload.update(fields)
    return payload


def online(identity: str, version: str) -> ChargePoint:
    """A charge point carrying EVSEs 3256 and 3257, held by a gateway (so calls are queued)."""
    point = charge_point(identity, version)
    point.gateway, point.connected_version = "gw-test", version
    point.save(update_fields=["gateway", "connected_version"])
    return point


def reserve(
    evse_uid: str = "3256",
    *,
    reservation_id: str = "RES-1",
    party: PartyRef = EMSP_A,
    minutes: int = 30,
    uid: str = APP_TOKEN,
    **options: Any,
) -> Reservation:
    return reservations.reserve(
        evse=EVSE.objects.get(uid=evse_uid),
        token=command_token(uid, party),
        reservation_id=reservation_id,
        party=party,
        expiry_date=now() + timedelta(minutes=minutes),
        **options,
    )


def answer(
    call: ChargePointCall | None,
    response: dict[str, Any] | None = None,
    *,
    state: str = CallState.ANSWERED,
    **fields: Any,
) -> Reservation | None:
    """The charge point answered `call` (state, response): the follow-up applies it."""
    assert call is not None
    ChargePointCall.objects.filter(pk=call.pk).update(
        state=state, response=response, finished_at=now(), **fields
    )
    return reservations.answered(ChargePointCall.objects.get(pk=call.pk))


def accepted(reservation: Reservation) -> Reservation:
    answered = answer(reservation.call, {"status": "Accepted"})
    assert answered is not None
    return answered
