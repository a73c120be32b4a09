"""Our charge points and what the OCPP gateway keeps about them.

    ChargePoint          one OCPP identity: how it authenticates, what it reported at boot,
                         which gateway holds its websocket (connection state), its clock offset
    ChargePointEvse      OCPP EVSE id n (1.6: connector id n) ↔ one of our EVSEs; one EVSE
                         belongs to at most one charge point
    ConnectorStatus      the last status it reported for each of its connectors (chargers.status
                         derives our EVSEs' statuses from these)
    ChargerTransaction   one OCPP transaction and the Session it feeds
    TransactionEvent     each transaction message as received (de-duplication, time order)
    AuthorizationRecord  the last decision on a token at a charge point (Authorize), reused by
                         the transaction that follows
    ChargePointCall      a call to a charge point from anywhere: its state lives here, so a
                         lost wake-up delays it and never loses it
    ChargePointMessage   the recent frames of a charge point, both ways (bounded; for support)
    Reservation          an eMSP's RESERVE_NOW at one of its EVSEs (chargers.reservations)

OCPP ids on the wire are integers (EVSE, connector) or strings of the charge point
(2.0.1 transactionId); ours stay ours (EVSE uid, connector id, session id).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class OcppVersion(models.TextChoices):
    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"


class SecurityProfile(models.IntegerChoices):
    """OCPP 2.0.1 Part 2 A00 (and the 1.6 security whitepaper): how a charge point proves who
    it is. Profile 1 (Basic auth over plain ws) is the default of `charger_add`."""

    BASIC = 1, "1: HTTP Basic auth"
    TLS_BASIC = 2, "2: TLS + HTTP Basic auth"
    TLS_CLIENT_CERTIFICATE = 3, "3: TLS + client certificate"


class RegistrationStatus(models.TextChoices):
    """What a BootNotification is answered (1.6 RegistrationStatus, 2.0.1 the same values)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ChargePoint(models.Model):
    identity = models.CharField(
        max_length=48, unique=True, help_text="The last path segment of its websocket URL."
    )
    ocpp_version = models.CharField(
        "OCPP version",
        max_length=5,
        choices=OcppVersion.choices,
        default=OcppVersion.V16,
        help_text="The version it is provisioned for; the one it connected with is recorded.",
    )
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices, default=SecurityProfile.BASIC
    )
    password_hash = models.CharField(max_length=128, blank=True)
    registration_status = models.CharField(
        max_length=8, choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )
    heartbeat_interval = models.PositiveIntegerField(
        default=300, help_text="Seconds; answered in BootNotification."
    )
    relaxed_validation = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "JSON-schema keywords whose violations this charge point's messages may carry "
            '(e.g. ["additionalProperties", "maxLength"]): a vendor relaxation, never global.'
        ),
    )
    # What it says about itself (BootNotification).
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    booted_at = models.DateTimeField(null=True, blank=True)
    boot_status = models.CharField(
        max_length=8,
        choices=RegistrationStatus.choices,
        blank=True,
        help_text=(
            "What its last BootNotification was answered (blank: none yet). Until Accepted it "
            "may send nothing else (chargers.handlers.admitted)."
        ),
    )
    firmware_status = models.CharField(
        max_length=25, blank=True, help_text="Its last FirmwareStatusNotification."
    )
    firmware_status_at = models.DateTimeField(null=True, blank=True)
    # Its connection, written by the gateway that holds it.
    connected_version = models.CharField(max_length=5, choices=OcppVersion.choices, blank=True)
    gateway = models.CharField(
        max_length=100, blank=True, help_text="The gateway process holding its websocket."
    )
    connection = models.PositiveBigIntegerField(
        default=0, help_text="Counts connections: a newer one replaces an older one."
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    remote_address = models.CharField(max_length=100, blank=True)
    clock_offset = models.FloatField(
        null=True,
        blank=True,
        help_text="Seconds its clock is ahead of ours (negative: behind), last measured.",
    )
    offline_marked = models.BooleanField(
        default=False, help_text="Its EVSEs were set UNKNOWN after the offline grace period."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identity"]
        indexes = [models.Index(fields=["gateway"], name="chargepoint_gateway")]

    def __str__(self) -> str:
        return self.identity

    @property
    def online(self) -> bool:
        return bool(self.gateway)


class ChargePointEvse(models.Model):
    """OCPP EVSE id `ocpp_evse_id` of `charge_point` is our `evse`. In 1.6 that id is the
    connector id (each 1.6 connector is an OCPI EVSE: ocpi-2.2.1.md, mod_locations); in 2.0.1
    connectorId k of that EVSE is its k-th connector in id order (chargers.mapping)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="evses")
    ocpp_evse_id = models.PositiveIntegerField("OCPP EVSE / connector id")
    evse = models.OneToOneField(
        "locations.EVSE", on_delete=models.CASCADE, related_name="charge_point_link"
    )

    class Meta:
        ordering = ["charge_point", "ocpp_evse_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "ocpp_evse_id"], name="chargepointevse_unique_id"
            ),
            models.CheckConstraint(condition=Q(ocpp_evse_id__gte=1), name="chargepointevse_id_1"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point} #{self.ocpp_evse_id} → {self.evse}"


class ConnectorStatus(models.Model):
    """The last status `charge_point` reported for one connector, whether or not it is mapped to
    one of our EVSEs. 1.6 connector n: (n, 0); 2.0.1: (evseId, connectorId); EVSE id 0 is the
    charge point as a whole. A report older than `reported_at` is not applied (chargers.status)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="connector_statuses"
    )
    ocpp_evse_id = models.PositiveIntegerField("OCPP EVSE / connector id")
    connector_id = models.PositiveIntegerField(help_text="2.0.1 connectorId; 0 in OCPP 1.6.")
    status = models.CharField(max_length=20, help_text="As reported: Available, Charging, …")
    error_code = models.CharField(max_length=30, blank=True, help_text="1.6 errorCode.")
    info = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    reported_at = models.DateTimeField(
        help_text="The charge point's time of the status (ours when absent or impossible)."
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["charge_point", "ocpp_evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "ocpp_evse_id", "connector_id"],
                name="connectorstatus_unique_connector",
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point} #{self.ocpp_evse_id}/{self.connector_id}: {self.status}"


class ChargerTransaction(models.Model):
    """One OCPP transaction. 1.6: `transaction_id` is ours (the number StartTransaction is
    answered), `fingerprint` identifies a repeated StartTransaction; 2.0.1: the charge point's
    transactionId."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="transactions"
    )
    transaction_id = models.CharField(max_length=36)
    fingerprint = models.CharField(max_length=64, blank=True)
    ocpp_evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    id_token = models.CharField(max_length=255, blank=True)
    id_token_type = models.CharField(max_length=20, blank=True)
    session = models.OneToOneField(
        "charging_sessions.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charger_transaction",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    meter_start_wh = models.DecimalField(max_digits=20, decimal_places=3, null=True, blank=True)
    meter_last_wh = models.DecimalField(max_digits=20, decimal_places=3, null=True, blank=True)
    meter_last_at = models.DateTimeField(null=True, blank=True)
    last_seq_no = models.IntegerField(null=True, blank=True)
    stop_reason = models.CharField(max_length=40, blank=True)
    authorization_status = models.CharField(
        max_length=20,
        blank=True,
        help_text="What its token was answered (OCPP AuthorizationStatus).",
    )
    last_message_at = models.DateTimeField(
        null=True, blank=True, help_text="Our time of the last message about it."
    )
    rebooted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The charge point booted while it was open: it is closed after the grace "
        "period unless a message about it follows.",
    )
    state = models.JSONField(
        default=dict, blank=True, help_text="What the open charging period has gathered so far."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "transaction_id"], name="chargertransaction_unique_id"
            ),
            models.UniqueConstraint(
                fields=["charge_point", "fingerprint"],
                condition=~Q(fingerprint=""),
                name="chargertransaction_unique_fingerprint",
            ),
        ]
        indexes = [
            models.Index(fields=["charge_point", "ended_at"], name="chargertransaction_open"),
            models.Index(fields=["ended_at", "last_message_at"], name="chargertransaction_silent"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point} transaction {self.transaction_id}"


class TransactionEvent(models.Model):
    """A transaction message as the charge point sent it, kept so that a repeat is recognised
    (2.0.1: its seqNo; 1.6: the same content) and late ones are applied in its time order."""

    transaction = models.ForeignKey(
        ChargerTransaction, on_delete=models.CASCADE, related_name="events"
    )
    seq_no = models.IntegerField(null=True, blank=True)
    kind = models.CharField(
        max_length=20,
        help_text="1.6 StartTransaction, MeterValues or StopTransaction; 2.0.1 Started, "
        "Updated or Ended (chargers.transaction_steps).",
    )
    timestamp = models.DateTimeField(help_text="The charge point's time (corrected if impossible).")
    received_at = models.DateTimeField()
    digest = models.CharField(max_length=64, help_text="Of the payload: repeats are recognised.")
    payload = models.JSONField()
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["timestamp", "seq_no", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "digest"], name="transactionevent_unique_digest"
            ),
            models.UniqueConstraint(
                fields=["transaction", "seq_no"],
                condition=Q(seq_no__isnull=False),
                name="transactionevent_unique_seq_no",
            ),
        ]
        # The messages waiting to be applied, a few among every meter value ever stored: what
        # the applier reads by transaction and the catch-up (apply_released) by receipt.
        indexes = [
            models.Index(
                fields=["transaction", "received_at"],
                condition=Q(applied=False),
                name="transactionevent_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.transaction} {self.kind} {self.seq_no or ''}".rstrip()


class AuthorizationRecord(models.Model):
    """The last authorization decision on a token presented at a charge point.

    Authorize is answered with it, and the transaction that follows within
    OCPP_AUTHORIZATION_REUSE_SECONDS starts its session from it (with the eMSP's
    authorization_reference), whichever gateway process receives the transaction: the eMSP
    is not asked twice for one tap. A later Authorize replaces it.
    """

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="authorizations"
    )
    id_token = models.CharField(max_length=36, help_text="1.6 idTag, 2.0.1 idToken.idToken.")
    id_token_type = models.CharField(
        max_length=20, blank=True, help_text="2.0.1 IdTokenEnumType; empty for a 1.6 idTag."
    )
    decided_at = models.DateTimeField()
    allowed = models.BooleanField()
    result = models.CharField(max_length=30, help_text="tokens.authorization.Result")
    source = models.CharField(max_length=10, help_text="tokens.authorization.Source")
    reason = models.TextField(blank=True)
    token = models.ForeignKey(
        "tokens.Token", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    party_country_code = models.CharField(max_length=2, blank=True)
    party_party_id = models.CharField(max_length=3, blank=True)
    authorization_reference = models.CharField(max_length=36, blank=True)
    location_id = models.CharField(
        max_length=36, blank=True, help_text="Where the eMSP allowed charging, if it said."
    )
    evse_uids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "id_token", "id_token_type"],
                name="authorizationrecord_unique_token",
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point} {self.id_token}: {self.result}"


class CallState(models.TextChoices):
    PENDING = "PENDING", "waiting to be sent"
    SENT = "SENT", "sent, awaiting the answer"
    ANSWERED = "ANSWERED", "answered (CALLRESULT)"
    FAILED = "FAILED", "refused (CALLERROR)"
    TIMED_OUT = "TIMED_OUT", "no answer in time"


FOLLOW_UP_NAME_LENGTH = 64


class ChargePointCall(models.Model):
    """A call to a charge point (TriggerMessage, Reset, …), whoever made it and whichever
    gateway holds the charge point: one outstanding per charge point, in creation order."""

    FINAL = (CallState.ANSWERED, CallState.FAILED, CallState.TIMED_OUT)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="calls")
    action = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=9, choices=CallState.choices, default=CallState.PENDING)
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_description = models.TextField(blank=True)
    requested_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    deadline = models.DateTimeField(help_text="Answered by then, or TIMED_OUT.")
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    follow_up = models.CharField(
        max_length=FOLLOW_UP_NAME_LENGTH,
        blank=True,
        help_text="What is done once it has ended (chargers.follow_ups), if anything.",
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The beat's look for follow-ups missed: ended calls not followed up, few at a time.
            models.Index(
                fields=["finished_at"],
                name="chargepointcall_follow_up",
                condition=Q(followed_up_at__isnull=True) & ~Q(follow_up=""),
            ),
            models.Index(
                fields=["charge_point", "state", "created_at"], name="chargepointcall_queue"
            ),
            models.Index(fields=["state", "deadline"], name="chargepointcall_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.action} to {self.charge_point_id}: {self.state}"


class Direction(models.TextChoices):
    IN = "IN", "from the charge point"
    OUT = "OUT", "to the charge point"


class ChargePointMessage(models.Model):
    """One OCPP-J frame (CALL, CALLRESULT or CALLERROR), kept for support; only the most
    recent OCPP_MESSAGE_LOG_SIZE of each charge point are kept."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="messages")
    at = models.DateTimeField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(help_text="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    unique_id = models.CharField(max_length=36, blank=True)
    action = models.CharField(max_length=50, blank=True)
    frame = models.TextField(help_text="As sent or received, cut at 8 KiB.")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["charge_point", "-at"], name="chargepointmessage_recent")]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.direction} {self.action or self.message_type}"


