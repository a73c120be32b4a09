"""Charging profiles (mod_charging_profiles, CPO Receiver) and load management.

ProfileRequest   one PUT/GET/DELETE of an eMSP: its immediate answer, the call it became
                 and the result POSTed to its response_url
SessionProfile   what a session's limit is made of: the eMSP's profile (while set), the
                 grid share load management planned, what the charge point was sent, and
                 the eMSP party told of changes (ActiveChargingProfile PUTs)
GridLimit        the limit of a location's grid connection, or of a group of its EVSEs,
                 with its time-of-day windows and the last plan
"""

from django.db import models
from django.db.models import Q

from chargers.models import ChargePointCall
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from ocpi.json import exact_json_field
from sessions.models import Session


class RequestKind(models.TextChoices):
    SET = "SET", "PUT: SetChargingProfile"
    GET = "GET", "GET: ActiveChargingProfile"
    CLEAR = "CLEAR", "DELETE: ClearProfile"


class ResponseType(models.TextChoices):
    """ChargingProfileResponseType: our immediate answer."""

    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ResultType(models.TextChoices):
    """ChargingProfileResultType: the charge point's answer, POSTed to the response_url."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ProfileRequest(models.Model):
    partner = models.ForeignKey(
        PartnerPlatform, on_delete=models.CASCADE, related_name="profile_requests"
    )
    emsp_country_code = models.CharField(max_length=2, help_text="The party it spoke for.")
    emsp_party_id = models.CharField(max_length=3)
    session_ocpi_id = models.CharField("session id", max_length=36)
    session = models.ForeignKey(
        Session,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="profile_requests",
        help_text="Empty: no session of the caller's has that id.",
    )
    kind = models.CharField(max_length=5, choices=RequestKind.choices)
    response_url = models.CharField(max_length=255)
    charging_profile = exact_json_field(null=True, blank=True, help_text="PUT: as received.")
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="GET: seconds.")
    received_at = models.DateTimeField()
    response = models.CharField(max_length=15, choices=ResponseType.choices)
    reason = models.TextField(blank=True)
    call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="profile_request",
    )
    result = models.CharField(max_length=8, choices=ResultType.choices, blank=True)
    result_profile = exact_json_field(
        null=True, blank=True, help_text="GET: the ActiveChargingProfile sent back."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["session", "received_at"], name="profilerequest_session")]

    def __str__(self) -> str:
        return f"{self.kind} {self.session_ocpi_id}: {self.response} {self.result}".rstrip()


class SessionProfile(models.Model):
    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="profile_state")
    emsp_profile = exact_json_field(
        null=True, blank=True, help_text="The eMSP's ChargingProfile while set (OCPI form)."
    )
    emsp_set_at = models.DateTimeField(null=True, blank=True)
    subscriber_country_code = models.CharField(
        max_length=2,
        blank=True,
        help_text="The eMSP party that set a profile at least once: it is told of changes.",
    )
    subscriber_party_id = models.CharField(max_length=3, blank=True)
    grid_limit = models.ForeignKey(
        "GridLimit", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    planned_w = models.DecimalField(
        max_digits=12,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Its share of the grid limit (W); empty: not managed.",
    )
    starved = models.BooleanField(
        default=False, help_text="Left at 0 W: the minimums of the site exceed its limit."
    )
    sent_profile = exact_json_field(
        null=True,
        blank=True,
        help_text="The TxProfile last sent to the charge point (OCPI form); empty: none.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    planned_call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_profile",
        help_text="The last SetChargingProfile load management sent.",
    )

    def __str__(self) -> str:
        return f"profile of {self.session}"


class GridLimit(models.Model):
    """A grid connection's limit: the whole `location`, or only `evses` when some are chosen
    (an EVSE is behind at most one limit)."""

    name = models.CharField(max_length=100)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="grid_limits")
    evses = models.ManyToManyField(
        EVSE, blank=True, related_name="grid_limits", help_text="None chosen: every EVSE."
    )
    max_kw = models.DecimalField("limit (kW)", max_digits=10, decimal_places=3)
    max_phase_a = models.DecimalField(
        "limit per phase (A)", max_digits=8, decimal_places=1, null=True, blank=True
    )
    windows = models.JSONField(
        default=list,
        blank=True,
        help_text='Lower limits by local time of day: [{"from": "17:00", "until": "21:00", '
        '"max_kw": 40, "max_phase_a": 63}, …]',
    )
    active = models.BooleanField(default=True)
    # The last plan (chargingprofiles.services.replan).
    planned_at = models.DateTimeField(null=True, blank=True)
    plan = models.JSONField(default=dict, blank=True, help_text="Session id → W.")
    starved = models.JSONField(default=list, blank=True, help_text="Sessions left at 0 W.")
    limit_w = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    next_change_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(max_kw__gte=0), name="gridlimit_max_kw_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.max_kw} kW)"
