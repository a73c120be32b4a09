"""The outbox tables: a Change per push intent, a Delivery per receiving party, Attempts.

A Change holds the request already serialized (module, method, path below the partner's
module endpoint, body), so this app never imports a module app. A result the partner asked
for at a URL of its own (a command's or a charging profile's `response_url`) has that
absolute URL instead of a path. Deliveries to one
(partner, party, object) form a queue: only its oldest unfinished delivery may be sent, so
an older update never lands after a newer one.
"""

from django.db import models

from credentials.models import PartnerPlatform
from ocpi.json import DecimalJSONDecoder, DecimalJSONEncoder


class Method(models.TextChoices):
    PUT = "PUT"
    PATCH = "PATCH"
    POST = "POST"
    DELETE = "DELETE"


class Change(models.Model):
    module = models.CharField(max_length=32)
    method = models.CharField(max_length=6, choices=Method.choices)
    object_key = models.CharField(
        max_length=200, help_text="Orders and coalesces deliveries: one queue per object."
    )
    path = models.JSONField(help_text="Segments appended to the partner's module endpoint URL.")
    # An absolute URL the partner gave us (a `response_url`): sent there, not to its module
    # endpoint. At most 255 characters in OCPI (type URL); room for a partner that ignores it.
    url = models.CharField(
        max_length=2000, blank=True, help_text="Absolute URL to send to instead of the path."
    )
    # Exact decimals: prices and energy must reach the partner with the digits we stored.
    payload = models.JSONField(
        null=True, blank=True, encoder=DecimalJSONEncoder, decoder=DecimalJSONDecoder
    )
    owner_country_code = models.CharField(max_length=2)
    owner_party_id = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.target}"

    @property
    def target(self) -> str:
        """Where it goes: the absolute URL, or the path below the module endpoint."""
        return self.url or f"{self.module}/{'/'.join(self.path)}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    IN_FLIGHT = "IN_FLIGHT", "Being sent"
    DELIVERED = "DELIVERED", "Delivered"
    FAILED = "FAILED", "Failed"
    SUPERSEDED = "SUPERSEDED", "Superseded by a newer change"


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)


class Delivery(models.Model):
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="deliveries")
    partner = models.ForeignKey(
        PartnerPlatform, on_delete=models.CASCADE, related_name="deliveries"
    )
    to_country_code = models.CharField(max_length=2)
    to_party_id = models.CharField(max_length=3)
    queue_key = models.CharField(max_length=220)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_ocpi_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The `Location` header of the answer that delivered it: where the partner keeps what we
    # POSTed (mod_cdrs, POST: "URL to the newly created CDR in the eMSP's system").
    response_location = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "deliveries"
        # Partial indexes: a delivery is indexed by state only while it is open, so the
        # table's history (delivered, failed, superseded) costs a claim nothing, and
        # recording an outcome updates few index entries.
        indexes = [
            # What a claim walks: the partner's open deliveries oldest first.
            models.Index(
                fields=["partner", "id"],
                condition=models.Q(status__in=["PENDING", "IN_FLIGHT"]),
                name="delivery_open",
            ),
            # A new change looks for what it supersedes in the same queues.
            models.Index(
                fields=["partner", "queue_key"],
                condition=models.Q(status="PENDING"),
                name="delivery_queue",
            ),
            # The beat: retries that came due, claims whose worker died.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="PENDING"),
                name="delivery_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="IN_FLIGHT"),
                name="delivery_claims",
            ),
            # Each partner's failed deliveries (push.backlog, the dashboard's health tiles), a
            # small share of its history: counted from this index, not from all its rows.
            models.Index(
                fields=["partner", "id"],
                condition=models.Q(status="FAILED"),
                name="delivery_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change} → {self.partner} {self.to_country_code}*{self.to_party_id}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ocpi_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}"
