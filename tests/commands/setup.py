"""Test data of the commands tests: our estate (tests/chargers/transactions_setup.py: BE*BEC's
LOC1, EVSEs 3256 and 3257 on a charge point of each OCPP version), eMSP A (DE*TNM) calling
us, eMSP B (NL*OTH) beside it, and the commands they send."""

from typing import Any

from chargers.gateway.outgoing import _finish
from chargers.models import CallState, ChargePoint, ChargePointCall
from commands.models import Command
from push.models import Delivery
from tests.chargers import transactions_setup as tx
from tests.conftest import client_for
from tests.partners import registered_emsp

URL = "/ocpi/cpo/2.2.1/commands"
RESULTS = "https://emsp.example.com/ocpi/emsp/2.2.1/commands"
EMSP_A_TOKEN = "emsp-a-token"  # noqa: S105 (a test partner's token)
EMSP_B_TOKEN = "emsp-b-token"  # noqa: S105
APP_UID = "APP-USER-1"


def estate() -> None:
    tx.estate()
    tx.emsp()
    registered_emsp("EmspB", EMSP_B_TOKEN, ("NL", "OTH"))


def online(identity: str, version: str) -> ChargePoint:
    """A charge point carrying EVSEs 3256 (OCPP id 1) and 3257 (2), connected."""
    point = tx.charge_point(identity, version)
    ChargePoint.objects.filter(pk=point.pk).update(connected_version=version, gateway="gw-test")
    return ChargePoint.objects.get(pk=point.pk)


def ocpi_token(uid: str = APP_UID, party: tuple[str, str] = ("DE", "TNM"), **fields: Any) -> dict:
    token = {
        "country_code": party[0],
        "party_id": party[1],
        "uid": uid,
        "type": "APP_USER",
        "contract_id": f"{party[0]}-{party[1]}-C{uid}"[:36],
        "issuer": "eMSP A",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-03-01T00:00:00Z",
    }
    token.update(fields)
    return token


def start_session(n: int = 1, **fields: Any) -> dict:
    body = {
        "response_url": f"{RESULTS}/START_SESSION/{n}",
        "token": ocpi_token(),
        "location_id": "LOC1",
        "evse_uid": "3256",
        "authorization_reference": f"AUTH-{n}",
    }
    body.update(fields)
    return body


def post(command: str, body: Any, token: str = EMSP_A_TOKEN) -> Any:
    """The eMSP's POST (a test client's response: .json() is its body)."""
    return client_for(token).post(f"{URL}/{command}", body, format="json")


def answer(call: ChargePointCall, **fields: Any) -> None:
    """The charge point's answer as the gateway records it (the follow-up runs on commit)."""
    fields.setdefault("state", CallState.ANSWERED)
    _finish(str(call.pk), CallState(ChargePointCall.objects.get(pk=call.pk).state), **fields)


def results(url: str) -> list[Any]:
    """What was queued to `url`, in order."""
    return [
        d.change.payload
        for d in Delivery.objects.select_related("change").filter(change__url=url).order_by("pk")
    ]


def the_command() -> Command:
    return Command.objects.select_related("call").get()
