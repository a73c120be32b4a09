"""OCPI commands received from eMSPs (mod_commands, Receiver interface), one row per command.

A Command keeps what the eMSP sent, what it was answered at once (CommandResponse, kept so
that the same command sent again gets the same answer and acts once: unique per eMSP party,
command type and response_url), the charge point call it made, and the CommandResult sent
to its response_url (commands.results).
"""

from django.db import models

from chargers.models import ChargePointCall
from credentials.models import PartnerPlatform


class CommandType(models.TextChoices):
    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(models.TextChoices):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(models.TextChoices):
    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandState(models.TextChoices):
    ANSWERED = "ANSWERED", "answered at once, nothing sent to a charge point"
    WAITING = "WAITING", "sent to the charge point, awaiting its answer"
    DONE = "DONE", "result queued to the response_url"


class Command(models.Model):
    partner = models.ForeignKey(PartnerPlatform, on_delete=models.CASCADE, related_name="+")
    party_country_code = models.CharField(max_length=2, help_text="The eMSP party that sent it.")
    party_party_id = models.CharField(max_length=3)
    owner_country_code = models.CharField(max_length=2, help_text="Our party it addressed.")
    owner_party_id = models.CharField(max_length=3)
    type = models.CharField(max_length=18, choices=CommandType.choices)
    response_url = models.CharField(max_length=255)
    request = models.JSONField(help_text="The body as the eMSP sent it.")
    response_status_code = models.PositiveSmallIntegerField(default=1000)
    response = models.JSONField(help_text="The CommandResponse answered at once.")
    state = models.CharField(max_length=8, choices=CommandState.choices)
    result = models.CharField(max_length=20, choices=CommandResultType.choices, blank=True)
    result_message = models.CharField(max_length=512, blank=True)
    call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="command",
        help_text="The call to the charge point it made.",
    )
    session = models.ForeignKey(
        "charging_sessions.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commands",
        help_text="The session it started or stopped.",
    )
    received_at = models.DateTimeField()
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["party_country_code", "party_party_id", "type", "response_url"],
                name="command_once_per_response_url",
            )
        ]
        indexes = [models.Index(fields=["state", "received_at"], name="command_state")]

    def __str__(self) -> str:
        return f"{self.type} from {self.party_country_code}*{self.party_party_id}"
