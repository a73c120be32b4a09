"""session_progress: kwh and total_cost of the open period PATCHed without a period, and the
period added afterwards counting its energy from the stored periods."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import PartnerPlatform
from push.models import Change
from sessions import errors, services
from sessions.metering import Reading
from sessions.models import Session
from tests.sessions.conftest import START, start

pytestmark = pytest.mark.usefixtures("location")

MINUTE = timedelta(minutes=1)


def patches(session: Session) -> list[dict[str, Any]]:
    rows = Change.objects.filter(module="sessions", method="PATCH", object_key=session.object_key)
    return [dict(change.payload or {}) for change in rows.order_by("pk")]


def energies(session: Session) -> list[Decimal]:
    return [
        next(Decimal(d["volume"]) for d in period.dimensions if d["type"] == "ENERGY")
        for period in session.charging_periods.order_by("position")
    ]


def test_progress_patches_kwh_and_cost_without_a_period(partner_a: PartnerPlatform) -> None:
    session = start()

    session = services.session_progress(
        session=session,
        at=START + 10 * MINUTE,
        reading=Reading(kwh=Decimal(2), max_power=Decimal(11)),
    )

    # Tariff 11: FLAT 0.50 + ENERGY 0.25/kWh (excl. VAT).
    assert (session.kwh, session.total_cost_excl_vat) == (Decimal(2), Decimal("1.0000"))
    assert (session.metered_until, session.charging_periods.count()) == (START, 0)
    [patch] = patches(session)
    assert set(patch) == {"kwh", "total_cost", "last_updated"}
    assert patch["kwh"] == Decimal(2)


def test_the_period_that_follows_counts_from_the_stored_periods(
    partner_a: PartnerPlatform,
) -> None:
    session = start()
    session = services.session_progress(
        session=session, at=START + 10 * MINUTE, reading=Reading(kwh=Decimal(2))
    )
    session = services.session_progress(
        session=session, at=START + 20 * MINUTE, reading=Reading(kwh=Decimal(4))
    )

    session = services.session_meter(
        session=session, at=START + 30 * MINUTE, reading=Reading(kwh=Decimal(6))
    )
    session = services.session_progress(
        session=session, at=START + 40 * MINUTE, reading=Reading(kwh=Decimal("7.5"))
    )
    session = services.session_stop(
        session=session, at=START + 50 * MINUTE, reading=Reading(kwh=Decimal(9))
    )

    assert energies(session) == [Decimal(6), Decimal(3)]
    assert session.kwh == Decimal(9)
    assert session.cdrs.get().total_energy == Decimal(9)


def test_a_stop_without_a_reading_keeps_the_progressed_energy(partner_a: PartnerPlatform) -> None:
    session = start()
    session = services.session_progress(
        session=session, at=START + 10 * MINUTE, reading=Reading(kwh=Decimal(3))
    )

    session = services.session_stop(session=session, at=START + 15 * MINUTE)

    assert (energies(session), session.kwh) == ([Decimal(3)], Decimal(3))


def test_progress_that_changes_nothing_pushes_nothing(partner_a: PartnerPlatform) -> None:
    session = start()
    session = services.session_progress(
        session=session, at=START + MINUTE, reading=Reading(kwh=Decimal(1))
    )
    updated = session.last_updated

    session = services.session_progress(
        session=session, at=START + MINUTE, reading=Reading(kwh=Decimal(1))
    )

    assert len(patches(session)) == 1
    assert session.last_updated == updated


def test_progress_is_refused_before_the_session_is_active_or_backwards() -> None:
    pending = start(status="PENDING")
    with pytest.raises(errors.IllegalTransition, match="only an ACTIVE session is metered"):
        services.session_progress(session=pending, at=START + MINUTE, reading=Reading())

    active = start(connector_id="2")
    services.session_meter(session=active, at=START + MINUTE, reading=Reading(kwh=Decimal(2)))
    with pytest.raises(errors.InvalidPeriods, match="went backwards"):
        services.session_progress(
            session=active, at=START + 2 * MINUTE, reading=Reading(kwh=Decimal(1))
        )
    with pytest.raises(errors.InvalidPeriods, match="not after the previous one"):
        services.session_progress(session=active, at=START, reading=Reading(kwh=Decimal(3)))


def test_many_sessions_progress_together_in_as_many_statements_as_one(
    partner_a: PartnerPlatform,
) -> None:
    """sessions_progress: each session as session_progress leaves it, its own PATCH; one
    statement more a session (its UPDATE), the rest once for all (the lock, the read of the
    stored periods, the batch of PATCHes)."""
    alone = start(connector_id="2")
    together = [start(), start(), start()]  # session_start does not refuse a busy connector
    at = START + 10 * MINUTE

    with CaptureQueriesContext(connection) as one:
        [result] = services.sessions_progress(
            [services.Progress(alone, at, Reading(kwh=Decimal(1)))]
        )
    with CaptureQueriesContext(connection) as three:
        results = services.sessions_progress(
            [
                services.Progress(session, at, Reading(kwh=Decimal(kwh)))
                for session, kwh in zip(together, (2, 3, 4), strict=True)
            ]
        )

    assert isinstance(result, Session)
    assert len(three.captured_queries) == len(one.captured_queries) + 2
    # Tariff 11: FLAT 0.50 + ENERGY 0.25/kWh (excl. VAT).
    stored = [Session.objects.get(pk=session.pk) for session in together]
    assert [(s.kwh, s.total_cost_excl_vat) for s in stored] == [
        (Decimal(2), Decimal("1.0000")),
        (Decimal(3), Decimal("1.2500")),
        (Decimal(4), Decimal("1.5000")),
    ]
    assert [r.kwh for r in results if isinstance(r, Session)] == [s.kwh for s in stored]
    assert [[patch["kwh"] for patch in patches(s)] for s in stored] == [
        [Decimal(2)],
        [Decimal(3)],
        [Decimal(4)],
    ]


def test_a_session_refused_among_many_holds_back_no_other(partner_a: PartnerPlatform) -> None:
    pending = start(status="PENDING")
    active = start()
    backwards = start(connector_id="2")
    services.session_meter(session=backwards, at=START + MINUTE, reading=Reading(kwh=Decimal(2)))
    at = START + 10 * MINUTE

    results = services.sessions_progress(
        [
            services.Progress(pending, at, Reading(kwh=Decimal(1))),
            services.Progress(active, at, Reading(kwh=Decimal(2))),
            services.Progress(backwards, at, Reading(kwh=Decimal(1))),
        ]
    )

    assert isinstance(results[0], errors.IllegalTransition)
    assert isinstance(results[1], Session)
    assert results[1].kwh == Decimal(2)
    assert isinstance(results[2], errors.InvalidPeriods)
    assert [len(patches(s)) for s in (pending, active)] == [0, 1]
    assert Session.objects.get(pk=backwards.pk).kwh == Decimal(2)
