"""A realistic charge driven through the session services, for exercising a partner end to end.

A simulated session is a real one: it starts ACTIVE at a connector of ours for a token in our
cache, gets a meter reading every few minutes (energy at a constant power while charging,
then parked with the meter standing still) and stops, so the token's eMSP receives the PUT,
the PATCHes with their periods and the final PATCH (and the CDR, once cdrs builds it), exactly
as for a charge point's session.

By default the charge is replayed: it is dated so that it ends now, and runs at once. Live, it
starts now and takes its real time (a reading per step, sleeping in between).
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from locations.models import EVSE, Connector, Location, Status
from ocpi.routing import PartyRef
from ocpi.time import now
from sessions import services
from sessions.errors import NotAuthorized
from sessions.metering import Reading
from sessions.models import Session
from tokens.authorization import LocationReferences
from tokens.models import Token
from tokens.services import authorize

KWH_PLACES = Decimal("0.0001")


class SimulationError(ValueError):
    """The simulation cannot run as asked; the message says why."""


@dataclass(frozen=True)
class Charge:
    """How the car charges: `power` kW for `minutes`, `kwh` in all, then parked."""

    kwh: Decimal
    minutes: Decimal
    power: Decimal
    parking_minutes: Decimal = Decimal(0)

    @classmethod
    def of(
        cls,
        *,
        kwh: Decimal | None,
        minutes: Decimal | None,
        power: Decimal | None,
        parking_minutes: Decimal = Decimal(0),
    ) -> "Charge":
        """Two of energy, duration and power make the third (11 kW for 60 minutes by default)."""
        given = [value for value in (kwh, minutes, power) if value is not None]
        if len(given) == 3:
            raise SimulationError("Give at most two of --kwh, --minutes and --power")
        if any(value <= 0 for value in given):
            raise SimulationError("--kwh, --minutes and --power must be more than 0")
        if parking_minutes < 0:
            raise SimulationError("--parking-minutes cannot be negative")
        if kwh is not None and power is not None:
            minutes = kwh / power * 60
        elif kwh is not None:
            minutes = minutes or Decimal(60)
            power = kwh / minutes * 60
        else:
            power = power or Decimal(11)
            minutes = minutes or Decimal(60)
            kwh = power * minutes / 60
        assert minutes is not None
        assert power is not None
        return cls(kwh=kwh, minutes=minutes, power=power, parking_minutes=parking_minutes)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=float(self.minutes + self.parking_minutes))


@dataclass(frozen=True)
class Step:
    at: datetime
    kwh: Decimal  # on the meter since the start
    charging: bool


def steps(charge: Charge, start: datetime, every: timedelta) -> Iterator[Step]:
    """A reading every `every` while charging (the last at the end of charging), then while
    parked (the last at the end): the meter grows linearly with the charging time."""
    charged_until = start + timedelta(minutes=float(charge.minutes))
    end = start + charge.duration
    moment = start
    while moment < end:
        limit = charged_until if moment < charged_until else end
        moment = min(moment + every, limit)
        charging = moment <= charged_until
        share = min(Decimal((moment - start) / timedelta(minutes=1)) / charge.minutes, Decimal(1))
        kwh = (charge.kwh * share).quantize(KWH_PLACES, rounding=ROUND_HALF_UP)
        yield Step(at=moment, kwh=kwh, charging=charging)


def find_connector(evse_uid: str, location_id: str | None, connector_id: str | None) -> Connector:
    """The connector of an EVSE of ours, by EVSE uid (the location when the uid is not unique)."""
    evses = EVSE.objects.filter(uid__ci=evse_uid, location__in=Location.objects.roaming())
    evses = evses.exclude(status=Status.REMOVED).select_related("location")
    if location_id:
        evses = evses.filter(location__ocpi_id__ci=location_id)
    found = list(evses.order_by("pk")[:10])
    if not found:
        raise SimulationError(f"No EVSE {evse_uid} at a roaming location")
    if len(found) > 1:
        where = ", ".join(evse.location.ocpi_id for evse in found)
        raise SimulationError(f"EVSE {evse_uid} is at several locations ({where}): --location-id")
    connectors = found[0].connectors.order_by("pk")
    if connector_id:
        connectors = connectors.filter(ocpi_id__ci=connector_id)
    connector = connectors.first()
    if connector is None:
        raise SimulationError(f"EVSE {evse_uid} has no connector {connector_id or ''}".rstrip())
    return connector


def find_token(uid: str, token_type: str) -> Token:
    tokens = list(Token.objects.identified(uid, token_type).order_by("pk")[:10])
    if not tokens:
        raise SimulationError(
            f"No {token_type} token {uid} in our cache: the eMSP pushes it, or pull it "
            "(manage.py ocpi_pull PARTNER tokens)"
        )
    if len(tokens) > 1:
        owners = ", ".join(str(token.party) for token in tokens)
        raise SimulationError(f"Token {uid} is known for several eMSPs ({owners})")
    if not tokens[0].valid:
        raise SimulationError(f"Token {uid} of {tokens[0].party} is not valid")
    return tokens[0]


def simulate(
    *,
    connector: Connector,
    token: Token,
    charge: Charge,
    every: timedelta,
    live: bool = False,
    report: Callable[[Session], None] = lambda session: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Session:
    """Run the charge; `report` sees the session after each step. Returns it completed."""
    if every <= timedelta(0):
        raise SimulationError("--step-minutes must be more than 0")
    start = now() if live else now() - charge.duration
    # As a charge point does when the driver taps: ask (cache or the eMSP in real time).
    location = connector.evse.location
    decision = authorize(
        party=token.party,
        uid=token.uid,
        token_type=token.type,
        location=LocationReferences(location.ocpi_id, (connector.evse.uid,)),
        cpo=PartyRef.of(location.country_code, location.party_id),
    )
    try:
        session = services.session_start_authorized(
            connector=connector, decision=decision, at=start, status="ACTIVE"
        )
    except NotAuthorized as exc:
        raise SimulationError(str(exc)) from exc
    report(session)
    planned = list(steps(charge, start, every))
    for index, step in enumerate(planned):
        if live:
            sleep(max((step.at - now()).total_seconds(), 0))
        reading = Reading(
            kwh=step.kwh,
            max_power=charge.power if step.charging else None,
            charging=step.charging,
        )
        if index == len(planned) - 1:
            session = services.session_stop(session=session, at=step.at, reading=reading)
        else:
            session = services.session_meter(session=session, at=step.at, reading=reading)
        report(session)
    return session
