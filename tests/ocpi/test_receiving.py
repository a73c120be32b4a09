"""The stale-update rule of every Receiver interface (ocpi.receiving): older is not applied,
equal is an idempotent retry, nothing stored is never stale; the answer is 200 / 1000."""

from datetime import UTC, datetime, timedelta

import pytest

from ocpi.receiving import StaleUpdate, is_stale, refuse_stale, stale_answer

STORED = datetime(2026, 2, 1, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "received", "stale"),
    [
        (STORED, STORED - timedelta(microseconds=1), True),
        (STORED, STORED - timedelta(days=400), True),
        (STORED, STORED, False),
        (STORED, STORED + timedelta(microseconds=1), False),
        (None, STORED, False),
    ],
)
def test_only_an_update_older_than_the_stored_object_is_stale(
    stored: datetime | None, received: datetime, stale: bool
) -> None:
    assert is_stale(stored=stored, received=received) is stale


def test_refuse_stale_names_the_object_and_both_timestamps() -> None:
    with pytest.raises(StaleUpdate) as raised:
        refuse_stale(
            what="Tariff NL*TNM 12", stored=STORED, received=datetime(2026, 1, 1, tzinfo=UTC)
        )

    assert (raised.value.stored, raised.value.received) == (
        STORED,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert str(raised.value) == (
        "Not applied: Tariff NL*TNM 12 has last_updated 2026-02-01T10:00:00.123Z here, "
        "newer than this update's 2026-01-01T00:00:00Z; the newer state stands"
    )


@pytest.mark.parametrize("received", [STORED, STORED + timedelta(seconds=1)])
def test_refuse_stale_lets_an_equal_or_newer_update_through(received: datetime) -> None:
    refuse_stale(what="Tariff NL*TNM 12", stored=STORED, received=received)


def test_refuse_stale_lets_a_new_object_through() -> None:
    refuse_stale(what="Tariff NL*TNM 12", stored=None, received=STORED)


def test_the_answer_is_a_success_that_says_it_was_not_applied() -> None:
    update = StaleUpdate(what="Token DE*TNM RFID 1", stored=STORED, received=STORED - timedelta(1))

    response = stale_answer(update)

    assert response.status_code == 200
    assert {key: value for key, value in response.data.items() if key != "timestamp"} == {
        "status_code": 1000,
        "status_message": "Not applied: Token DE*TNM RFID 1 has last_updated "
        "2026-02-01T10:00:00.123Z here, newer than this update's 2026-01-31T10:00:00.123Z; "
        "the newer state stands",
    }
