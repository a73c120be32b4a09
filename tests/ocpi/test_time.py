"""OCPI DateTime (types.asciidoc, DateTime): UTC only, `Z` optional on input, no offsets."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from ocpi.fields import DateTimeField
from ocpi.time import format_datetime, now, parse_datetime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC), "2026-03-01T12:00:05Z"),
        (datetime(2026, 3, 1, 12, 0, 5, 123000, tzinfo=UTC), "2026-03-01T12:00:05.123Z"),
        (datetime(2026, 3, 1, 12, 0, 5, 7000, tzinfo=UTC), "2026-03-01T12:00:05.007Z"),
        # Below a millisecond is cut: we render milliseconds at most.
        (datetime(2026, 3, 1, 12, 0, 5, 999, tzinfo=UTC), "2026-03-01T12:00:05Z"),
        (datetime(2026, 3, 1, 12, 0, 5, 123999, tzinfo=UTC), "2026-03-01T12:00:05.123Z"),
        # Another zone is converted to UTC, never written as an offset.
        (
            datetime(2026, 3, 1, 13, 0, 5, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-01T12:00:05Z",
        ),
    ],
)
def test_format_writes_utc_with_z_and_milliseconds(value: datetime, text: str) -> None:
    assert format_datetime(value) == text


def test_format_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(datetime(2026, 3, 1, 12, 0, 5))  # noqa: DTZ001


def test_now_is_utc_at_millisecond_precision() -> None:
    moment = now()

    assert (moment.tzinfo, moment.microsecond % 1000) == (UTC, 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-03-01T12:00:05Z", datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)),
        ("2026-03-01T12:00:05", datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)),  # no Z: UTC
        ("2026-03-01T12:00:05.1Z", datetime(2026, 3, 1, 12, 0, 5, 100000, tzinfo=UTC)),
        ("2026-03-01T12:00:05.123", datetime(2026, 3, 1, 12, 0, 5, 123000, tzinfo=UTC)),
        ("2026-03-01T12:00:05.1234Z", datetime(2026, 3, 1, 12, 0, 5, 123400, tzinfo=UTC)),
        # Longer than string(25), accepted on input (see ocpi/time.py); beyond µs is cut.
        ("2026-03-01T12:00:05.123456Z", datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)),
        ("2026-03-01T12:00:05.123456789Z", datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)),
    ],
)
def test_parse_reads_utc_with_and_without_z(text: str, value: datetime) -> None:
    assert parse_datetime(text) == value


SHAPE = r"^expected YYYY-MM-DDThh:mm:ss\[\.fff\]\[Z\] in UTC; time zone offsets are not allowed$"
TOO_LONG = "^expected an OCPI DateTime string of at most 30 characters$"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-01T12:00:05+00:00", SHAPE),
        ("2026-03-01T12:00:05+01:00", SHAPE),
        ("2026-03-01T12:00+00:00", SHAPE),
        ("2026-03-01T12:00:05-05", SHAPE),
        ("2026-03-01", SHAPE),
        ("2026-03-01 12:00:05Z", SHAPE),
        ("2026-03-01T12:00Z", SHAPE),
        ("2026-03-01T12:00:05z", SHAPE),
        ("2026-03-01T12:00:05.Z", SHAPE),
        ("yesterday", SHAPE),
        ("", SHAPE),
        ("2026-13-01T12:00:05Z", "^month must be in 1..12$"),
        ("2026-02-30T12:00:05Z", "^day is out of range for month$"),
        ("2026-03-01T24:00:05Z", "^hour must be in 0..23$"),
        ("2026-03-01T12:00:05.1234567890Z", TOO_LONG),  # 31 characters
        ("2026-03-01T12:00:05.1234567890", SHAPE),  # ten fraction digits
    ],
)
def test_parse_refuses_offsets_dates_and_garbage(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_datetime(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(ValueError, match="OCPI DateTime string"):
        parse_datetime(1772366405)  # type: ignore[arg-type]


def test_format_and_parse_round_trip() -> None:
    value = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)

    assert parse_datetime(format_datetime(value)) == value


class StampSerializer(serializers.Serializer[dict[str, datetime]]):
    last_updated = DateTimeField()


def test_datetime_field_reads_ocpi_datetimes() -> None:
    serializer = StampSerializer(data={"last_updated": "2026-03-01T12:00:05.5"})

    assert serializer.is_valid()
    assert serializer.validated_data == {
        "last_updated": datetime(2026, 3, 1, 12, 0, 5, 500000, tzinfo=UTC)
    }


def test_datetime_field_refuses_an_offset_with_the_reason() -> None:
    serializer = StampSerializer(data={"last_updated": "2026-03-01T12:00:05+01:00"})

    assert not serializer.is_valid()
    assert serializer.errors == {
        "last_updated": [
            "Invalid OCPI DateTime: expected YYYY-MM-DDThh:mm:ss[.fff][Z] in UTC; "
            "time zone offsets are not allowed"
        ]
    }


def test_datetime_field_refuses_null_unless_allowed() -> None:
    serializer = StampSerializer(data={"last_updated": None})

    assert not serializer.is_valid()
    assert serializer.errors == {"last_updated": ["This field may not be null."]}


def test_datetime_field_writes_z_even_for_other_zones() -> None:
    value = datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5)))

    assert StampSerializer({"last_updated": value}).data == {"last_updated": "2026-03-01T12:00:00Z"}
