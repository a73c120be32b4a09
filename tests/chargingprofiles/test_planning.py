"""The load planner's properties over generated sites (hypothesis), and its rules by example.

Sums are checked with exact fractions, not the planner's Decimals: what is checked is the
physics, not the planner's arithmetic."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargingprofiles.planning import (
    Demand,
    GridSchedule,
    Limit,
    Window,
    equal_split,
    needed_watts,
    plan,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
TENTH = Decimal("0.1")


def tenths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 10)


@st.composite
def demands(draw: st.DrawFn) -> list[Demand]:
    count = draw(st.integers(0, 12))
    made = []
    for n in range(count):
        supply = draw(st.sampled_from([(230, 1), (230, 3), (400, 1), (230, 2)]))
        upper = draw(tenths(0, 3_500_000))
        lower = draw(st.one_of(st.just(Decimal(0)), tenths(0, 500_000)))
        made.append(
            Demand(
                key=f"S{n:03d}",
                upper_w=upper,
                lower_w=lower,
                volts=Decimal(supply[0]),
                phases=supply[1],
                priority=draw(st.integers(0, 2)),
                started_at=T0 + timedelta(seconds=draw(st.integers(0, 3600))),
            )
        )
    return made


limits = st.builds(
    Limit,
    total_w=tenths(0, 5_000_000),
    phase_a=st.one_of(st.none(), tenths(0, 6_000)),
)


def amperes(demand: Demand, watts: Decimal) -> Fraction:
    return Fraction(watts) / (int(demand.volts) * demand.phases)


@PROPERTY
@given(demands(), limits)
def test_the_plan_never_exceeds_the_limit(site: list[Demand], limit: Limit) -> None:
    result = plan(site, limit)

    assert sum(Fraction(w) for w in result.watts.values()) <= Fraction(limit.total_w)
    if limit.phase_a is not None:
        current = sum(amperes(d, result.watts[d.key]) for d in site)
        assert current <= Fraction(limit.phase_a)


@PROPERTY
@given(demands(), limits)
def test_a_session_gets_its_minimum_up_to_its_maximum_or_nothing(
    site: list[Demand], limit: Limit
) -> None:
    result = plan(site, limit)

    for demand in site:
        watts = result.watts[demand.key]
        assert Decimal(0) <= watts <= max(demand.upper_w, Decimal(0))
        if demand.key in result.starved:
            assert watts == 0
            assert min(demand.lower_w, demand.upper_w) > 0  # one without a minimum costs 0
        else:
            assert watts >= min(demand.lower_w, demand.upper_w).quantize(TENTH)


@PROPERTY
@given(demands(), limits)
def test_only_sessions_whose_minimum_does_not_fit_are_left_out(
    site: list[Demand], limit: Limit
) -> None:
    result = plan(site, limit)

    kept = [d for d in site if d.key not in result.starved]
    assert sum(min(d.lower_w, d.upper_w) for d in kept) <= limit.total_w
    for key in result.starved:  # taking any one back would break a constraint
        back = next(d for d in site if d.key == key)
        total = sum(min(d.lower_w, d.upper_w) for d in [*kept, back])
        over_total = total > limit.total_w
        over_phase = limit.phase_a is not None and sum(
            amperes(d, min(d.lower_w, d.upper_w).quantize(TENTH)) for d in [*kept, back]
        ) > Fraction(limit.phase_a)
        assert over_total or over_phase


@PROPERTY
@given(demands(), limits)
def test_the_plan_is_stable_and_does_not_depend_on_the_order(
    site: list[Demand], limit: Limit
) -> None:
    first = plan(site, limit)

    assert plan(site, limit) == first
    assert plan(list(reversed(site)), limit) == first


@PROPERTY
@given(demands(), limits)
def test_the_share_is_fair_no_session_below_the_level_while_it_could_take_more(
    site: list[Demand], limit: Limit
) -> None:
    result = plan(site, limit)

    kept = [d for d in site if d.key not in result.starved]
    for demand in kept:
        watts = result.watts[demand.key]
        assert watts >= min(result.level_w, demand.upper_w.quantize(TENTH)) - TENTH
    # Someone below their maximum means a constraint is (nearly) used up.
    below = [d for d in kept if result.watts[d.key] < d.upper_w.quantize(TENTH) - TENTH]
    if below:
        slack_w = limit.total_w - result.total_w()
        slack_a = (
            Fraction(limit.phase_a) - sum(amperes(d, result.watts[d.key]) for d in kept)
            if limit.phase_a is not None
            else None
        )
        room = Fraction(len(kept)) * Fraction(2, 10)  # the rounding to 0.1 W of each share
        assert Fraction(slack_w) <= room or (slack_a is not None and slack_a <= room)


def test_three_sessions_share_equally_under_a_total_limit() -> None:
    site = [Demand(key=k, upper_w=Decimal(11_000)) for k in ("A", "B", "C")]

    result = plan(site, Limit(total_w=Decimal(15_000)))

    assert result.watts == {"A": Decimal(5000), "B": Decimal(5000), "C": Decimal(5000)}
    assert result.starved == ()


def test_what_a_capped_session_cannot_take_goes_to_the_others() -> None:
    site = [
        Demand(key="A", upper_w=Decimal(2_000)),  # an eMSP profile limits it to 2 kW
        Demand(key="B", upper_w=Decimal(11_000)),
        Demand(key="C", upper_w=Decimal(11_000)),
    ]

    result = plan(site, Limit(total_w=Decimal(15_000)))

    assert result.watts == {"A": Decimal(2000), "B": Decimal(6500), "C": Decimal(6500)}


def test_a_per_phase_limit_counts_a_one_phase_session_three_times_per_watt() -> None:
    site = [
        Demand(key="one", upper_w=Decimal(7_360), phases=1),
        Demand(key="three", upper_w=Decimal(22_080), phases=3),
    ]

    result = plan(site, Limit(total_w=Decimal(100_000), phase_a=Decimal(32)))

    # L/230 + L/690 = 32 A → L = 5520 W each; 1/230 in decimals lands a hair below, and
    # shares are rounded down, never up.
    assert result.watts == {"one": Decimal("5519.9"), "three": Decimal("5519.9")}


def test_minimums_beyond_the_limit_leave_out_the_lowest_priority_then_the_latest() -> None:
    site = [
        Demand(key="early", upper_w=Decimal(11_000), lower_w=Decimal(7_000), started_at=T0),
        Demand(
            key="late",
            upper_w=Decimal(11_000),
            lower_w=Decimal(7_000),
            started_at=T0 + timedelta(minutes=5),
        ),
        Demand(key="cheap", upper_w=Decimal(11_000), lower_w=Decimal(7_000), priority=0),
    ]

    result = plan(site, Limit(total_w=Decimal(13_000)))

    assert result.starved == ("cheap", "late")
    assert result.watts == {"cheap": Decimal(0), "early": Decimal(11_000), "late": Decimal(0)}


def test_a_time_of_day_window_lowers_the_limit_and_says_when_it_changes() -> None:
    evening = Window(time(17), time(21), Limit(total_w=Decimal(20_000), phase_a=Decimal(40)))
    night = Window(time(23), time(6), Limit(total_w=Decimal(60_000)))
    schedule = GridSchedule(Limit(total_w=Decimal(50_000)), (evening, night))

    assert schedule.at(datetime(2026, 3, 2, 18, 0, tzinfo=BRUSSELS)) == Limit(
        Decimal(20_000), Decimal(40)
    )
    assert schedule.at(datetime(2026, 3, 2, 12, 0, tzinfo=BRUSSELS)) == Limit(Decimal(50_000), None)
    assert schedule.at(datetime(2026, 3, 2, 2, 0, tzinfo=BRUSSELS)) == Limit(Decimal(50_000), None)
    assert schedule.next_change(datetime(2026, 3, 2, 12, 0, tzinfo=BRUSSELS)) == datetime(
        2026, 3, 2, 17, 0, tzinfo=BRUSSELS
    )
    assert schedule.next_change(datetime(2026, 3, 2, 21, 0, tzinfo=BRUSSELS)) == datetime(
        2026, 3, 2, 23, 0, tzinfo=BRUSSELS
    )
    assert (
        GridSchedule(Limit(Decimal(1))).next_change(datetime(2026, 3, 2, tzinfo=BRUSSELS)) is None
    )


def test_the_power_an_energy_need_asks_for() -> None:
    two_hours = T0 + timedelta(hours=2)

    assert needed_watts(Decimal(20), Decimal(4), T0, two_hours) == Decimal(8000)
    assert needed_watts(Decimal(20), Decimal(25), T0, two_hours) == 0
    assert needed_watts(Decimal(20), Decimal(4), two_hours, T0) == Decimal("Infinity")


def test_an_infinite_need_is_capped_at_the_session_maximum() -> None:
    site = [Demand(key="A", upper_w=Decimal(7_000), lower_w=Decimal("Infinity"))]

    assert plan(site, Limit(total_w=Decimal(10_000))).watts == {"A": Decimal(7000)}


def test_the_equal_split_baseline() -> None:
    site = [Demand(key=k, upper_w=Decimal(1)) for k in ("A", "B", "C")]

    assert equal_split(site, Limit(Decimal(10_000))).watts == {
        "A": Decimal("3333.3"),
        "B": Decimal("3333.3"),
        "C": Decimal("3333.3"),
    }
    assert equal_split([], Limit(Decimal(1))).watts == {}
