"""Units, exactness and rounding: where the engine rounds, and how.

OCPI sets no rounding rule ("price rounding has to be done according to rules … set by
applicable laws, contracts … and the currency", mod_tariffs, Tariff object). Ours:

- Inside, nothing is rounded that need not be. Time is counted in whole microseconds (the
  resolution of the instants), energy in kWh as Decimal, and the engine runs in a Decimal
  context of PRECISION digits, so a few hundred additions and one division per cost line stay
  exact far below 0.0001.
- step_size rounds billed quantities up, once per session (see pricing.py), before any money
  is computed.
- Every CDR total (money and quantities) is rounded once, at the end, to 4 decimals with
  ROUND_HALF_UP: OCPI's number type "uses 4 decimals" (types.asciidoc, number). Amounts are
  not rounded per line or per period, so the totals never drift from their exact sum by more
  than half a unit of the 4th decimal. Rounding to the currency's minor unit (cents) is the
  invoice's business; the spec's examples that print cents (5.63 for 5.6250) round per line
  to cents and agree with ours to the cent.
"""

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

PRECISION = 50
CONTEXT = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN)
NUMBER_PLACES = Decimal("0.0001")
# Cumulative energy at a cut inside a period is kept on this grid, so that the energies of a
# period's pieces are exact differences and add up to the period's own energy exactly.
ENERGY_GRID = Decimal("1E-20")
# Before stepping up, a billed total is read at micro-unit resolution (µWh): what lies beyond
# is the remainder of an interpolation, not consumption, and must not buy a whole extra step.
STEP_RESOLUTION = Decimal("1E-6")

MICROS_PER_SECOND = 1_000_000
MICROS_PER_HOUR = 3_600 * MICROS_PER_SECOND
WH_PER_KWH = 1_000


def round_number(value: Decimal) -> Decimal:
    """An OCPI number: 4 decimals, half away from zero (0.03125 → 0.0313)."""
    return value.quantize(NUMBER_PLACES, rounding=ROUND_HALF_UP, context=CONTEXT)


def hours(micros: int) -> Decimal:
    return CONTEXT.divide(Decimal(micros), Decimal(MICROS_PER_HOUR))


def step_up_micros(total: int, step_size: int) -> int:
    """Round a time total (µs) up to a whole number of `step_size` seconds."""
    step = step_size * MICROS_PER_SECOND
    if step <= 0:
        return total
    return -(-total // step) * step


def step_up_energy(total: Decimal, step_size: int) -> Decimal:
    """Round an energy total (kWh) up to a whole number of `step_size` Wh; kWh back."""
    if step_size <= 0:
        return total
    watt_hours = CONTEXT.multiply(total, Decimal(WH_PER_KWH)).quantize(
        STEP_RESOLUTION, context=CONTEXT
    )
    steps = CONTEXT.divide(watt_hours, Decimal(step_size)).to_integral_value(ROUND_CEILING)
    return CONTEXT.divide(CONTEXT.multiply(steps, Decimal(step_size)), Decimal(WH_PER_KWH))
