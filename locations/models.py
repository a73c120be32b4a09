"""Locations, EVSEs and Connectors of our CPO parties (mod_locations.asciidoc).

What is looked up, filtered or constrained is a column: the owner party and OCPI ids, the
`publish` and `roaming` flags, `last_updated`, EVSE status, connector type and power.
Nested display data (opening times, images, directions, business details, energy mix…) is
JSON, validated by the OCPI serializers before it is stored and stored in the canonical form
it is rendered in. Coordinates are strings, exactly as the spec defines them.

Ids are CiStrings: kept as written, unique and looked up case-insensitively (Upper()).
`last_updated` is protocol data written by locations.services, never auto_now.
"""

from collections.abc import Sequence
from typing import Self

from django.db import models
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import Upper

from ocpi.json import exact_json_field
from ocpi.querysets import PartyOwnedQuerySet
from ocpi.routing import PartyRef


class Status(models.TextChoices):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class Capability(models.TextChoices):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"  # noqa: S105 (an enum value, not a secret)
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorFormat(models.TextChoices):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(models.TextChoices):
    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    # The spec spells these four in mixed case; enum values are case-sensitive.
    IEC_60309_2_SINGLE_16 = "IEC_60309_2_single_16"
    IEC_60309_2_THREE_16 = "IEC_60309_2_three_16"
    IEC_60309_2_THREE_32 = "IEC_60309_2_three_32"
    IEC_60309_2_THREE_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class PowerType(models.TextChoices):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class ParkingType(models.TextChoices):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class ParkingRestriction(models.TextChoices):
    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class Facility(models.TextChoices):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class TokenType(models.TextChoices):
    """PublishTokenType.type (mod_tokens, TokenType); locations must not import tokens."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class MapColour(models.TextChoices):
    """A location's marker on the operator's map, from its EVSEs' statuses
    (LocationQuerySet.with_status_counts)."""

    GREEN = "green", "an EVSE is available"
    BLUE = "blue", "in use (charging, blocked or reserved), none available"
    RED = "red", "out of order or inoperative, none available or in use"
    GREY = "grey", "unknown or planned only, or no EVSEs"


# The statuses a location's EVSEs are counted by: REMOVED ones are gone from the estate.
COUNTED_STATUSES = tuple(status for status in Status if status != Status.REMOVED)
IN_USE = (Status.CHARGING, Status.BLOCKED, Status.RESERVED)
BROKEN = (Status.OUTOFORDER, Status.INOPERATIVE)


def status_count_name(status: str) -> str:
    """The annotation with_status_counts() gives a status's EVSE count."""
    return f"evses_{status.lower()}"


class LocationQuerySet(PartyOwnedQuerySet["Location"]):
    def roaming(self) -> Self:
        """Offered to roaming partners: `roaming` is the operator's flag (private or home
        chargers are never offered, by GET or push)."""
        return self.filter(roaming=True)

    def visible_to(self, parties: Sequence[PartyRef]) -> Self:
        """What a partner may GET (credentials.access): the roaming locations of our
        `parties` the request addresses (credentials.routing.Route.receiver_parties())."""
        return self.for_parties(parties).roaming()

    def identified(self, location_id: str) -> Self:
        """By OCPI id, a CiString (the unique index's term)."""
        return self.filter(ocpi_id__ci=location_id)

    def with_status_counts(self) -> Self:
        """Each location with its EVSEs counted per status (status_count_name(); REMOVED not
        counted) and its `map_colour` (MapColour): the first of available, in use, broken
        that any EVSE is, else grey. One query (GROUP BY location), however many rows."""
        counts = {
            status_count_name(status): Count("evses", filter=Q(evses__status=status))
            for status in COUNTED_STATUSES
        }

        def any_of(statuses: Sequence[str]) -> Q:
            return Q.create([(f"{status_count_name(s)}__gt", 0) for s in statuses], Q.OR)

        colour = Case(
            When(any_of([Status.AVAILABLE]), then=Value(MapColour.GREEN.value)),
            When(any_of(IN_USE), then=Value(MapColour.BLUE.value)),
            When(any_of(BROKEN), then=Value(MapColour.RED.value)),
            default=Value(MapColour.GREY.value),
            output_field=models.CharField(),
        )
        return self.annotate(**counts).annotate(map_colour=colour)