# The maintenance models (chargers.models_maintenance) are this app's too.
from chargers.models_maintenance import (  # noqa: E402, F401
    ChargePointSetting,
    ConnectionEvent,
    LocalAuthList,
    LocalListUpdate,
    MaintenanceEvent,
)


class ReservationState(models.TextChoices):
    REQUESTED = "REQUESTED", "sent, awaiting the charge point's answer"
    ACTIVE = "ACTIVE", "held by the charge point"
    USED = "USED", "its token started charging on it"
    CANCELLED = "CANCELLED", "cancelled"
    EXPIRED = "EXPIRED", "expired unused"
    REJECTED = "REJECTED", "refused by the charge point"
    FAILED = "FAILED", "not answered (CALLERROR, no answer in time)"
    REPLACED = "REPLACED", "replaced by a RESERVE_NOW with the same reservation_id"


class ReservationEnd(models.TextChoices):
    """Who or what ended a held reservation."""

    EMSP = "EMSP", "its eMSP (CANCEL_RESERVATION)"
    OPERATOR = "OPERATOR", "the operator"
    CHARGE_POINT = "CHARGE_POINT", "the charge point"
    EXPIRY = "EXPIRY", "its expiry date"
    TRANSACTION = "TRANSACTION", "a transaction of its token"
    REPLACEMENT = "REPLACEMENT", "a newer RESERVE_NOW with the same reservation_id"


