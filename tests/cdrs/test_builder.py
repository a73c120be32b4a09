"""The CDR of a completed session: built from the frozen data, priced, stored and queued.

mod_cdrs.asciidoc: CDR Object ("Location, EVSE, Tariffs and Token as they were at the start";
a new Charging Period "when another Tariff Element becomes active"), Push model (only the
eMSP of the token). Tariff vectors: checklist §5.3.
"""

from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from cdrs.services import cdr_for_session, render_cdr
from credentials.models import PartnerPlatform
from locations.models import Location
from ocpi import json
from push.models import Change, Delivery
from sessions.models import SessionStatus
from tests.cdrs.conftest import (
    CDR_EXAMPLE,
    EMSP_CDRS_URL,
    T10_END,
    T10_PERIODS,
    MakeSession,
    cdr_location,
    dimension,
    energy,
)
from tests.examples import load, tariff_example

pytestmark = pytest.mark.django_db


def as_json(value: Any) -> Any:
    """What the eMSP receives: the JSON text read back with exact decimals."""
    return json.loads(json.dumps(value))


def test_t10_complex_tariff_end_to_end(make_session: MakeSession, emsp: PartnerPlatform) -> None:
    tariff = tariff_example("tariff_4_complex.json")
    session = make_session("SESSION-T10", periods=T10_PERIODS, end=T10_END, tariffs=[tariff])

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    sent = as_json(render_cdr(cdr))
    assert {name: sent[name] for name in sent if name.startswith("total_")} == {
        "total_cost": {"excl_vat": Decimal("9.00"), "incl_vat": Decimal("10.30")},
        "total_fixed_cost": {"excl_vat": Decimal("2.50"), "incl_vat": Decimal("2.875")},
        "total_energy": Decimal(20),
        "total_energy_cost": {"excl_vat": 0, "incl_vat": 0},
        "total_time": Decimal("3.45"),
        "total_time_cost": {"excl_vat": Decimal("2.75"), "incl_vat": Decimal("3.30")},
        "total_parking_time": Decimal("0.7"),
        "total_parking_cost": {"excl_vat": Decimal("3.75"), "incl_vat": Decimal("4.125")},
        "total_reservation_cost": {"excl_vat": 0, "incl_vat": 0},
    }
    assert sent["charging_periods"] == [
        {
            "start_date_time": "2024-06-03T07:30:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 20},
                {"type": "TIME", "volume": Decimal("2.75")},
                {"type": "MAX_CURRENT", "volume": 16},
            ],
            "tariff_id": "14",
        },
        {
            "start_date_time": "2024-06-03T10:15:00Z",
            "dimensions": [{"type": "PARKING_TIME", "volume": Decimal("0.7")}],
            "tariff_id": "14",
        },
    ]
    assert sent["tariffs"] == as_json([tariff])
    # The breakdown the admin shows: what each price component billed.
    assert [
        (line["category"], line["type"], line["quantity"], line["excl_vat"], line["incl_vat"])
        for line in cdr.cost_lines
    ] == [
        ("TIME", "TIME", Decimal("2.75"), Decimal("2.75"), Decimal("3.300")),
        ("FIXED", "FLAT", 1, Decimal("2.50"), Decimal("2.875")),
        ("PARKING", "PARKING_TIME", Decimal("0.75"), Decimal("3.75"), Decimal("4.125")),
    ]


