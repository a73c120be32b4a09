"""Load management: a grid limit shared among the sessions charging behind it. Pure: no
Django, no database (an import-linter contract keeps it so), so it is tested by properties.

The limit (GridLimit) is a total power in W and, optionally, a current per phase in A, each
possibly lower at certain times of day (Window). Each session asks for a range:

    upper   what it can take: its EVSE's maximum power, lowered by the eMSP's charging profile
            (OCPI chargingprofiles) where one applies now
    lower   what it must get once it charges at all: the eMSP profile's min_charging_rate, or
            the power its charging preferences need (energy_need still missing by
            departure_time), never more than `upper`

The plan is a fair share (water-filling): one level L, every session gets L clamped to its
range, L as high as both constraints allow:

    Σ P_i ≤ total_w        Σ P_i / (U_i × phases_i) ≤ phase_a
(the per-phase constraint counts each session's current on every phase: safe whatever phase a
1-phase EVSE is wired to.)

When the lower bounds alone exceed a constraint, sessions are left out (0 W, reported in
`starved`) until the rest fit: lowest priority first (CHEAP/GREEN preferences before REGULAR
before FAST), then the latest started, then by key; one left out early is taken back if it
fits beside the rest once later ones are out. A left-out session is planned again at the
next re-plan (a session ends, the limit rises).

Same demands and limit → the same plan, to the tenth of a watt (figures are rounded down to
0.1 W, so the sums stay under the limit): a re-plan without changes changes nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

TENTH = Decimal("0.1")
ZERO = Decimal(0)

# ChargingPreferences profile_type → priority (higher keeps its minimum longer).
PRIORITY = {"FAST": 2, "REGULAR": 1, "CHEAP": 0, "GREEN": 0}
DEFAULT_PRIORITY = 1


def floor_tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class Limit:
    total_w: Decimal
    phase_a: Decimal | None = None


@dataclass(frozen=True)
class Window:
    """A lower limit between two local times of day (`until` before `start`: over midnight)."""

    start: time
    until: time
    limit: Limit

    def covers(self, moment: time) -> bool:
        if self.start <= self.until:
            return self.start <= moment < self.until
        return moment >= self.start or moment < self.until


@dataclass(frozen=True)
class GridSchedule:
    base: Limit
    windows: tuple[Window, ...] = ()

    def at(self, local: datetime) -> Limit:
        """The limit at a moment in the site's time zone (its wall clock decides): the lowest
        of the base and the windows that cover it, per constraint."""
        moment = local.time()
        limits = [self.base, *(w.limit for w in self.windows if w.covers(moment))]
        phases = [limit.phase_a for limit in limits if limit.phase_a is not None]
        return Limit(min(limit.total_w for limit in limits), min(phases) if phases else None)

    def next_change(self, local: datetime) -> datetime | None:
        """The next moment after `local` (in the site's time zone) where a window begins or
        ends (None: none)."""
        if not self.windows:
            return None
        candidates = []
        for window in self.windows:
            for boundary in (window.start, window.until):
                moment = local.replace(
                    hour=boundary.hour, minute=boundary.minute, second=0, microsecond=0
                )
                if moment <= local:
                    moment += timedelta(days=1)
                candidates.append(moment)
        return min(candidates)


@dataclass(frozen=True)
class Demand:
    key: str  # the session's id: stable order and the plan's key
    upper_w: Decimal
    lower_w: Decimal = ZERO
    volts: Decimal = Decimal(230)
    phases: int = 3
    priority: int = DEFAULT_PRIORITY
    started_at: datetime | None = None

    @property
    def amperes_per_watt(self) -> Decimal:
        return 1 / (self.volts * self.phases)


@dataclass(frozen=True)
class Plan:
    watts: Mapping[str, Decimal]  # every demand's key → its share
    starved: tuple[str, ...] = field(default=())  # left at 0 W: the minimums did not fit
    level_w: Decimal = ZERO

    def total_w(self) -> Decimal:
        return sum(self.watts.values(), ZERO)


def _bounds(demand: Demand) -> tuple[Decimal, Decimal]:
    upper = max(floor_tenth(demand.upper_w), ZERO)
    return max(floor_tenth(min(demand.lower_w, upper)), ZERO), upper


def _drop_order(demand: Demand) -> tuple[int, float, str]:
    """Left out first: lowest priority, then latest start, then the key."""
    started = demand.started_at.timestamp() if demand.started_at is not None else 0.0
    return (demand.priority, -started, demand.key)


def _constraints(demands: Sequence[Demand], limit: Limit) -> list[tuple[list[Decimal], Decimal]]:
    """Each constraint as (coefficient per demand, bound): Σ c_i × P_i ≤ bound."""
    constraints = [([Decimal(1)] * len(demands), max(limit.total_w, ZERO))]
    if limit.phase_a is not None:
        constraints.append(([d.amperes_per_watt for d in demands], max(limit.phase_a, ZERO)))
    return constraints


def _exact_weights(
    demands: Sequence[Demand], bounds: Sequence[tuple[Decimal, Decimal]], limit: Limit
) -> dict[int, list[Fraction]]:
    """c_i × lo_i per constraint (as _constraints orders them), exactly, of the demands with a
    minimum: 1/230 has no exact decimal, and a sum kept in decimals while sessions leave and
    come back would drift."""
    weights = {}
    for i, demand in enumerate(demands):
        low = bounds[i][0]
        if low > 0:
            minimum = Fraction(low)
            row = [minimum]
            if limit.phase_a is not None:
                row.append(minimum / (Fraction(demand.volts) * demand.phases))
            weights[i] = row
    return weights


def _within(sums: Sequence[Fraction], constraints: Sequence[tuple[list[Decimal], Decimal]]) -> bool:
    return all(total <= bound for total, (_, bound) in zip(sums, constraints, strict=True))


def _level(
    bounds: Sequence[tuple[Decimal, Decimal]], coefficients: Sequence[Decimal], bound: Decimal
) -> Decimal:
    """The highest L with Σ c_i × clamp(L, lo_i, hi_i) ≤ bound (the lower bounds fit).

    The sum is piecewise linear in L: const + slope × L, changing where L passes a bound.
    Walked once over the sorted bounds: O(n log n)."""
    events: list[tuple[Decimal, Decimal, Decimal]] = []  # (point, Δslope, Δconst)
    const, slope = ZERO, ZERO
    for (low, high), c in zip(bounds, coefficients, strict=True):
        const += c * low
        if high > low:
            events.append((low, c, -c * low))
            events.append((high, -c, c * high))
    events.sort(key=lambda event: event[0])
    top = ZERO
    for point, d_slope, d_const in events:
        if const + slope * point > bound:
            return (bound - const) / slope
        slope += d_slope
        const += d_const
        top = point
    return top


def plan(demands: Sequence[Demand], limit: Limit) -> Plan:
    """Share `limit` among `demands` (see the module's text)."""
    ordered = sorted(demands, key=lambda d: d.key)
    bounds = [_bounds(d) for d in ordered]
    constraints = _constraints(ordered, limit)
    kept = list(range(len(ordered)))
    starved: list[str] = []
    # The lower bounds of the sessions kept, per constraint: updated as sessions leave and
    # come back, so that deciding who is left out costs O(n log n), not O(n²).
    weights = _exact_weights(ordered, bounds, limit)
    sums = [sum(column, Fraction(0)) for column in zip(*weights.values(), strict=True)]
    if not sums:
        sums = [Fraction(0)] * len(constraints)
    dropped: list[int] = []
    # Only a session with a minimum is ever left out: at 0 W one without costs nothing.
    for index in sorted(weights, key=lambda i: _drop_order(ordered[i])):
        if _within(sums, constraints):
            break
        sums = [total - weight for total, weight in zip(sums, weights[index], strict=True)]
        dropped.append(index)
    # A session left out early may fit beside those that stay once later ones are out too:
    # taken back, the most important first.
    for index in reversed(dropped):
        trial = [total + weight for total, weight in zip(sums, weights[index], strict=True)]
        if _within(trial, constraints):
            sums = trial
        else:
            starved.append(ordered[index].key)
    left_out = set(starved)
    kept = [i for i in kept if ordered[i].key not in left_out]
    kept_bounds = [bounds[i] for i in kept]
    level = (
        min(_level(kept_bounds, [c[i] for i in kept], bound) for c, bound in constraints)
        if kept
        else ZERO
    )
    watts = {d.key: ZERO for d in ordered}
    for i in kept:
        low, high = bounds[i]
        watts[ordered[i].key] = floor_tenth(min(max(level, low), high))
    return Plan(watts=watts, starved=tuple(sorted(starved)), level_w=floor_tenth(level))


def equal_split(demands: Sequence[Demand], limit: Limit) -> Plan:
    """The trivial baseline (benchmarks): the total divided evenly, no ranges, no phases."""
    if not demands:
        return Plan(watts={})
    share = floor_tenth(limit.total_w / len(demands))
    return Plan(watts={d.key: share for d in demands})


def needed_watts(
    energy_need_kwh: Decimal, delivered_kwh: Decimal, now: datetime, departure: datetime
) -> Decimal:
    """The constant power that delivers what is still needed by the departure (0 when
    nothing is; the EVSE's maximum caps it, as an upper bound does)."""
    missing = energy_need_kwh - delivered_kwh
    seconds = Decimal((departure - now).total_seconds())
    if missing <= 0:
        return ZERO
    if seconds <= 0:
        return Decimal("Infinity")
    return missing * 1000 * 3600 / seconds
