"""Alerts: one row per incident, open while its condition holds.

The row is the memory that makes an alert fire once: the beat task notifies when it opens a
row and when it clears one, so a restart (or a second beat run at the same moment) never
notifies twice. At most one open row per (rule, partner), enforced by the database.
"""

from django.db import models

from credentials.models import PartnerPlatform


class AlertRule(models.TextChoices):
    QUEUE_STUCK = "QUEUE_STUCK", "Delivery queue stuck"
    DELIVERIES_FAILING = "DELIVERIES_FAILING", "Deliveries failing"
    PULL_FAILED = "PULL_FAILED", "Token pull failed"


class AlertQuerySet(models.QuerySet["Alert"]):
    def open(self) -> "AlertQuerySet":
        return self.filter(cleared_at__isnull=True)


class Alert(models.Model):
    rule = models.CharField(max_length=20, choices=AlertRule.choices)
    partner = models.ForeignKey(PartnerPlatform, on_delete=models.CASCADE, related_name="alerts")
    message = models.TextField(help_text="What was found when the alert fired.")
    started_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "partner"],
                condition=models.Q(cleared_at__isnull=True),
                name="alert_one_open_per_rule_and_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.partner}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None
