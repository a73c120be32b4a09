"""The charge points `simulate_chargers` runs when it is given no --url: ours, on our estate's
free EVSEs, so that the operator sees their statuses and sessions at once.

A run takes the charge points PREFIX-0001… of an earlier run first, with new passwords (only
hashes are kept: the old ones are unknown) and the OCPP version asked for; then it provisions
new ones through chargers.provisioning, EVSES_PER_CHARGE_POINT EVSEs of one location each,
on EVSEs that no charge point has: at locations of our CPO parties, neither REMOVED nor
PLANNED, with a connector.
"""

import itertools

from django.db import transaction

from chargers.mapping import connector_of
from chargers.models import ChargePoint
from chargers.provisioning import (
    charge_point_provision,
    charge_point_set_password,
    charge_point_set_version,
    charge_point_url,
    evse_ref,
)
from chargers.simulator.station import EvseSpec, StationSpec
from credentials.models import LocalParty
from locations.models import EVSE, Location, Status
from ocpi.enums import Role
from ocpi.routing import PartyRef

EVSES_PER_CHARGE_POINT = 2  # a twin charger: two EVSEs of one location
PHASES = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3, "DC": 0}


def simulated_charge_points(*, count: int, ocpp_version: str, prefix: str) -> list[StationSpec]:
    """Up to `count` charge points to simulate (fewer when our estate has no more free
    EVSEs), ready to connect to OCPP_BASE_URL."""
    ours = ChargePoint.objects.filter(identity__startswith=f"{prefix}-").order_by("identity")
    specs = [_renewed(charge_point, ocpp_version) for charge_point in ours[:count]]
    taken = set(ours.values_list("identity", flat=True))
    names = (name for n in itertools.count(1) if (name := f"{prefix}-{n:04d}") not in taken)
    for group in _free_evse_groups(count - len(specs)):
        provisioned = charge_point_provision(
            identity=next(names),
            evse_refs=[evse_ref(evse) for evse in group],
            ocpp_version=ocpp_version,
        )
        specs.append(_spec(provisioned.charge_point, provisioned.password))
    return specs


def _renewed(charge_point: ChargePoint, ocpp_version: str) -> StationSpec:
    with transaction.atomic():
        if charge_point.ocpp_version != ocpp_version:
            charge_point_set_version(charge_point=charge_point, ocpp_version=ocpp_version)
        password = charge_point_set_password(charge_point=charge_point)
    return _spec(charge_point, password)


def _spec(charge_point: ChargePoint, password: str | None) -> StationSpec:
    ids = charge_point.evses.order_by("ocpp_evse_id").values_list("ocpp_evse_id", flat=True)
    return StationSpec(
        identity=charge_point.identity,
        url=charge_point_url(charge_point.identity),
        password=password,
        evses=tuple(_evse_spec(charge_point, ocpp_id) for ocpp_id in ids),
    )


def _evse_spec(charge_point: ChargePoint, ocpp_id: int) -> EvseSpec:
    """How fast a car charges there: its first connector's power (chargers.mapping)."""
    connector = connector_of(charge_point, ocpp_id)
    if connector is None:
        return EvseSpec(ocpp_id)
    phases = PHASES.get(connector.power_type, 3)
    power = connector.max_electric_power or (
        connector.max_voltage * connector.max_amperage * max(phases, 1)
    )
    return EvseSpec(ocpp_id, power, phases)


def _free_evse_groups(wanted: int) -> list[list[EVSE]]:
    if wanted <= 0:
        return []
    parties = [
        PartyRef.of(party.country_code, party.party_id)
        for party in LocalParty.objects.active().filter(role=Role.CPO)
    ]
    free = (
        EVSE.objects.filter(
            charge_point_link__isnull=True,
            connectors__isnull=False,
            location__in=Location.objects.for_parties(parties),
        )
        .exclude(status__in=[Status.REMOVED, Status.PLANNED])
        .distinct()
        .select_related("location")
        .order_by("location_id", "pk")
    )
    groups: list[list[EVSE]] = []
    for evse in free.iterator(chunk_size=500):
        last = groups[-1] if groups else []
        if last and last[-1].location_id == evse.location_id and len(last) < EVSES_PER_CHARGE_POINT:
            last.append(evse)
        elif len(groups) == wanted:
            break
        else:
            groups.append([evse])
    return groups