class Location(models.Model):
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=36)
    publish = models.BooleanField(default=True)
    publish_allowed_to = exact_json_field(default=list, blank=True)
    name = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=255)  # 255 since the errata (was 45)
    city = models.CharField(max_length=45)
    postal_code = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=45, blank=True)  # 45 since the errata (was 20)
    country = models.CharField(max_length=3, help_text="ISO 3166-1 alpha-3")
    latitude = models.CharField(max_length=10)
    longitude = models.CharField(max_length=11)
    related_locations = exact_json_field(default=list, blank=True)
    parking_type = models.CharField(max_length=20, choices=ParkingType.choices, blank=True)
    directions = exact_json_field(default=list, blank=True)
    operator = exact_json_field(null=True, blank=True)
    suboperator = exact_json_field(null=True, blank=True)
    owner = exact_json_field(null=True, blank=True)
    facilities = exact_json_field(default=list, blank=True)
    time_zone = models.CharField(max_length=255)
    opening_times = exact_json_field(null=True, blank=True)
    charging_when_closed = models.BooleanField(null=True, blank=True)  # absent = true
    images = exact_json_field(default=list, blank=True)
    energy_mix = exact_json_field(null=True, blank=True)
    last_updated = models.DateTimeField()
    # Operator-side, not OCPI: False keeps the location out of Sender GETs and pushes
    # (private or home chargers not offered to roaming partners).
    roaming = models.BooleanField(
        default=True, help_text="Offer this location to roaming partners (GET and push)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"),
                Upper("party_id"),
                Upper("ocpi_id"),
                name="location_unique_id_per_party",
                violation_error_message="A location with this id already exists for the party.",
            ),
            models.CheckConstraint(
                condition=Q(parking_type__in=["", *ParkingType.values]),
                name="location_parking_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(ocpi_id="") & ~Q(country_code="") & ~Q(party_id=""),
                name="location_ids_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["roaming", "last_updated"], name="location_roaming_updated"),
            models.Index(fields=["last_updated"], name="location_last_updated"),
            models.Index(fields=["publish"], name="location_publish"),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.ocpi_id} {self.name}".rstrip()

    @property
    def coordinates(self) -> dict[str, str]:
        return {"latitude": self.latitude, "longitude": self.longitude}


class EVSE(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="evses")
    uid = models.CharField(max_length=36)
    evse_id = models.CharField(max_length=48, blank=True, help_text="eMI3 EVSE ID")
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.AVAILABLE)
    status_schedule = exact_json_field(default=list, blank=True)
    capabilities = exact_json_field(default=list, blank=True)
    floor_level = models.CharField(max_length=4, blank=True)
    latitude = models.CharField(max_length=10, blank=True)
    longitude = models.CharField(max_length=11, blank=True)
    physical_reference = models.CharField(max_length=16, blank=True)
    directions = exact_json_field(default=list, blank=True)
    parking_restrictions = exact_json_field(default=list, blank=True)
    images = exact_json_field(default=list, blank=True)
    last_updated = models.DateTimeField()

    class Meta:
        verbose_name = "EVSE"
        constraints = [
            models.UniqueConstraint(
                "location",
                Upper("uid"),
                name="evse_unique_uid_per_location",
                violation_error_message="An EVSE with this uid already exists at the location.",
            ),
            # An evse_id may be reused once its EVSE is REMOVED (mod_locations, EVSE.evse_id).
            models.UniqueConstraint(
                Upper("evse_id"),
                condition=~Q(status=Status.REMOVED) & ~Q(evse_id=""),
                name="evse_unique_evse_id_while_not_removed",
                violation_error_message="Another EVSE that is not REMOVED has this evse_id.",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="evse_status_valid"),
            models.CheckConstraint(condition=~Q(uid=""), name="evse_uid_not_empty"),
            models.CheckConstraint(
                condition=Q(latitude="", longitude="") | (~Q(latitude="") & ~Q(longitude="")),
                name="evse_coordinates_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="evse_status")]

    def __str__(self) -> str:
        return self.evse_id or self.uid

    @property
    def coordinates(self) -> dict[str, str] | None:
        if not self.latitude:
            return None
        return {"latitude": self.latitude, "longitude": self.longitude}


class Connector(models.Model):
    evse = models.ForeignKey(EVSE, on_delete=models.PROTECT, related_name="connectors")
    ocpi_id = models.CharField("id", max_length=36)
    standard = models.CharField(max_length=21, choices=ConnectorType.choices)
    format = models.CharField(max_length=6, choices=ConnectorFormat.choices)
    power_type = models.CharField(max_length=16, choices=PowerType.choices)
    max_voltage = models.PositiveIntegerField(help_text="V (line to neutral for AC_3_PHASE)")
    max_amperage = models.PositiveIntegerField(help_text="A")
    max_electric_power = models.PositiveIntegerField(null=True, blank=True, help_text="W")
    # Tariff.id strings, as the spec refers to them: locations never imports tariffs.
    tariff_ids = exact_json_field(default=list, blank=True)
    terms_and_conditions = models.CharField(max_length=255, blank=True)
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "evse",
                Upper("ocpi_id"),
                name="connector_unique_id_per_evse",
                violation_error_message="A connector with this id already exists on the EVSE.",
            ),
            models.CheckConstraint(
                condition=Q(standard__in=ConnectorType.values), name="connector_standard_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ConnectorFormat.values), name="connector_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(power_type__in=PowerType.values), name="connector_power_type_valid"
            ),
            models.CheckConstraint(condition=~Q(ocpi_id=""), name="connector_id_not_empty"),
        ]
        indexes = [
            models.Index(fields=["standard", "power_type"], name="connector_type_power"),
        ]

    def __str__(self) -> str:
        return f"{self.evse} connector {self.ocpi_id}"
