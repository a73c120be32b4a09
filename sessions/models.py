"""Charging sessions at our CPO parties' locations (mod_sessions.asciidoc).

A Session is owned by the CPO party whose location it runs at (country_code, party_id) and is
reported to the eMSP party that owns its token (the CdrToken's country_code and party_id, new
in 2.2.1 exactly so that a session names its eMSP). Charging periods are rows of their own:
the spec's PATCH appends periods, and so do we, one INSERT per new period.

What a CDR must freeze "as at session start" (mod_cdrs: the CdrLocation and the tariff) is
copied onto the session when it starts, in the OCPI form it will be sent in, so pricing the
running session and building its CDR read the very same data.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from locations.models import EVSE, Connector, Location
from ocpi.json import exact_json_field
from ocpi.querysets import TokenOwnedQuerySet
from ocpi.routing import PartyRef
from tokens.models import TokenType

MONEY_DIGITS = 12
MONEY_PLACES = 4  # the engine rounds each total once, to 4 decimals (tariffs/engine/rounding.py)
NOT_APPLICABLE = "#NA"  # evse_uid / connector_id of a reservation not bound to an EVSE yet


class SessionStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


FINAL_STATUSES = (SessionStatus.COMPLETED, SessionStatus.INVALID)


class ChargingPreferencesResponse(models.TextChoices):
    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class AuthMethod(models.TextChoices):
    """AuthMethod (mod_cdrs): also a Session field, so defined here, below the cdrs app."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class SessionQuerySet(TokenOwnedQuerySet["Session"]):
    def running(self) -> "SessionQuerySet":
        return self.exclude(status__in=FINAL_STATUSES)

    def charged(self) -> "SessionQuerySet":
        """Those the operator's figures count as charging sessions: charging or charged. Not a
        reservation, one still pending (not charging yet), or one declared INVALID (not
        billed)."""
        return self.filter(status__in=(SessionStatus.ACTIVE, SessionStatus.COMPLETED))


class Session(models.Model):
    # The CPO party that owns the session (the location's owner).
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=36)
    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField(null=True, blank=True)
    kwh = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    # CdrToken (mod_cdrs): the token's owner receives the session.
    token_country_code = models.CharField(max_length=2)
    token_party_id = models.CharField(max_length=3)
    token_uid = models.CharField(max_length=36)
    token_type = models.CharField(max_length=11, choices=TokenType.choices)
    contract_id = models.CharField(max_length=36)
    auth_method = models.CharField(max_length=12, choices=AuthMethod.choices)
    authorization_reference = models.CharField(max_length=36, blank=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="sessions")
    # Null only for a reservation not yet bound to an EVSE: rendered as "#NA".
    evse = models.ForeignKey(
        EVSE, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    meter_id = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    # Absent is "not known yet", never "free": 0.00 is free (mod_sessions, total_cost).
    total_cost_excl_vat = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    total_cost_incl_vat = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    status = models.CharField(max_length=11, choices=SessionStatus.choices)
    last_updated = models.DateTimeField()

    # Operator-side, not OCPI fields.
    charging_preferences = exact_json_field(
        null=True, blank=True, help_text="The last ChargingPreferences the eMSP set (PUT)."
    )
    reserved_from = models.DateTimeField(
        null=True, blank=True, help_text="Start of the reservation that preceded charging."
    )
    reserved_until = models.DateTimeField(
        null=True, blank=True, help_text="When the reservation ended (charging or expiry)."
    )
    # Frozen at the start (mod_cdrs: "as at the start of the session"), in OCPI form.
    cdr_location = exact_json_field(help_text="CdrLocation at the session's start.")
    tariffs = exact_json_field(
        default=list, blank=True, help_text="Tariff objects valid at the start."
    )
    tariff_id = models.CharField(
        "pricing tariff",
        max_length=36,
        blank=True,
        help_text="Id of the tariff among `tariffs` that prices the session (chosen at the "
        "start, see sessions.tariffs); empty: none applies and total_cost stays unknown.",
    )
    metered_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="End of the last charging period: where the next one starts (periods only "
        "state their start, mod_cdrs ChargingPeriod).",
    )
    time_zone = models.CharField(max_length=255, help_text="The location's, at the start.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"),
                Upper("party_id"),
                Upper("ocpi_id"),
                name="session_unique_id_per_party",
                violation_error_message="A session with this id already exists for the party.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(auth_method__in=AuthMethod.values), name="session_auth_method_valid"
            ),
            models.CheckConstraint(
                condition=~Q(ocpi_id="") & ~Q(country_code="") & ~Q(party_id=""),
                name="session_ids_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(total_cost_excl_vat__isnull=True, total_cost_incl_vat__isnull=True)
                | Q(total_cost_excl_vat__isnull=False, total_cost_incl_vat__isnull=False),
                name="session_total_cost_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["last_updated"], name="session_last_updated"),
            models.Index(
                Upper("token_country_code"), Upper("token_party_id"), name="session_token_party"
            ),
            models.Index(fields=["status"], name="session_status"),
            # The operator's figures per day and month (sessions.selectors) read a date range:
            # on PostgreSQL the index carries what they count and add up, so they scan it alone
            # (an index-only scan) instead of fetching wide session rows; SQLite: a plain index.
            models.Index(
                fields=["start_date_time"], include=["id", "status", "kwh"], name="session_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.ocpi_id} ({self.status})"

    @property
    def party(self) -> PartyRef:
        return PartyRef.of(self.country_code, self.party_id)

    @property
    def token_party(self) -> PartyRef:
        return PartyRef.of(self.token_country_code, self.token_party_id)

    @property
    def object_key(self) -> str:
        """The push queue of this session: one per object, case-folded like the id."""
        party = self.party
        return f"sessions:{party.country_code}:{party.party_id}:{self.ocpi_id.upper()}"

    @property
    def is_final(self) -> bool:
        """COMPLETED or INVALID: no more modifications (mod_sessions, SessionStatus)."""
        return self.status in FINAL_STATUSES


class SessionChargingPeriod(models.Model):
    """A ChargingPeriod (mod_cdrs): it lasts until the next one starts."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="charging_periods")
    position = models.PositiveIntegerField()
    start_date_time = models.DateTimeField()
    dimensions = exact_json_field(
        help_text='CdrDimension list: [{"type": "ENERGY", "volume": 1.5}, …]'
    )
    tariff_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="period_unique_position")
        ]

    def __str__(self) -> str:
        return f"period {self.position} of {self.session}"


class SessionDayFigures(models.Model):
    """The charged sessions (SessionQuerySet.charged) that started on `day` (in
    settings.TIME_ZONE) and their kWh, kept by ocpi.daily_figures (sessions.daily)."""

    day = models.DateField(unique=True)
    sessions = models.PositiveIntegerField()
    kwh = models.DecimalField(max_digits=24, decimal_places=6)

    def __str__(self) -> str:
        return f"{self.day}: {self.sessions} sessions"