class ReservationQuerySet(models.QuerySet["Reservation"]):
    def held(self) -> "ReservationQuerySet":
        """Requested or held by the charge point: what a later RESERVE_NOW replaces, a
        CANCEL_RESERVATION cancels, a charge point's report ends."""
        return self.filter(state__in=Reservation.HELD)

    def of_party(self, country_code: str, party_id: str) -> "ReservationQuerySet":
        return self.filter(party_country_code=country_code.upper(), party_party_id=party_id.upper())

    def by_reservation_id(
        self, country_code: str, party_id: str, reservation_id: str
    ) -> "ReservationQuerySet":
        """An eMSP's reservations of `reservation_id` (a CiString), newest first."""
        return (
            self.of_party(country_code, party_id)
            .filter(reservation_id__ci=reservation_id)
            .order_by("-created_at", "-pk")
        )


class Reservation(models.Model):
    """One RESERVE_NOW of an eMSP sent to a charge point, and what became of it.

    `reservation_id` is the eMSP's (unique per eMSP party, mod_commands ReserveNow);
    `ocpp_id` is the integer the charge point knows it by: never the eMSP's, so that one eMSP
    cannot cancel or replace another's (mod_commands: "SHALL NOT be sent directly to a Charge
    Point"). A RESERVE_NOW replacing a held reservation is a row of its own; at the same
    charge point it keeps the ocpp_id (OCPP ReserveNow replaces a reservation of that id).
    While ACTIVE its EVSE is RESERVED (chargers.status) and its `session` is the eMSP's
    Session in status RESERVATION (chargers.reservations).
    """

    HELD = (ReservationState.REQUESTED, ReservationState.ACTIVE)

    party_country_code = models.CharField(max_length=2, help_text="The eMSP's, upper case.")
    party_party_id = models.CharField(max_length=3)
    reservation_id = models.CharField(max_length=36, help_text="The eMSP's (a CiString).")
    ocpp_id = models.PositiveIntegerField(
        "OCPP reservation id", null=True, blank=True, help_text="What the charge point knows."
    )
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="reservations"
    )
    ocpp_evse_id = models.PositiveIntegerField("OCPP EVSE / connector id")
    evse = models.ForeignKey(
        "locations.EVSE", on_delete=models.PROTECT, related_name="reservations"
    )
    token = models.JSONField(help_text="The OCPI Token the eMSP reserved for.")
    id_token = models.CharField(max_length=36, help_text="1.6 idTag, 2.0.1 idToken.idToken.")
    id_token_type = models.CharField(
        max_length=20, blank=True, help_text="2.0.1 IdTokenEnumType; empty in 1.6."
    )
    expiry_date = models.DateTimeField()
    authorization_reference = models.CharField(max_length=36, blank=True)
    state = models.CharField(
        max_length=9, choices=ReservationState.choices, default=ReservationState.REQUESTED
    )
    answer = models.CharField(
        max_length=100, blank=True, help_text="The charge point's answer (or why there is none)."
    )
    ended_by = models.CharField(max_length=12, choices=ReservationEnd.choices, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reservation",
        help_text="Its ReserveNow.",
    )
    cancel_call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cancelled_reservation",
        help_text="Its CancelReservation, when one was sent.",
    )
    session = models.OneToOneField(
        "charging_sessions.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reservation",
    )
    requested_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ocpp_id"],
                condition=Q(state=ReservationState.ACTIVE),
                name="reservation_unique_active_ocpp_id",
            ),
            models.UniqueConstraint(
                "party_country_code",
                "party_party_id",
                Upper("reservation_id"),
                condition=Q(state=ReservationState.ACTIVE),
                name="reservation_unique_active_id",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ReservationState.values), name="reservation_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expiry_date"], name="reservation_expiry"),
            models.Index(fields=["charge_point", "state"], name="reservation_charge_point"),
            models.Index(fields=["ocpp_id"], name="reservation_ocpp_id"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.party_country_code}*{self.party_party_id} reservation {self.reservation_id} "
            f"({self.state})"
        )

    @property
    def held(self) -> bool:
        return self.state in self.HELD


