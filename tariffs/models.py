"""Tariffs, their elements and price components (mod_tariffs.asciidoc, Object description).

Storage is relational, not one JSON document: the operator edits elements and components in
the admin, and the tariff engine reads exact Decimals and restriction values from columns.
Display data that nobody queries (tariff_alt_text, energy_mix, day_of_week) is validated JSON.

Absent optional strings are stored as "" (Django's convention) and absent numbers as NULL;
rendering omits both. A component's `vat` NULL ("no VAT applicable") is kept distinct from 0.
"""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from ocpi.json import DecimalJSONDecoder, DecimalJSONEncoder
from ocpi.querysets import PartyOwnedQuerySet
from ocpi.routing import PartyRef

# number: 4 decimals unless stated otherwise (types.asciidoc); 8 digits before the point.
MAX_DIGITS = 12
DECIMAL_PLACES = 4


class TariffType(models.TextChoices):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TariffDimensionType(models.TextChoices):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class DayOfWeek(models.TextChoices):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(models.TextChoices):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


def _at_most(low: str, high: str) -> Q:
    return (
        Q(**{f"{low}__isnull": True})
        | Q(**{f"{high}__isnull": True})
        | Q(**{f"{low}__lte": models.F(high)})
    )


class TariffQuerySet(PartyOwnedQuerySet["Tariff"]):
    pass


class Tariff(models.Model):
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=36)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    type = models.CharField(
        max_length=14,
        choices=TariffType.choices,
        blank=True,
        help_text="Empty: valid for all sessions.",
    )
    tariff_alt_text = models.JSONField(
        default=list,
        blank=True,
        encoder=DecimalJSONEncoder,
        decoder=DecimalJSONDecoder,
        help_text='DisplayText list, e.g. [{"language": "en", "text": "…"}]. '
        "With elements present it must not repeat their prices.",
    )
    tariff_alt_url = models.CharField(max_length=255, blank=True)
    min_price_excl_vat = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    min_price_incl_vat = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    max_price_excl_vat = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    max_price_incl_vat = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    energy_mix = models.JSONField(
        null=True, blank=True, encoder=DecimalJSONEncoder, decoder=DecimalJSONDecoder
    )
    last_updated = models.DateTimeField(db_index=True)

    objects = TariffQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"), Upper("party_id"), Upper("ocpi_id"), name="unique_tariff_id"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="tariff_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(min_price_incl_vat__isnull=True) | Q(min_price_excl_vat__isnull=False),
                name="tariff_min_price_has_excl_vat",
            ),
            models.CheckConstraint(
                condition=Q(max_price_incl_vat__isnull=True) | Q(max_price_excl_vat__isnull=False),
                name="tariff_max_price_has_excl_vat",
            ),
            models.CheckConstraint(
                condition=(Q(min_price_excl_vat__isnull=True) | Q(min_price_excl_vat__gte=0))
                & (Q(min_price_incl_vat__isnull=True) | Q(min_price_incl_vat__gte=0))
                & (Q(max_price_excl_vat__isnull=True) | Q(max_price_excl_vat__gte=0))
                & (Q(max_price_incl_vat__isnull=True) | Q(max_price_incl_vat__gte=0)),
                name="tariff_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=_at_most("min_price_excl_vat", "max_price_excl_vat")
                & _at_most("min_price_incl_vat", "max_price_incl_vat"),
                name="tariff_min_price_at_most_max_price",
            ),
            models.CheckConstraint(
                condition=_at_most("start_date_time", "end_date_time"),
                name="tariff_starts_before_it_ends",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.ocpi_id}"

    @property
    def party(self) -> PartyRef:
        return PartyRef.of(self.country_code, self.party_id)

    @property
    def object_key(self) -> str:
        """The push queue of this tariff: one per object, case-folded like the id."""
        party, tariff_id = self.party, self.ocpi_id.upper()
        return f"tariffs:{party.country_code}:{party.party_id}:{tariff_id}"

    @property
    def min_price(self) -> dict[str, Decimal | None] | None:
        return _price(self.min_price_excl_vat, self.min_price_incl_vat)

    @property
    def max_price(self) -> dict[str, Decimal | None] | None:
        return _price(self.max_price_excl_vat, self.max_price_incl_vat)


def _price(excl_vat: Decimal | None, incl_vat: Decimal | None) -> dict[str, Decimal | None] | None:
    if excl_vat is None:
        return None
    return {"excl_vat": excl_vat, "incl_vat": incl_vat}


