"""The price preview on a tariff's page: the engine pricing an example session.

The operator describes a session (local start, charging time, energy, optionally the power
and a parking time after charging); it becomes the charging periods a CDR would carry and
is priced by tariffs.engine.price_session on the tariff as saved (tariffs.catalogue
.engine_tariff), the very call that prices sessions and CDRs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from tariffs import engine
from tariffs.durations import readable_duration
from tariffs.forms import DurationSecondsField
from tariffs.summary import money

_HOUR_VOLUME = Decimal("0.0001")  # a CDR's time volumes: hours, 4 decimals
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


class PreviewForm(forms.Form):
    start = forms.CharField(
        label="Start (local time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the time zone below: tariff restrictions are local times.",
    )
    time_zone = forms.CharField(
        label="Time zone", help_text="IANA name; the zone of a location that uses the tariff."
    )
    charging = DurationSecondsField(
        label="Charging time", help_text="e.g. 45 min or 1 h 30 min (a bare number: seconds)."
    )
    energy = forms.DecimalField(
        label="Energy (kWh)", min_value=Decimal(0), max_digits=12, decimal_places=4
    )
    power = forms.DecimalField(
        label="Power (kW)",
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=4,
        help_text="What min_power/max_power restrictions compare with. "
        "Empty: energy ÷ charging time, as for a CDR's periods.",
    )
    parking = DurationSecondsField(
        label="Parking/idle time after charging",
        required=False,
        help_text="Plugged in without charging, e.g. 40 min. Empty: none.",
    )

    def clean_time_zone(self) -> ZoneInfo:
        name = str(self.cleaned_data["time_zone"]).strip()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                f"{name!r} is not a time zone: write an IANA name such as Europe/Berlin."
            ) from None

    def clean_charging(self) -> int:
        seconds: int = self.cleaned_data["charging"]
        if seconds <= 0:
            raise forms.ValidationError("A session charges for some time: more than 0.")
        return seconds

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text, zone = cleaned.get("start"), cleaned.get("time_zone")
        if text is None or zone is None:
            return cleaned
        for layout in _LOCAL_FORMATS:
            try:
                cleaned["start"] = datetime.strptime(str(text).strip(), layout).replace(tzinfo=zone)
                return cleaned
            except ValueError:
                continue
        self.add_error("start", "Write the start as YYYY-MM-DD HH:MM, e.g. 2024-06-03 10:00.")
        return cleaned

    def example(self) -> "ExampleSession":
        data = self.cleaned_data
        return ExampleSession(
            start=data["start"],
            charging_seconds=data["charging"],
            energy_kwh=data["energy"],
            power_kw=data.get("power"),
            parking_seconds=data.get("parking") or 0,
        )


@dataclass(frozen=True)
class ExampleSession:
    start: datetime  # aware, in the location's zone
    charging_seconds: int
    energy_kwh: Decimal
    power_kw: Decimal | None = None
    parking_seconds: int = 0

    def timeline(self) -> engine.Timeline:
        """A charging period, then a parking one: the periods a CDR of this session carries."""
        start = self.start.astimezone(UTC)
        charging_end = start + timedelta(seconds=self.charging_seconds)
        charged = [
            engine.Dimension(engine.CdrDimension.ENERGY, self.energy_kwh),
            engine.Dimension(engine.CdrDimension.TIME, _hours(self.charging_seconds)),
        ]
        if self.power_kw is not None:
            # POWER (the period's average) is what power restrictions read (engine.timeline).
            charged.append(engine.Dimension(engine.CdrDimension.POWER, self.power_kw))
        periods = [engine.ChargingPeriod(start, tuple(charged))]
        if self.parking_seconds:
            parked = (
                engine.Dimension(engine.CdrDimension.ENERGY, Decimal(0)),
                engine.Dimension(engine.CdrDimension.PARKING_TIME, _hours(self.parking_seconds)),
            )
            periods.append(engine.ChargingPeriod(charging_end, parked))
        end = charging_end + timedelta(seconds=self.parking_seconds)
        return engine.Timeline(periods=tuple(periods), end=end)


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(_HOUR_VOLUME, rounding=ROUND_HALF_UP)


def price_example(tariff: engine.Tariff, session: ExampleSession) -> engine.SessionCost:
    """The engine's price of the example session; local times read in its start's zone."""
    zone: tzinfo | None = session.start.tzinfo
    assert zone is not None
    return engine.price_session(tariff, session.timeline(), zone)


# The CDR totals, in the order of the CDR object, for the breakdown table.
BREAKDOWN = (
    ("total_fixed_cost", "Fixed (FLAT)"),
    ("total_energy_cost", "Energy"),
    ("total_time_cost", "Charging time"),
    ("total_parking_cost", "Parking time"),
    ("total_reservation_cost", "Reservation"),
)


def breakdown(cost: engine.SessionCost) -> list[tuple[str, engine.Price]]:
    return [(label, getattr(cost, name)) for name, label in BREAKDOWN]


def shown(cost: engine.SessionCost) -> dict[str, Any]:
    """What the preview shows: amounts as money (2 to 4 decimals), durations readable."""
    return {
        "cost": cost,
        "breakdown": breakdown(cost),
        "rows": [
            (label, money(price.excl_vat), money(price.incl_vat))
            for label, price in breakdown(cost)
        ],
        "total": (money(cost.total_cost.excl_vat), money(cost.total_cost.incl_vat)),
        "energy": f"{cost.total_energy.normalize():f}",
        "time": readable_duration(int(cost.total_time * 3600)),
        "parking": readable_duration(int(cost.total_parking_time * 3600)),
    }
