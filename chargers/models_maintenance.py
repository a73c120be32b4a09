"""What the operator's maintenance of charge points keeps (chargers.maintenance, local_list,
connection_history); imported by chargers.models, so these are the chargers app's models.

    ChargePointSetting     the last known value of each configuration key (1.6) or variable
                           (2.0.1) of a charge point, shown without asking it again
    MaintenanceEvent       each FirmwareStatusNotification, DiagnosticsStatusNotification and
                           LogStatusNotification, and each request we made of that kind
    LocalAuthList          the local authorization list a charge point holds: the version it
                           acknowledged and a digest of each entry (what a differential update
                           is computed against)
    LocalListUpdate        one SendLocalList we sent: its version, kind and the entries' digests
                           it would leave the charge point with once accepted
    ConnectionEvent        each connection and disconnection of a charge point, with the reason
                           (bounded: the most recent OCPP_CONNECTION_HISTORY_SIZE are kept)
"""

from django.db import models


class ChargePointSetting(models.Model):
    """1.6: `component` empty, `variable` the key, `attribute` empty. 2.0.1: the component
    (with its instance and EVSE id, when any), the variable (and instance), the attribute type
    (Actual, Target, MinSet, MaxSet)."""

    charge_point = models.ForeignKey(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="settings"
    )
    component = models.CharField(max_length=50, blank=True)
    component_instance = models.CharField(max_length=50, blank=True)
    evse_id = models.PositiveIntegerField(
        default=0, help_text="The component's EVSE (0: none; EVSE ids start at 1)."
    )
    variable = models.CharField(max_length=50)
    variable_instance = models.CharField(max_length=50, blank=True)
    attribute = models.CharField(max_length=7, blank=True)
    value = models.TextField(blank=True, help_text="As the charge point gave it (absent: blank).")
    readonly = models.BooleanField(null=True, help_text="1.6 readonly; unknown for 2.0.1.")
    status = models.CharField(
        max_length=30,
        blank=True,
        help_text="The answer to our last read or change of it (Accepted, RebootRequired, "
        "Rejected, UnknownVariable, …).",
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["charge_point", "component", "evse_id", "variable", "attribute"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "charge_point",
                    "component",
                    "component_instance",
                    "evse_id",
                    "variable",
                    "variable_instance",
                    "attribute",
                ],
                name="chargepointsetting_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.name}={self.value}"

    @property
    def name(self) -> str:
        """component[instance]/variable[instance].attribute, or the 1.6 key."""
        parts = []
        if self.component:
            evse = f"@{self.evse_id}" if self.evse_id else ""
            instance = f"[{self.component_instance}]" if self.component_instance else ""
            parts.append(f"{self.component}{instance}{evse}/")
        instance = f"[{self.variable_instance}]" if self.variable_instance else ""
        parts.append(f"{self.variable}{instance}")
        if self.attribute and self.attribute != "Actual":
            parts.append(f".{self.attribute}")
        return "".join(parts)


class MaintenanceKind(models.TextChoices):
    FIRMWARE = "FIRMWARE", "firmware update"
    DIAGNOSTICS = "DIAGNOSTICS", "diagnostics upload (1.6)"
    LOG = "LOG", "log upload"


class MaintenanceEvent(models.Model):
    """A status a charge point notified about a firmware update or an upload (or `requested`:
    the answer to our request), in arrival order."""

    charge_point = models.ForeignKey(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="maintenance_events"
    )
    kind = models.CharField(max_length=11, choices=MaintenanceKind.choices)
    status = models.CharField(max_length=30)
    request_id = models.IntegerField(null=True, blank=True)
    requested = models.BooleanField(
        default=False, help_text="Our request and its answer, not a notification."
    )
    detail = models.CharField(max_length=255, blank=True, help_text="File name, location, …")
    at = models.DateTimeField()
    call = models.ForeignKey(
        "chargers.ChargePointCall",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["charge_point", "kind", "-at"], name="maintenanceevent_recent")
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.kind} {self.status}"


class LocalAuthList(models.Model):
    """What we know the charge point holds: updated only by its acknowledgement."""

    charge_point = models.OneToOneField(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="local_list"
    )
    version = models.IntegerField(
        default=0, help_text="The version it acknowledged (0: none, or the list is empty)."
    )
    entries = models.JSONField(
        default=dict, help_text="{entry key: digest of the entry} it holds at that version."
    )
    digest = models.CharField(max_length=64, blank=True, help_text="Of `entries`.")
    updated_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=30, blank=True, help_text="The answer to our last SendLocalList."
    )
    reported_version = models.IntegerField(
        null=True, blank=True, help_text="What its last GetLocalListVersion answered."
    )
    reported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.charge_point_id} local list v{self.version}"


class LocalListUpdate(models.Model):
    """A SendLocalList on its way: once the charge point accepts it, `entries` is what it
    holds at `version`."""

    call = models.OneToOneField(
        "chargers.ChargePointCall", on_delete=models.CASCADE, related_name="local_list_update"
    )
    charge_point = models.ForeignKey(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="local_list_updates"
    )
    version = models.IntegerField()
    full = models.BooleanField()
    entries = models.JSONField(help_text="{entry key: digest} after this update.")
    changes = models.PositiveIntegerField(help_text="Entries sent (added, changed or removed).")
    status = models.CharField(max_length=20, blank=True, help_text="Its answer, once known.")

    class Meta:
        ordering = ["-call__created_at"]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {'FULL' if self.full else 'DIFFERENTIAL'} v{self.version}"


class ConnectionEventKind(models.TextChoices):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"


class ConnectionEvent(models.Model):
    charge_point = models.ForeignKey(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="connection_events"
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=ConnectionEventKind.choices)
    connection = models.PositiveBigIntegerField(help_text="ChargePoint.connection's number.")
    gateway = models.CharField(max_length=100, blank=True)
    version = models.CharField(max_length=5, blank=True)
    remote_address = models.CharField(max_length=100, blank=True)
    close_code = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["charge_point", "-at"], name="connectionevent_recent")]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.kind} #{self.connection}"
