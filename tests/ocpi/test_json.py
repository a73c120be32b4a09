"""Exact decimals in JSON (types.asciidoc, number): Decimal in, Decimal out, never a float."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from ocpi.json import OcpiJSONParser, OcpiJSONRenderer, dumps, loads


def test_a_sum_of_decimals_is_written_exactly() -> None:
    assert dumps({"total": Decimal("0.1") + Decimal("0.2")}) == '{"total":0.3}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12.375"), "12.375"),
        (Decimal("0.30"), "0.30"),
        (Decimal("-4.0001"), "-4.0001"),
        (
            Decimal("123456789012345678901234567890.123456789"),
            "123456789012345678901234567890.123456789",
        ),
        (7, "7"),
    ],
)
def test_decimals_are_json_numbers_with_their_own_digits(value: Decimal, text: str) -> None:
    assert dumps([value]) == f"[{text}]"


def test_datetimes_are_written_as_ocpi_datetimes() -> None:
    assert dumps({"at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC)}) == '{"at":"2026-03-01T12:00:00Z"}'


def test_text_is_written_as_utf8_not_escaped() -> None:
    assert dumps({"name": "Straße €"}) == '{"name":"Straße €"}'


def test_nan_and_infinity_are_refused_on_output() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"kwh": float("nan")})


def test_unknown_types_are_refused_on_output() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        dumps({"ids": {1, 2}})


def test_numbers_with_a_fraction_are_read_as_decimals() -> None:
    parsed = loads('{"kwh": 12.375, "total": 0.3, "big": 123456789012345678901234567890.123456789}')

    assert parsed == {
        "kwh": Decimal("12.375"),
        "total": Decimal("0.3"),
        "big": Decimal("123456789012345678901234567890.123456789"),
    }
    assert {type(value) for value in parsed.values()} == {Decimal}


def test_integers_stay_integers() -> None:
    parsed = loads('{"max_voltage": 230}')

    assert (parsed, type(parsed["max_voltage"])) == ({"max_voltage": 230}, int)


def test_a_decimal_round_trips_exactly() -> None:
    value = {"kwh": Decimal("0.1") + Decimal("0.2")}

    assert loads(dumps(value)) == {"kwh": Decimal("0.3")}


def test_renderer_writes_utf8_json_without_a_charset() -> None:
    renderer = OcpiJSONRenderer()

    assert (renderer.media_type, renderer.charset) == ("application/json", None)
    assert (
        renderer.render({"kwh": Decimal("1.10"), "name": "é"}) == '{"kwh":1.10,"name":"é"}'.encode()
    )


def test_renderer_writes_nothing_for_no_data() -> None:
    assert OcpiJSONRenderer().render(None) == b""


def test_parser_reads_decimals() -> None:
    stream = io.BytesIO(b'{"kwh": 0.3}')

    assert OcpiJSONParser().parse(stream) == {"kwh": Decimal("0.3")}


@pytest.mark.parametrize("body", [b"", b"  \r\n"])
def test_parser_reads_an_empty_body_as_none(body: bytes) -> None:
    assert OcpiJSONParser().parse(io.BytesIO(body)) is None


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"NaN", b"[1,]", b"\xff\xfe{}", b"\xc3("])
def test_parser_refuses_what_is_not_utf8_json(body: bytes) -> None:
    with pytest.raises(ParseError, match="Request body is not valid JSON"):
        OcpiJSONParser().parse(io.BytesIO(body))


@pytest.mark.urls("tests.ocpi.testapp.urls")
def test_decimals_survive_a_request_and_its_answer_exactly(partner_client: APIClient) -> None:
    body = b'{"id":"S1","kwh":0.1,"last_updated":"2026-03-01T12:00:00"}'

    response = partner_client.post(
        "/ocpi/cpo/2.2.1/testecho", data=body, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.content.startswith(
        b'{"data":{"id":"S1","kwh":0.1,"last_updated":"2026-03-01T12:00:00Z"},"status_code":1000,'
    )


@pytest.mark.urls("tests.ocpi.testapp.urls")
def test_large_precision_survives_a_request_exactly(partner_client: APIClient) -> None:
    digits = b"123456789012345678901234567890.123456789"
    body = b'{"id":"S1","kwh":' + digits + b',"last_updated":"2026-03-01T12:00:00Z"}'

    response = partner_client.post(
        "/ocpi/cpo/2.2.1/testecho", data=body, content_type="application/json"
    )

    assert b'"kwh":' + digits + b"," in response.content
