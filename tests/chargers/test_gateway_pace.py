"""When a store round of meter messages starts (chargers.gateway.pace): at once when idle or
for a charge point sending back to back; under load it lingers for company, bounded."""

import pytest

from chargers.gateway.pace import (
    BACK_TO_BACK_SECONDS,
    LINGER_BATCH,
    LINGER_FROM_RATE,
    LINGER_SECONDS,
    Pace,
)


def loaded(rate: float = LINGER_FROM_RATE) -> Pace:
    """A Pace that saw `rate` messages a second over the last second (t = 0 … 1)."""
    pace = Pace()
    pace.arrived(0.0)
    for n in range(int(rate)):
        pace.arrived(1.0 * (n + 1) / rate)
    return pace


def test_idle_a_message_is_stored_at_once() -> None:
    pace = loaded(rate=LINGER_FROM_RATE / 2)

    assert pace.lingers([7], started=1.0, now=1.0) == 0


def test_under_load_a_round_lingers_for_more_until_the_batch_or_the_bound() -> None:
    pace = loaded()

    assert pace.lingers([7], started=1.0, now=1.0) == pytest.approx(LINGER_SECONDS)
    assert pace.lingers([7, 8], started=1.0, now=1.04) == pytest.approx(LINGER_SECONDS - 0.04)
    assert pace.lingers([7], started=1.0, now=1.0 + LINGER_SECONDS) == 0
    assert pace.lingers(list(range(LINGER_BATCH)), started=1.0, now=1.0) == 0


def test_a_charge_point_sending_back_to_back_is_not_kept_waiting() -> None:
    pace = loaded()
    pace.answered([7], now=1.0)

    assert pace.lingers([8, 7], started=1.2, now=1.2) == 0
    assert pace.lingers([7], started=1.0 + BACK_TO_BACK_SECONDS, now=1.0 + BACK_TO_BACK_SECONDS) > 0


def test_the_rate_falls_after_a_quiet_spell() -> None:
    pace = loaded()
    pace.arrived(30.0)  # the first message after half a minute

    assert pace.lingers([9], started=30.0, now=30.0) == 0
