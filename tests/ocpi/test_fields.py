"""Serializer fields for OCPI data types (types.asciidoc): CiString, string, URL, number."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework import serializers

from ocpi.fields import CiStringField, NumberField, StringField, UrlField


def probe(field: serializers.Field[Any, Any, Any, Any], value: object) -> Any:
    """Validate `{"value": value}` with a serializer holding just `field`."""
    serializer_class = type("Probe", (serializers.Serializer,), {"value": field})
    serializer = serializer_class(data={"value": value})
    serializer.is_valid()
    return serializer


def errors_of(field: serializers.Field[Any, Any, Any, Any], value: object) -> Any:
    return probe(field, value).errors.get("value")


def valid_value(field: serializers.Field[Any, Any, Any, Any], value: object) -> Any:
    serializer = probe(field, value)
    assert serializer.errors == {}
    return serializer.validated_data["value"]


def test_cistring_keeps_the_value_as_sent() -> None:
    assert valid_value(CiStringField(max_length=36), " Loc-01 ~!") == " Loc-01 ~!"


def test_cistring_accepts_exactly_its_maximum_length() -> None:
    assert valid_value(CiStringField(max_length=3), "ABC") == "ABC"


def test_cistring_refuses_a_longer_value() -> None:
    assert errors_of(CiStringField(max_length=3), "ABCD") == [
        "Ensure this field has no more than 3 characters."
    ]


@pytest.mark.parametrize("value", ["Straße", "café", "ID\u00a0", "€"])
def test_cistring_refuses_non_ascii(value: str) -> None:
    assert errors_of(CiStringField(max_length=36), value) == ["Must be printable ASCII (CiString)."]


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\tb", "a\x00b", "a\x7fb"])
def test_cistring_refuses_control_characters(value: str) -> None:
    assert errors_of(CiStringField(max_length=36), value) == ["Must be printable ASCII (CiString)."]


@pytest.mark.parametrize("value", [42, 1.5, True, ["A"], {"a": 1}])
def test_cistring_refuses_non_strings(value: object) -> None:
    assert errors_of(CiStringField(max_length=36), value) == ["Not a valid string."]


def test_string_keeps_utf8_and_case() -> None:
    assert valid_value(StringField(max_length=20), "Straße Café €") == "Straße Café €"


def test_string_counts_characters_not_bytes() -> None:
    assert valid_value(StringField(max_length=3), "€€€") == "€€€"


def test_string_refuses_a_longer_value() -> None:
    assert errors_of(StringField(max_length=3), "abcd") == [
        "Ensure this field has no more than 3 characters."
    ]


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\tb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b"])
def test_string_refuses_control_characters(value: str) -> None:
    assert errors_of(StringField(max_length=20), value) == ["Must not contain control characters."]


def test_string_refuses_null_unless_allowed() -> None:
    assert errors_of(StringField(max_length=20), None) == ["This field may not be null."]


@pytest.mark.parametrize(
    "value",
    [
        "https://cpo.example.com/ocpi/versions",
        "http://10.0.0.1:8080/ocpi/2.2.1/locations",
        "HTTPS://CPO.EXAMPLE.COM/",
    ],
)
def test_url_accepts_absolute_http_urls(value: str) -> None:
    assert valid_value(UrlField(), value) == value


@pytest.mark.parametrize(
    "value", ["ftp://cpo.example.com/", "cpo.example.com/ocpi", "/ocpi/versions", "https:///path"]
)
def test_url_refuses_other_urls(value: str) -> None:
    assert errors_of(UrlField(), value) == ["Must be an absolute http(s) URL."]


def test_url_refuses_blank() -> None:
    assert errors_of(UrlField(), "") == ["This field may not be blank."]


def test_url_refuses_more_than_255_characters() -> None:
    value = "https://cpo.example.com/" + "a" * 232

    assert errors_of(UrlField(), value) == ["Ensure this field has no more than 255 characters."]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, Decimal("0")),
        (12, Decimal("12")),
        (Decimal("12.375"), Decimal("12.375")),
        (Decimal("-0.0001"), Decimal("-0.0001")),
        (
            Decimal("123456789012345678901234567890.123456789"),
            Decimal("123456789012345678901234567890.123456789"),
        ),
    ],
)
def test_number_accepts_ints_and_decimals_exactly(value: object, expected: Decimal) -> None:
    parsed = valid_value(NumberField(), value)

    assert (type(parsed), parsed, str(parsed)) == (Decimal, expected, str(expected))


@pytest.mark.parametrize("value", ["12.5", "12", "", True, False, [1], {"v": 1}])
def test_number_refuses_strings_booleans_and_containers(value: object) -> None:
    assert errors_of(NumberField(), value) == ["A valid number is required."]


def test_number_renders_a_decimal_not_a_string() -> None:
    class Price(serializers.Serializer[Any]):
        excl_vat = NumberField()

    assert Price({"excl_vat": Decimal("0.30")}).data == {"excl_vat": Decimal("0.30")}
