"""The price preview on a tariff's page: the engine pricing an example session.

The operator describes a session (local start, charging time, energy, optionally the power,
a parking time after charging, and a reservation before it, or one that expired unused);
it becomes the charging periods a CDR would carry, the reservation the engine's Reservation
phase (which RESERVATION and RESERVATION_EXPIRES elements price), and is priced by
tariffs.engine.price_session on the tariff as saved (tariffs.catalogue.engine_tariff), the
very call that prices sessions and CDRs.
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
        label="Charging time",
        required=False,  # none after a reservation that expired (clean)
        help_text="e.g. 45 min or 1 h 30 min (a bare number: seconds).",
    )
    energy = forms.DecimalField(
        label="Energy (kWh)",
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=4,
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
    reservation = DurationSecondsField(
        label="Reserved before the start",
        required=False,
        help_text="From the booking until the start, e.g. 15 min: priced by the tariff's "
        "RESERVATION elements. Empty: no reservation.",
    )
    reservation_expired = forms.BooleanField(
        label="The reservation expired unused",
        required=False,
        help_text="No session followed: the start is when it ran out, priced by "
        "RESERVATION_EXPIRES elements; leave the session's inputs empty.",
    )

    def clean_time_zone(self) -> ZoneInfo:
        name = str(self.cleaned_data["time_zone"]).strip()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                f"{name!r} is not a time zone: write an IANA name such as Europe/Berlin."
            ) from None

    def clean_charging(self) -> int | None:
        seconds: int | None = self.cleaned_data["charging"]
        if seconds is not None and seconds <= 0:
            raise forms.ValidationError("A session charges for some time: more than 0.")
        return seconds

    def clean_reservation(self) -> int:
        seconds: int = self.cleaned_data["reservation"] or 0
        if seconds < 0:
            raise forms.ValidationError("A reservation lasts some time: 0 or more.")
        return seconds

    def _check_phases(self, cleaned: dict[str, Any]) -> None:
        """A session charges; a reservation that expired unused has no session at all."""
        session = ("charging", "energy", "power", "parking")
        if cleaned.get("reservation_expired"):
            if not cleaned.get("reservation") and "reservation" not in self.errors:
                self.add_error(
                    "reservation", "Give how long the reservation ran before it expired."
                )
            for name in session:
                if cleaned.get(name):
                    self.add_error(name, "An expired reservation has no session: leave it empty.")
            return
        for name in ("charging", "energy"):
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, "Needed for a session (or tick the expired reservation).")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_phases(cleaned)
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
            charging_seconds=data.get("charging") or 0,
            energy_kwh=data.get("energy") or Decimal(0),
            power_kw=data.get("power"),
            parking_seconds=data.get("parking") or 0,
            reservation_seconds=data.get("reservation") or 0,
            reservation_expired=bool(data.get("reservation_expired")),
        )


@dataclass(frozen=True)
class ExampleSession:
    start: datetime  # aware, in the location's zone
    charging_seconds: int
    energy_kwh: Decimal
    power_kw: Decimal | None = None
    parking_seconds: int = 0
    reservation_seconds: int = 0  # reserved until `start`
    reservation_expired: bool = False  # then no session: the reservation ran out at `start`

    def timeline(self) -> engine.Timeline:
        """A charging period, then a parking one: the periods a CDR of this session carries;
        before them the reservation, if any."""
        start = self.start.astimezone(UTC)
        reservation = None
        if self.reservation_seconds:
            reserved_at = start - timedelta(seconds=self.reservation_seconds)
            reservation = engine.Reservation(reserved_at, start, self.reservation_expired)
        if self.reservation_expired:
            return engine.Timeline(periods=(), end=start, reservation=reservation)
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
        return engine.Timeline(periods=tuple(periods), end=end, reservation=reservation)


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


def shown(cost: engine.SessionCost, session: ExampleSession) -> dict[str, Any]:
    """What the preview shows: amounts as money (2 to 4 decimals), durations readable."""
    return {
        "reserved": readable_duration(session.reservation_seconds)
        if session.reservation_seconds
        else "",
        "expired": session.reservation_expired,
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