def test_the_cdr_is_the_session_as_it_started(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    session = make_session(
        "Session-1",
        periods=T10_PERIODS,
        end=T10_END,
        tariffs=[tariff_example("tariff_4_complex.json")],
        authorization_reference="AUTH-REF-1",
        meter_id="METER-7",
        auth_method="AUTH_REQUEST",
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    sent = as_json(render_cdr(cdr))
    assert {name: sent[name] for name in sent if not name.startswith("total_")} == {
        "country_code": "BE",
        "party_id": "BEC",
        "id": "Session-1",
        "start_date_time": "2024-06-03T07:30:00Z",
        "end_date_time": "2024-06-03T10:57:00Z",
        "session_id": "Session-1",
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "012345678",
            "type": "RFID",
            "contract_id": "DE8ACC12E46L89",
        },
        "auth_method": "AUTH_REQUEST",
        "authorization_reference": "AUTH-REF-1",
        "cdr_location": cdr_location(),
        "meter_id": "METER-7",
        "currency": "EUR",
        "tariffs": sent["tariffs"],
        "charging_periods": sent["charging_periods"],
        "last_updated": sent["last_updated"],
    }
    assert cdr.charging_session == session
    assert cdr.last_updated == Cdr.objects.get().last_updated


def test_the_cdr_is_posted_to_the_tokens_emsp_only(
    make_session: MakeSession, emsp: PartnerPlatform, other_emsp: PartnerPlatform
) -> None:
    session = make_session(periods=T10_PERIODS, end=T10_END)

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    change = Change.objects.get()
    assert (change.module, change.method, change.path, change.object_key) == (
        "cdrs",
        "POST",
        [],
        "cdrs:BE:BEC:S1",
    )
    assert change.payload == as_json(render_cdr(cdr))
    assert (change.owner_country_code, change.owner_party_id) == ("BE", "BEC")
    [delivery] = Delivery.objects.all()
    assert (delivery.partner, delivery.to_country_code, delivery.to_party_id) == (
        emsp,
        "DE",
        "MSP",
    )
    assert cdr.push_change == change
    assert emsp.endpoint_url("cdrs", "RECEIVER") == EMSP_CDRS_URL


def test_without_a_registered_emsp_the_cdr_is_kept_for_its_pull(
    make_session: MakeSession, other_emsp: PartnerPlatform
) -> None:
    cdr = cdr_for_session(session=make_session(periods=T10_PERIODS, end=T10_END))

    assert cdr is not None
    assert (Cdr.objects.count(), Change.objects.count(), cdr.push_change) == (1, 0, None)


@pytest.mark.parametrize(
    "status",
    [SessionStatus.INVALID, SessionStatus.ACTIVE, SessionStatus.PENDING, SessionStatus.RESERVATION],
)
def test_only_a_completed_session_gets_a_cdr(
    make_session: MakeSession, emsp: PartnerPlatform, status: str
) -> None:
    session = make_session(periods=T10_PERIODS, end=T10_END, status=status)

    assert cdr_for_session(session=session) is None
    assert (Cdr.objects.count(), Change.objects.count()) == (0, 0)


def test_a_session_gets_one_cdr_however_often_it_is_asked(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    session = make_session(periods=T10_PERIODS, end=T10_END)

    first = cdr_for_session(session=session)
    second = cdr_for_session(session=session)

    assert first == second
    assert (Cdr.objects.count(), Change.objects.count(), Delivery.objects.count()) == (1, 1, 1)


def test_periods_split_where_the_energy_price_changes_at_17h(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    """T21 (mod_cdrs, step_size text): 0.20/kWh before 17:00, 0.27 after, both step 500 Wh.

    One meter period from 16:00 to 18:00 local (2 h, 5.4 kWh) is split at 17:00 with the
    energy up to that moment in the first piece; 5.4 kWh bill as 5.5 (the surplus at 0.27).
    """
    tariff = {
        "country_code": "BE",
        "party_id": "BEC",
        "id": "T21",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.20"), "step_size": 500}
                ],
                "restrictions": {"end_time": "17:00"},
            },
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.27"), "step_size": 500}]},
        ],
        "last_updated": "2024-01-01T00:00:00Z",
    }
    session = make_session(
        periods=[("2024-06-03T14:00:00Z", [energy("5.4"), dimension("TIME", "2")])],
        end="2024-06-03T16:00:00Z",
        tariffs=[tariff],
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    assert cdr.charging_periods == [
        {
            "start_date_time": "2024-06-03T14:00:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": Decimal("2.7")},
                {"type": "TIME", "volume": 1},
            ],
            "tariff_id": "T21",
        },
        {
            "start_date_time": "2024-06-03T15:00:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": Decimal("2.7")},
                {"type": "TIME", "volume": 1},
            ],
            "tariff_id": "T21",
        },
    ]
    # 2.7 × 0.20 + (2.7 + 0.1) × 0.27
    assert (cdr.total_cost_excl_vat, cdr.total_energy) == (Decimal("1.296"), Decimal("5.4"))