class RemoteStartOutcome(models.TextChoices):
    """What the party that asked was told (chargers.remote.settle): decided once."""

    OPEN = "", "not decided yet"
    STARTED = "STARTED", "accepted (or a transaction followed)"
    REFUSED = "REFUSED", "refused, failed or timed out: a later start is stopped"


class RemoteStart(models.Model):
    """A transaction asked of a charge point (1.6 RemoteStartTransaction, 2.0.1
    RequestStartTransaction) and the transaction that followed (chargers.remote). Its id is
    the 2.0.1 remoteStartId; its session gets `token` and `authorization_reference`."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="remote_starts"
    )
    call = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="remote_start",
    )
    ocpp_evse_id = models.PositiveIntegerField(
        "OCPP EVSE / connector id",
        null=True,
        blank=True,
        help_text="Blank: the charge point's choice.",
    )
    id_token = models.CharField(max_length=36, help_text="1.6 idTag, 2.0.1 idToken.idToken.")
    id_token_type = models.CharField(max_length=20, blank=True)
    token = models.JSONField(help_text="The CdrToken of the session that follows.")
    authorization_reference = models.CharField(max_length=36, blank=True)
    requested_by = models.CharField(max_length=100, blank=True)
    requested_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=8,
        choices=RemoteStartOutcome.choices,
        default=RemoteStartOutcome.OPEN,
        blank=True,
    )
    transaction = models.OneToOneField(
        ChargerTransaction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="remote_start",
    )
    late_stop = models.OneToOneField(
        ChargePointCall,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The stop of a transaction that started after the start was refused.",
    )

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(
                fields=["charge_point", "id_token", "requested_at"],
                condition=Q(transaction__isnull=True),
                name="remotestart_untied",
            )
        ]

    def __str__(self) -> str:
        return f"remote start {self.pk} at {self.charge_point_id} for {self.id_token}"
