"""Acting on a command received from an eMSP: checked, answered at once, sent on, once.

receive() stores the Command before anything else, under a unique key (eMSP party, command
type, response_url): the same command sent again (a retry after a lost answer) finds it and
gets the same CommandResponse, whatever happened since, and never reaches the charge point
twice; two sent at once are serialized by that key (the second's insert waits for the first
and fails).

What is answered at once, by us (CommandResponse), and what goes to the response_url:

| what                                   | CommandResponse (OCPI status) | CommandResult          |
|----------------------------------------|-------------------------------|------------------------|
| a location, EVSE or connector unknown  | REJECTED (2003)               | none                   |
| a token or session of another eMSP     | REJECTED / UNKNOWN_SESSION    | none                   |
| an EVSE on no charge point of ours     | NOT_SUPPORTED                 | none                   |
| a reservation that cannot be made      | REJECTED (expiry passed, …)   | none                   |
| no such reservation of the eMSP        | ACCEPTED                      | UNKNOWN_RESERVATION    |
| an EVSE in use / out of order          | ACCEPTED                      | EVSE_OCCUPIED / _INOP. |
| the charge point offline               | ACCEPTED                      | TIMEOUT, at once       |
| sent to the charge point               | ACCEPTED                      | its answer (results)   |

The announced timeout (OCPI_COMMAND_TIMEOUT_SECONDS) is the call's deadline plus
RESULT_MARGIN_SECONDS: an unanswered call is ended within the beat's round (15 s) after its
deadline, and its result queued at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chargers import calls, remote, reservations
from chargers.models import ChargePointEvse, ChargerTransaction, Reservation, ReservationEnd
from commands.models import (
    Command,
    CommandResponseType,
    CommandResultType,
    CommandState,
    CommandType,
)
from commands.results import FOLLOW_UP, finish
from commands.serializers import command_response
from credentials.routing import Route
from locations.models import EVSE, Capability, Connector, Location, Status
from locations.selectors import connector_get, evse_get
from ocpi.routing import PartyRef
from ocpi.status import OcpiStatus
from sessions.models import Session
from sessions.selectors import session_get

# Between a call's deadline and the announced timeout: the beat that ends unanswered calls
# (every 15 s) and the result's delivery.
RESULT_MARGIN_SECONDS = 20

EVSE_IN_USE = (Status.CHARGING, Status.BLOCKED)
EVSE_OUT_OF_ORDER = (Status.INOPERATIVE, Status.OUTOFORDER)
EVSE_GONE = (Status.REMOVED, Status.PLANNED)


def announced_timeout() -> int:
    return int(settings.OCPI_COMMAND_TIMEOUT_SECONDS)


def call_timeout() -> float:
    return float(max(announced_timeout() - RESULT_MARGIN_SECONDS, 1))


@dataclass(frozen=True)
class Received:
    """A command as validated, and who sent it to whom."""

    route: Route
    type: str
    data: dict[str, Any]
    body: dict[str, Any]  # as sent


class Answered(Exception):
    """The command is answered at once, with nothing sent to a charge point."""

    def __init__(self, result: str, message: str, status_code: int = OcpiStatus.SUCCESS) -> None:
        super().__init__(message)
        self.result = result
        self.message = message
        self.status_code = status_code


@dataclass
class Acting:
    """A command being acted on: its row, stored first."""

    command: Command
    received: Received

    @property
    def parties(self) -> list[PartyRef]:
        return self.received.route.receiver_parties()

    def at_once(self, result: str, message: str) -> None:
        """ACCEPTED, and the CommandResult queued now (nothing for a charge point to do)."""
        self.command.state = CommandState.DONE
        finish(self.command, result, message)

    def owned_by(self, owner: PartyRef) -> None:
        """Our party whose object the command is about: the result comes from it."""
        self.command.owner_country_code = owner.country_code
        self.command.owner_party_id = owner.party_id

    def sent(self, call: Any) -> None:
        self.command.call = call
        self.command.state = CommandState.WAITING


def caller_party(route: Route) -> PartyRef | None:
    """The eMSP party speaking: the OCPI-from party (when an eMSP), else the caller's only
    eMSP party; None when that says nothing (no eMSP role, or several and no headers)."""
    parties = route.emsp_parties()
    return parties[0] if len(parties) == 1 else None


def receive(received: Received, party: PartyRef) -> Command:
    """The command's row with its CommandResponse: the stored one when it came before, else
    acted on now (in one database transaction: the row, the call and any result)."""
    key = {
        "party_country_code": party.country_code,
        "party_party_id": party.party_id,
        "type": received.type,
        "response_url": received.data["response_url"],
    }
    found = Command.objects.filter(**key).first()
    if found is not None:
        return found
    owner = received.route.receiver_parties()[0]  # the object's own owner once it is found
    try:
        with transaction.atomic():
            command = Command.objects.create(
                **key,
                partner=received.route.partner,
                owner_country_code=owner.country_code,
                owner_party_id=owner.party_id,
                request=received.body,
                response={},
                state=CommandState.ANSWERED,
                received_at=timezone.now(),
            )
            _act(Acting(command, received))
            command.save()
            return command
    except IntegrityError:
        # The same command sent at once: the first one stored acts, this one reads its answer.
        first = Command.objects.filter(**key).first()
        if first is None:
            raise  # another constraint: not a retry
        return first


def _act(acting: Acting) -> None:
    command = acting.command
    try:
        ACTIONS[command.type](acting)
    except Answered as answer:
        command.state = CommandState.ANSWERED
        command.call = None
        command.response_status_code = answer.status_code
        command.response = command_response(answer.result, announced_timeout(), answer.message)
        return
    command.response = command_response(CommandResponseType.ACCEPTED, announced_timeout())


# --- START_SESSION --------------------------------------------------------------------------


def start_session(acting: Acting) -> None:
    data = acting.received.data
    location = _location(acting, data["location_id"])
    acting.owned_by(PartyRef.of(location.country_code, location.party_id))
    evse, link = _startable(acting, location, data.get("evse_uid"), data.get("connector_id"))
    if evse is not None and _evse_unusable(acting, evse):
        return
    charge_point = link.charge_point
    if not charge_point.online:
        acting.at_once(CommandResultType.TIMEOUT, f"Charge point {charge_point} is offline")
        return
    token = data["token"]
    request = remote.StartRequest(
        charge_point=charge_point,
        ocpp_evse_id=link.ocpp_evse_id if evse is not None else None,
        token={
            "country_code": token["country_code"],
            "party_id": token["party_id"],
            "uid": token["uid"],
            "type": token["type"],
            "contract_id": token["contract_id"],
        },
        location_id=location.ocpi_id,
        evse_uid=evse.uid if evse is not None else None,
        authorization_reference=data.get("authorization_reference") or "",
        requested_by=f"START_SESSION {acting.command.party_country_code}*"
        f"{acting.command.party_party_id}",
    )
    try:
        started = remote.start(request, timeout=call_timeout(), follow_up=FOLLOW_UP)
    except calls.ChargePointOffline:
        acting.at_once(CommandResultType.TIMEOUT, f"Charge point {charge_point} is offline")
        return
    except calls.InvalidCall as exc:
        message = f"Cannot be sent to the charge point: {exc}"
        raise Answered(CommandResponseType.REJECTED, message) from exc
    acting.sent(started.call)


def _location(acting: Acting, location_id: str) -> Location:
    location = Location.objects.visible_to(acting.parties).identified(location_id).first()
    if location is None:
        raise Answered(
            CommandResponseType.REJECTED,
            f"Unknown location {location_id}",
            OcpiStatus.UNKNOWN_LOCATION,
        )
    return location


def _startable(
    acting: Acting, location: Location, evse_uid: str | None, connector_id: str | None
) -> tuple[EVSE | None, ChargePointEvse]:
    """The EVSE named (checked) and its charge point, or (no EVSE named) the one charge point
    of the location, which picks the EVSE itself."""
    if not evse_uid:
        links = list(
            ChargePointEvse.objects.filter(evse__location=location)
            .exclude(evse__status__in=EVSE_GONE)
            .select_related("charge_point")
        )
        if len({link.charge_point_id for link in links}) != 1:
            raise Answered(
                CommandResponseType.REJECTED,
                f"Location {location.ocpi_id} has several charge points (or none): name the EVSE",
            )
        return None, links[0]
    evse = evse_get(parties=acting.parties, location_id=location.ocpi_id, evse_uid=evse_uid)
    if evse is None or evse.status in EVSE_GONE:
        raise Answered(
            CommandResponseType.REJECTED, f"Unknown EVSE {evse_uid}", OcpiStatus.UNKNOWN_LOCATION
        )
    if connector_id and _connector(evse, connector_id) is None:
        raise Answered(
            CommandResponseType.REJECTED,
            f"Unknown connector {connector_id} of EVSE {evse.uid}",
            OcpiStatus.UNKNOWN_LOCATION,
        )
    if not connector_id and Capability.START_SESSION_CONNECTOR_REQUIRED in evse.capabilities:
        raise Answered(
            CommandResponseType.REJECTED, f"EVSE {evse.uid} needs the connector_id to start"
        )
    return evse, _link(evse)


def _connector(evse: EVSE, connector_id: str) -> Connector | None:
    return next(
        (c for c in evse.connectors.all() if c.ocpi_id.upper() == connector_id.upper()), None
    )


def _link(evse: EVSE) -> ChargePointEvse:
    link = ChargePointEvse.objects.filter(evse=evse).select_related("charge_point").first()
    if link is None:
        raise Answered(
            CommandResponseType.NOT_SUPPORTED,
            f"EVSE {evse.uid} is on no charge point this platform controls",
        )
    return link


def _evse_unusable(acting: Acting, evse: EVSE) -> bool:
    """Answered at once when the EVSE cannot start now: in use, or out of order."""
    if evse.status in EVSE_IN_USE:
        acting.at_once(CommandResultType.EVSE_OCCUPIED, f"EVSE {evse.uid} is {evse.status}")
        return True
    if evse.status in EVSE_OUT_OF_ORDER:
        acting.at_once(CommandResultType.EVSE_INOPERATIVE, f"EVSE {evse.uid} is {evse.status}")
        return True
    return False


# --- STOP_SESSION ---------------------------------------------------------------------------


def stop_session(acting: Acting) -> None:
    route = acting.received.route
    session_id = acting.received.data["session_id"]
    session = session_get(
        owners=acting.parties, token_parties=route.emsp_parties(), session_id=session_id
    )
    if session is None:
        raise Answered(CommandResponseType.UNKNOWN_SESSION, f"Unknown session {session_id}")
    acting.command.session = session
    acting.owned_by(session.party)
    if session.is_final:
        raise Answered(
            CommandResponseType.REJECTED, f"Session {session.ocpi_id} has ended ({session.status})"
        )
    tx = _transaction_of(session)
    if tx is None or tx.ended_at is not None:
        raise Answered(
            CommandResponseType.NOT_SUPPORTED,
            f"Session {session.ocpi_id} runs on no transaction this platform can stop",
        )
    try:
        call = remote.stop(
            tx,
            timeout=call_timeout(),
            requested_by=f"STOP_SESSION {acting.command.party_country_code}*"
            f"{acting.command.party_party_id}",
            follow_up=FOLLOW_UP,
        )
    except calls.ChargePointOffline:
        acting.at_once(CommandResultType.TIMEOUT, f"Charge point {tx.charge_point} is offline")
        return
    acting.sent(call)


def _transaction_of(session: Session) -> ChargerTransaction | None:
    return ChargerTransaction.objects.filter(session=session).select_related("charge_point").first()


# --- UNLOCK_CONNECTOR -----------------------------------------------------------------------


def unlock_connector(acting: Acting) -> None:
    data = acting.received.data
    connector = connector_get(
        parties=acting.parties,
        location_id=data["location_id"],
        evse_uid=data["evse_uid"],
        connector_id=data["connector_id"],
    )
    if connector is None:
        raise Answered(
            CommandResponseType.REJECTED,
            f"Unknown connector {data['location_id']}/{data['evse_uid']}/{data['connector_id']}",
            OcpiStatus.UNKNOWN_LOCATION,
        )
    evse = connector.evse
    acting.owned_by(PartyRef.of(evse.location.country_code, evse.location.party_id))
    link = _link(evse)
    # 2.0.1 connectorId k is the EVSE's k-th connector in id order (chargers.mapping).
    ordered = sorted(evse.connectors.all(), key=lambda c: (len(c.ocpi_id), c.ocpi_id))
    index = next(n for n, c in enumerate(ordered, start=1) if c.pk == connector.pk)
    try:
        call = remote.unlock(
            link.charge_point,
            link.ocpp_evse_id,
            index,
            timeout=call_timeout(),
            requested_by=f"UNLOCK_CONNECTOR {acting.command.party_country_code}*"
            f"{acting.command.party_party_id}",
            follow_up=FOLLOW_UP,
        )
    except calls.ChargePointOffline:
        acting.at_once(CommandResultType.TIMEOUT, f"Charge point {link.charge_point} is offline")
        return
    acting.sent(call)


# --- RESERVE_NOW and CANCEL_RESERVATION (chargers.reservations) -------------------------------


def reserve_now(acting: Acting) -> None:
    """A reservation of the EVSE named, else of an AVAILABLE one of the location; the same
    reservation_id again replaces it (chargers.reservations). The OCPP reservation id is ours,
    never the eMSP's."""
    data = acting.received.data
    location = _location(acting, data["location_id"])
    acting.owned_by(PartyRef.of(location.country_code, location.party_id))
    evse = _reservable(acting, location, data.get("evse_uid"))
    if _evse_unusable(acting, evse):
        return
    party = PartyRef.of(acting.command.party_country_code, acting.command.party_party_id)
    try:
        reservation = reservations.reserve(
            evse=evse,
            token=_reservation_token(data["token"]),
            reservation_id=data["reservation_id"],
            party=party,
            expiry_date=data["expiry_date"],
            authorization_reference=data.get("authorization_reference") or None,
            follow_up=FOLLOW_UP,
            requested_by=f"RESERVE_NOW {party}",
            timeout=call_timeout(),
        )
    except calls.ChargePointOffline as exc:
        acting.at_once(CommandResultType.TIMEOUT, str(exc))
        return
    except (reservations.ReservationRefused, calls.InvalidCall) as exc:
        raise Answered(CommandResponseType.REJECTED, str(exc)) from exc
    acting.sent(reservation.call)


