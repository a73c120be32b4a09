"""Tariff validation (mod_tariffs.asciidoc, Object description): enums, formats, lengths,
cardinality; the spec's examples are valid, and its PUT example lacks last_updated."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from ocpi.exceptions import ocpi_exception_handler
from tariffs.serializers import TariffSerializer
from tests.tariffs.conftest import TARIFF_EXAMPLES, example, simple_tariff


def errors_of(payload: dict[str, Any]) -> Any:
    serializer = TariffSerializer(data=payload)
    assert not serializer.is_valid()
    return serializer.errors


def with_element(element: dict[str, Any]) -> dict[str, Any]:
    return simple_tariff(elements=[element])


def energy(**component: Any) -> dict[str, Any]:
    return {"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1, **component}


def restricted(**restrictions: Any) -> dict[str, Any]:
    return with_element({"price_components": [energy()], "restrictions": restrictions})


@pytest.mark.parametrize("name", TARIFF_EXAMPLES)
def test_every_complete_tariff_example_is_valid(name: str) -> None:
    serializer = TariffSerializer(data=example(name))

    assert serializer.is_valid(), serializer.errors


def test_the_put_example_lacks_the_required_last_updated() -> None:
    # The spec's PUT example is a Tariff without last_updated, which the Tariff table requires.
    assert errors_of(example("tariff_put_example.json")) == {
        "last_updated": ["This field is required."]
    }


def test_a_tariff_without_elements_is_refused_with_2001() -> None:
    errors = errors_of(simple_tariff(elements=[]))

    response = ocpi_exception_handler(ValidationError(errors), {})

    assert errors == {"elements": {"non_field_errors": ["This list may not be empty."]}}
    assert response is not None
    assert response.data["status_code"] == 2001
    assert response.data["status_message"] == "elements: This list may not be empty."


def test_a_tariff_without_the_elements_field_is_refused() -> None:
    payload = simple_tariff()
    del payload["elements"]

    assert errors_of(payload) == {"elements": ["This field is required."]}


def test_an_element_without_price_components_is_refused() -> None:
    errors = errors_of(with_element({"price_components": []}))

    assert errors == {
        "elements": {0: {"price_components": {"non_field_errors": ["This list may not be empty."]}}}
    }


@pytest.mark.parametrize("value", ["CHEAP", "regular"])
def test_unknown_or_miscased_tariff_types_are_refused(value: str) -> None:
    assert errors_of(simple_tariff(type=value)) == {"type": [f'"{value}" is not a valid choice.']}


def test_every_tariff_type_is_accepted() -> None:
    for value in ("AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"):
        assert TariffSerializer(data=simple_tariff(type=value)).is_valid()


def test_an_unknown_dimension_is_refused() -> None:
    errors = errors_of(with_element({"price_components": [energy(type="KWH")]}))

    assert errors == {
        "elements": {0: {"price_components": {0: {"type": ['"KWH" is not a valid choice.']}}}}
    }


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "€"])
def test_currency_must_be_three_capital_letters(currency: str) -> None:
    assert "currency" in errors_of(simple_tariff(currency=currency))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "x" * 37),
        ("country_code", "DEU"),
        ("party_id", "ALLX"),
        ("id", "tab\tin-id"),
        ("tariff_alt_url", "https://example.com/" + "x" * 236),
        ("tariff_alt_url", "ftp://example.com/tariff"),
    ],
)
def test_lengths_and_string_types_are_enforced(field: str, value: str) -> None:
    assert field in errors_of(simple_tariff(**{field: value}))


def test_an_id_of_36_characters_is_accepted() -> None:
    assert TariffSerializer(data=simple_tariff("x" * 36)).is_valid()


def test_alt_text_is_a_list_of_display_texts() -> None:
    errors = errors_of(simple_tariff(tariff_alt_text=[{"language": "eng", "text": "x" * 513}]))

    assert errors == {
        "tariff_alt_text": {
            0: {
                "language": ["Ensure this field has no more than 2 characters."],
                "text": ["Ensure this field has no more than 512 characters."],
            }
        }
    }


@pytest.mark.parametrize("value", ["24:00", "9:00", "09:60", "0900", "09:00:00", 900])
def test_times_must_be_hh_mm(value: Any) -> None:
    assert "elements" in errors_of(restricted(start_time=value))


@pytest.mark.parametrize("value", ["00:00", "09:05", "23:59"])
def test_valid_times_are_accepted(value: str) -> None:
    assert TariffSerializer(data=restricted(start_time=value, end_time=value)).is_valid()


@pytest.mark.parametrize(
    "value", ["2019-02-30", "2019-1-1", "19-01-01", "2019-13-01", "2019/01/01"]
)
def test_dates_must_be_real_yyyy_mm_dd(value: str) -> None:
    assert "elements" in errors_of(restricted(start_date=value))


def test_day_of_week_takes_the_enum_values_once_each() -> None:
    unknown = errors_of(restricted(day_of_week=["MONDAY", "MON"]))
    twice = errors_of(restricted(day_of_week=["MONDAY", "MONDAY"]))

    assert unknown == {
        "elements": {0: {"restrictions": {"day_of_week": {1: ['"MON" is not a valid choice.']}}}}
    }
    assert twice == {
        "elements": {0: {"restrictions": {"day_of_week": ["Each day may appear once."]}}}
    }


@pytest.mark.parametrize("value", ["RESERVATION", "RESERVATION_EXPIRES"])
def test_reservation_takes_its_enum_values(value: str) -> None:
    payload = with_element(
        {
            "price_components": [{"type": "TIME", "price": 5, "step_size": 60}],
            "restrictions": {"reservation": value},
        }
    )

    assert TariffSerializer(data=payload).is_valid()


def test_an_unknown_reservation_type_is_refused() -> None:
    errors = errors_of(restricted(reservation="RESERVED"))

    assert errors == {
        "elements": {0: {"restrictions": {"reservation": ['"RESERVED" is not a valid choice.']}}}
    }


def test_a_reservation_element_may_only_price_flat_and_time() -> None:
    errors = errors_of(restricted(reservation="RESERVATION"))

    assert errors == {
        "elements": {
            0: {
                "price_components": [
                    "A reservation element may only have FLAT and TIME components, not ENERGY."
                ]
            }
        }
    }


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("min_kwh", "max_kwh"),
        ("min_current", "max_current"),
        ("min_power", "max_power"),
        ("min_duration", "max_duration"),
    ],
)
def test_a_minimum_above_its_maximum_is_refused(low: str, high: str) -> None:
    errors = errors_of(restricted(**{low: 20, high: 10}))

    assert errors == {"elements": {0: {"restrictions": {high: [f"Must not be less than {low}."]}}}}


def test_an_end_date_before_the_start_date_is_refused() -> None:
    errors = errors_of(restricted(start_date="2024-02-01", end_date="2024-01-31"))

    assert errors == {
        "elements": {0: {"restrictions": {"end_date": ["Must not be less than start_date."]}}}
    }


def test_negative_limits_and_durations_are_refused() -> None:
    errors = errors_of(restricted(min_kwh=Decimal("-1"), max_duration=-5))

    assert set(errors["elements"][0]["restrictions"]) == {"min_kwh", "max_duration"}


def test_step_size_zero_is_refused_except_for_flat() -> None:
    # FLAT has no unit to step in: the spec's free-of-charge example sends 0.
    flat = with_element({"price_components": [{"type": "FLAT", "price": 0, "step_size": 0}]})
    errors = errors_of(with_element({"price_components": [energy(step_size=0)]}))

    assert TariffSerializer(data=flat).is_valid()
    assert errors == {
        "elements": {
            0: {"price_components": {0: {"step_size": ["Must be at least 1 for ENERGY."]}}}
        }
    }


def test_negative_prices_and_vat_are_refused() -> None:
    errors = errors_of(with_element({"price_components": [energy(price=-1, vat=-1)]}))

    assert set(errors["elements"][0]["price_components"][0]) == {"price", "vat"}


def test_numbers_must_be_json_numbers() -> None:
    as_string = errors_of(with_element({"price_components": [energy(price="0.25")]}))
    as_bool = errors_of(with_element({"price_components": [energy(vat=True)]}))

    assert "price" in as_string["elements"][0]["price_components"][0]
    assert "vat" in as_bool["elements"][0]["price_components"][0]


def test_more_than_four_decimals_are_refused_rather_than_rounded() -> None:
    errors = errors_of(with_element({"price_components": [energy(price=Decimal("0.12345"))]}))

    assert errors == {
        "elements": {
            0: {
                "price_components": {
                    0: {"price": ["Ensure that there are no more than 4 decimal places."]}
                }
            }
        }
    }


def test_vat_absent_and_vat_zero_stay_distinct() -> None:
    serializer = TariffSerializer(
        data=with_element({"price_components": [energy(), energy(vat=Decimal("0.0"))]})
    )

    assert serializer.is_valid(), serializer.errors
    components = serializer.validated_data["elements"][0]["price_components"]
    assert "vat" not in components[0]
    assert components[1]["vat"] == Decimal("0")


def test_min_price_needs_excl_vat_and_may_omit_incl_vat() -> None:
    without_excl = errors_of(simple_tariff(min_price={"incl_vat": Decimal("1")}))
    excl_only = TariffSerializer(data=simple_tariff(min_price={"excl_vat": Decimal("1")}))

    assert without_excl == {"min_price": {"excl_vat": ["This field is required."]}}
    assert excl_only.is_valid()


def test_min_price_above_max_price_is_refused_per_vat_side() -> None:
    errors = errors_of(
        simple_tariff(
            min_price={"excl_vat": 5, "incl_vat": 6},
            max_price={"excl_vat": 10, "incl_vat": 5},
        )
    )

    assert errors == {"max_price": ["incl_vat must not be less than min_price.incl_vat."]}


def test_a_tariff_ending_before_it_starts_is_refused() -> None:
    errors = errors_of(
        simple_tariff(start_date_time="2024-02-01T00:00:00Z", end_date_time="2024-01-01T00:00:00Z")
    )

    assert errors == {"end_date_time": ["Must not be before start_date_time."]}


def test_datetimes_with_an_offset_are_refused() -> None:
    assert "start_date_time" in errors_of(
        simple_tariff(start_date_time="2024-01-01T00:00:00+01:00")
    )


def test_energy_mix_is_validated() -> None:
    errors = errors_of(
        simple_tariff(energy_mix={"energy_sources": [{"source": "SUN", "percentage": 101}]})
    )

    assert errors == {
        "energy_mix": {
            "is_green_energy": ["This field is required."],
            "energy_sources": {
                0: {
                    "source": ['"SUN" is not a valid choice.'],
                    "percentage": ["Ensure this value is less than or equal to 100."],
                }
            },
        }
    }


def test_optional_fields_accept_null_and_lists_accept_empty() -> None:
    payload = simple_tariff(
        type=None,
        tariff_alt_text=[],
        tariff_alt_url=None,
        min_price=None,
        max_price=None,
        start_date_time=None,
        end_date_time=None,
        energy_mix=None,
    )
    payload["elements"][0]["restrictions"] = None

    assert TariffSerializer(data=payload).is_valid()