def test_the_spec_cdr_example_priced_from_its_session(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    """cdr_example.json as the session it describes: TIME 2.00/h (10 % VAT) step 300 s over
    1.973 h billed as 2 h: the example's totals 4.00 / 4.40."""
    example = load(CDR_EXAMPLE)
    session = make_session(
        example["id"],
        periods=[
            (period["start_date_time"], period["dimensions"])
            for period in example["charging_periods"]
        ],
        end=example["end_date_time"],
        tariffs=example["tariffs"],
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    sent = as_json(render_cdr(cdr))
    for name in ("total_cost", "total_time_cost", "start_date_time", "end_date_time", "tariffs"):
        assert sent[name] == example[name], name
    # 21:39:09 to 23:37:32 is 7103 s: 1.97305… h, which the example prints with 3 decimals.
    assert (sent["total_time"], example["total_time"]) == (Decimal("1.9731"), Decimal("1.973"))
    assert sent["charging_periods"] == [
        {
            **example["charging_periods"][0],
            "dimensions": [{"type": "TIME", "volume": Decimal("1.9731")}],
        }
    ]


def test_a_session_without_a_tariff_costs_nothing_and_names_none(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    session = make_session(periods=T10_PERIODS, end=T10_END)

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    sent = as_json(render_cdr(cdr))
    assert (sent["total_cost"], "tariffs" in sent) == ({"excl_vat": 0, "incl_vat": 0}, False)
    assert [period.get("tariff_id") for period in sent["charging_periods"]] == [None, None]
    assert (sent["total_energy"], sent["total_time"], cdr.cost_lines) == (
        20,
        Decimal("3.45"),
        [],
    )


def test_a_reservation_starts_the_cdr_and_is_priced(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    """T12 (tariff_15): reserved 15 min before charging (5.00/h), 20 kWh at 0.25: 6.75."""
    session = make_session(
        periods=[
            ("2024-06-03T10:00:00Z", [dimension("RESERVATION_TIME", "0.25")]),
            ("2024-06-03T10:15:00Z", [energy("20"), dimension("TIME", "1")]),
        ],
        end="2024-06-03T11:15:00Z",
        tariffs=[tariff_example("tariff_15_reservation_5_euro_per_hour.json")],
        reserved=("2024-06-03T10:00:00Z", "2024-06-03T10:15:00Z"),
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    assert cdr.start_date_time.isoformat() == "2024-06-03T10:00:00+00:00"
    assert (cdr.total_cost_excl_vat, cdr.total_reservation_cost_excl_vat) == (
        Decimal("6.75"),
        Decimal("1.25"),
    )
    assert [p["dimensions"][0]["type"] for p in cdr.charging_periods] == [
        "RESERVATION_TIME",
        "ENERGY",
    ]


def test_session_only_dimensions_never_reach_the_cdr(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    session = make_session(
        periods=[
            (
                "2024-06-03T10:00:00Z",
                [
                    energy("11"),
                    dimension("TIME", "1"),
                    dimension("POWER", "11"),
                    dimension("CURRENT", "16"),
                    dimension("STATE_OF_CHARGE", "80"),
                    dimension("MIN_POWER", "10"),
                ],
            )
        ],
        end="2024-06-03T11:00:00Z",
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    assert [d["type"] for d in cdr.charging_periods[0]["dimensions"]] == [
        "ENERGY",
        "TIME",
        "MIN_POWER",
    ]


def test_the_location_is_the_one_frozen_at_the_start(
    make_session: MakeSession, emsp: PartnerPlatform, location: Location
) -> None:
    """ "If e.g. a street is renamed the day after a session took place, the driver should be
    presented with the name valid at the time the session was started" (CDR Object)."""
    session = make_session(periods=T10_PERIODS, end=T10_END)
    Location.objects.filter(pk=location.pk).update(name="Gent Sint-Pieters", address="Elsewhere 1")

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    assert (cdr.cdr_location["name"], cdr.cdr_location["address"]) == (
        "Gent Zuid",
        "F.Rooseveltlaan 3A",
    )


def test_a_session_without_meter_values_is_billed_on_its_energy(
    make_session: MakeSession, emsp: PartnerPlatform
) -> None:
    session = make_session(
        periods=[],
        end="2024-06-03T11:00:00Z",
        kwh=Decimal("7.5"),
        tariffs=[tariff_example("tariff_8_simple_025kwh.json")],
    )

    cdr = cdr_for_session(session=session)

    assert cdr is not None
    assert cdr.charging_periods == [
        {
            "start_date_time": "2024-06-03T10:00:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": Decimal("7.5")},
                {"type": "TIME", "volume": 1},
            ],
            "tariff_id": "16",
        }
    ]
    assert cdr.total_cost_excl_vat == Decimal("1.875")