def _reservation_token(token: dict[str, Any]) -> dict[str, Any]:
    """What a reservation keeps of the token (chargers.reservations): as JSON."""
    kept = ("country_code", "party_id", "uid", "type", "contract_id", "group_id")
    fields = {name: token[name] for name in kept if token.get(name)}
    if token.get("default_profile_type"):
        fields["default_profile_type"] = token["default_profile_type"]
    return fields


def _reservable(acting: Acting, location: Location, evse_uid: str | None) -> EVSE:
    if evse_uid:
        evse = evse_get(parties=acting.parties, location_id=location.ocpi_id, evse_uid=evse_uid)
        if evse is None or evse.status in EVSE_GONE:
            raise Answered(
                CommandResponseType.REJECTED,
                f"Unknown EVSE {evse_uid}",
                OcpiStatus.UNKNOWN_LOCATION,
            )
        _link(evse)
        return evse
    free = (
        EVSE.objects.filter(location=location, status=Status.AVAILABLE)
        .filter(charge_point_link__isnull=False)
        .select_related("location")
        .order_by("pk")
        .first()
    )
    if free is None:
        raise Answered(
            CommandResponseType.REJECTED, f"No EVSE of location {location.ocpi_id} is free"
        )
    return free


def cancel_reservation(acting: Acting) -> None:
    """The eMSP's own held reservation of that reservation_id (another eMSP's is never
    found: chargers.reservations scopes by party); unknown: UNKNOWN_RESERVATION at once."""
    command = acting.command
    reservation_id = acting.received.data["reservation_id"]
    reservation = (
        Reservation.objects.held()
        .by_reservation_id(command.party_country_code, command.party_party_id, reservation_id)
        .select_related("evse__location", "charge_point")
        .first()
    )
    if reservation is None:
        acting.at_once(CommandResultType.UNKNOWN_RESERVATION, f"No reservation {reservation_id}")
        return
    location = reservation.evse.location
    acting.owned_by(PartyRef.of(location.country_code, location.party_id))
    try:
        call = reservations.cancel(
            reservation,
            by=ReservationEnd.EMSP,
            follow_up=FOLLOW_UP,
            requested_by=f"CANCEL_RESERVATION {command.party_country_code}*"
            f"{command.party_party_id}",
            timeout=call_timeout(),
        )
    except calls.ChargePointOffline as exc:
        acting.at_once(CommandResultType.TIMEOUT, str(exc))
        return
    except reservations.ReservationRefused as exc:  # ended meanwhile
        acting.at_once(CommandResultType.UNKNOWN_RESERVATION, str(exc))
        return
    acting.sent(call)


ACTIONS: dict[str, Callable[[Acting], None]] = {
    CommandType.START_SESSION: start_session,
    CommandType.STOP_SESSION: stop_session,
    CommandType.UNLOCK_CONNECTOR: unlock_connector,
    CommandType.RESERVE_NOW: reserve_now,
    CommandType.CANCEL_RESERVATION: cancel_reservation,
}
