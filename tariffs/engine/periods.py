"""The session's charging periods as a CDR should carry them (mod_cdrs, ChargingPeriod).

"When another Price Component becomes active, the CPO SHALL add a new Charging Period": each
input period is split wherever the phase or the chosen component of any dimension changes,
computed crossing moments included (cumulative energy reaching min_kwh, a time of day). Each
piece states its time on the clock (TIME, PARKING_TIME or RESERVATION_TIME, hours) and its
energy, and keeps the period's MIN/MAX_POWER and MIN/MAX_CURRENT; session-only dimensions are
dropped. Volumes are rounded to 4 decimals cumulatively, so the pieces of a quantity add up to
its rounded session total.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tariffs.engine.model import CdrDimension, ChargingPeriod, Dimension
from tariffs.engine.rounding import hours, round_number
from tariffs.engine.segments import Segment
from tariffs.engine.timeline import Layout, Phase, from_micros, period_energy

_TIME_OF = {
    Phase.RESERVATION: CdrDimension.RESERVATION_TIME,
    Phase.CHARGING: CdrDimension.TIME,
    Phase.PARKING: CdrDimension.PARKING_TIME,
}
_KEPT = (
    CdrDimension.MAX_CURRENT,
    CdrDimension.MIN_CURRENT,
    CdrDimension.MAX_POWER,
    CdrDimension.MIN_POWER,
)


@dataclass
class _Piece:
    start: int
    end: int
    phase: Phase
    period: int
    energy: Decimal
    key: tuple[object, ...]


class _Running:
    """Cumulative rounding: each piece gets round(total after) − round(total before)."""

    def __init__(self, convert: Callable[[Decimal], Decimal]) -> None:
        self.convert = convert
        self.total = Decimal(0)
        self.rounded = Decimal(0)

    def take(self, amount: Decimal) -> Decimal:
        before = self.rounded
        self.total += amount
        self.rounded = round_number(self.convert(self.total))
        return self.rounded - before


def cdr_periods(
    pieces: list[Segment], layout: Layout, tariff_id: str
) -> tuple[ChargingPeriod, ...]:
    merged = _merge(pieces)
    charging = {s.period for s in layout.slices if s.phase == Phase.CHARGING}
    clock = {kind: _Running(lambda micros: hours(int(micros))) for kind in _TIME_OF.values()}
    energy = _Running(lambda kwh: kwh)
    periods = []
    for piece in merged:
        source = layout.periods[piece.period] if piece.period >= 0 else {}
        time_kind = _TIME_OF[piece.phase]
        dimensions = [Dimension(time_kind, clock[time_kind].take(Decimal(piece.end - piece.start)))]
        if period_energy(source) is not None:
            dimensions.insert(0, Dimension(CdrDimension.ENERGY, energy.take(piece.energy)))
        if piece.phase == Phase.CHARGING or piece.period not in charging:
            dimensions.extend(Dimension(kind, source[kind]) for kind in _KEPT if kind in source)
        periods.append(
            ChargingPeriod(
                start_date_time=from_micros(piece.start),
                dimensions=tuple(dimensions),
                tariff_id=tariff_id,
            )
        )
    return tuple(periods)


def _merge(pieces: list[Segment]) -> list[_Piece]:
    """Adjacent pieces of one period, phase and choice of components are one period."""
    merged: list[_Piece] = []
    for segment in pieces:
        key = (segment.slice.period, segment.slice.phase, tuple(sorted(segment.choices.items())))
        last = merged[-1] if merged else None
        if last is not None and last.key == key and last.end == segment.start:
            last.end = segment.end
            last.energy += segment.energy
            continue
        merged.append(
            _Piece(
                start=segment.start,
                end=segment.end,
                phase=segment.slice.phase,
                period=segment.slice.period,
                energy=segment.energy,
                key=key,
            )
        )
    return merged
