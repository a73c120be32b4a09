"""OCPP reservation ids allocated at once (they race for real on PostgreSQL; SQLite takes one
writer at a time): every reservation gets its own, unique id, whichever eMSP sent it and
whatever reservation_id it chose; a replacement at the same charge point keeps its id."""

from collections.abc import Callable

import pytest

from chargers.models import Reservation
from tests.chargers.reservations_setup import EMSP_A, EMSP_B, accepted, online, reserve
from tests.chargers.test_status_concurrency import at_once
from tests.chargers.transactions_setup import emsp, estate

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_reservations_made_together_get_distinct_ocpp_ids() -> None:
    estate()
    emsp()
    online("CP-16", "1.6")

    def reservation(n: int) -> Callable[[], None]:
        """R0..R2 of each eMSP: the same reservation_id of two eMSPs is two reservations."""
        party = EMSP_A if n % 2 else EMSP_B

        def make() -> None:
            reserve(
                "3256" if n % 2 else "3257", reservation_id=f"R{n // 2}", party=party, uid=f"T{n}"
            )

        return make

    at_once(*(reservation(n) for n in range(6)))

    ids = list(Reservation.objects.values_list("ocpp_id", "pk"))
    assert len(ids) == 6
    assert all(ocpp_id == pk for ocpp_id, pk in ids)
    assert len({ocpp_id for ocpp_id, _ in ids}) == 6


def test_a_replacement_keeps_the_ocpp_id_at_the_same_charge_point() -> None:
    estate()
    emsp()
    online("CP-16", "1.6")
    first = accepted(reserve())

    def replacement(minutes: int) -> Callable[[], None]:
        def replace() -> None:
            reserve(minutes=minutes)

        return replace

    at_once(replacement(40), replacement(50))

    assert set(Reservation.objects.values_list("ocpp_id", flat=True)) == {first.ocpp_id}