# TariffRestrictions columns, in the order of the spec's table.
RESTRICTION_FIELDS = (
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "min_kwh",
    "max_kwh",
    "min_current",
    "max_current",
    "min_power",
    "max_power",
    "min_duration",
    "max_duration",
    "day_of_week",
    "reservation",
)


class TariffElement(models.Model):
    """A TariffElement with its TariffRestrictions flattened into columns.

    There is no "has restrictions" flag: an element has restrictions when any column is set,
    so an empty `restrictions` object and none at all are the same thing (and render as none).
    """

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="elements")
    position = models.PositiveIntegerField(help_text="Elements apply first-match in this order.")
    start_time = models.CharField(max_length=5, blank=True, help_text="HH:MM, local time.")
    end_time = models.CharField(
        max_length=5, blank=True, help_text="HH:MM, local time; 00:00 means end of day."
    )
    start_date = models.CharField(max_length=10, blank=True, help_text="YYYY-MM-DD, inclusive.")
    end_date = models.CharField(max_length=10, blank=True, help_text="YYYY-MM-DD, exclusive.")
    min_kwh = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    max_kwh = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    min_current = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="A, all phases.",
    )
    max_current = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="A, all phases.",
    )
    min_power = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True, help_text="kW."
    )
    max_power = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True, help_text="kW."
    )
    min_duration = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds since session start, inclusive."
    )
    max_duration = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds since session start, exclusive."
    )
    day_of_week = models.JSONField(default=list, blank=True)
    reservation = models.CharField(
        max_length=19, choices=ReservationRestrictionType.choices, blank=True
    )

    class Meta:
        ordering = ["tariff", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "position"], name="unique_element_position"),
            models.CheckConstraint(
                condition=_at_most("min_kwh", "max_kwh")
                & _at_most("min_current", "max_current")
                & _at_most("min_power", "max_power")
                & _at_most("min_duration", "max_duration"),
                name="element_min_at_most_max",
            ),
            models.CheckConstraint(
                condition=(Q(min_kwh__isnull=True) | Q(min_kwh__gte=0))
                & (Q(max_kwh__isnull=True) | Q(max_kwh__gte=0))
                & (Q(min_current__isnull=True) | Q(min_current__gte=0))
                & (Q(max_current__isnull=True) | Q(max_current__gte=0))
                & (Q(min_power__isnull=True) | Q(min_power__gte=0))
                & (Q(max_power__isnull=True) | Q(max_power__gte=0)),
                name="element_limits_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    Q(start_time="") | Q(start_time__regex=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
                )
                & (Q(end_time="") | Q(end_time__regex=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")),
                name="element_times_hh_mm",
            ),
            models.CheckConstraint(
                condition=(
                    Q(start_date="") | Q(start_date__regex=r"^[12][0-9]{3}-[01][0-9]-[0-3][0-9]$")
                )
                & (Q(end_date="") | Q(end_date__regex=r"^[12][0-9]{3}-[01][0-9]-[0-3][0-9]$")),
                name="element_dates_yyyy_mm_dd",
            ),
            models.CheckConstraint(
                condition=Q(start_date="")
                | Q(end_date="")
                | Q(start_date__lte=models.F("end_date")),
                name="element_start_date_at_most_end_date",
            ),
        ]

    def __str__(self) -> str:
        return f"element {self.position + 1} of {self.tariff}"

    @property
    def restrictions(self) -> dict[str, Any] | None:
        """The TariffRestrictions object: the set columns only, None when none is set."""
        values = {
            name: value
            for name in RESTRICTION_FIELDS
            if (value := getattr(self, name)) is not None and value not in ("", [])
        }
        return values or None


class PriceComponent(models.Model):
    element = models.ForeignKey(
        TariffElement, on_delete=models.CASCADE, related_name="price_components"
    )
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=12, choices=TariffDimensionType.choices)
    price = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, help_text="Per unit, excluding VAT."
    )
    vat = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="Percent. Empty means no VAT applicable, which differs from 0.",
    )
    step_size = models.PositiveIntegerField(
        help_text="Wh for ENERGY, seconds for TIME and PARKING_TIME; ignored for FLAT."
    )

    class Meta:
        ordering = ["element", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["element", "position"], name="unique_component_position"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="component_price_not_negative"),
            models.CheckConstraint(
                condition=Q(vat__isnull=True) | Q(vat__gte=0), name="component_vat_not_negative"
            ),
            # FLAT has no unit to step in, and the spec's own free-of-charge example sends 0.
            models.CheckConstraint(
                condition=Q(step_size__gt=0) | Q(type=TariffDimensionType.FLAT),
                name="component_step_size_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.price}"
