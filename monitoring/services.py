"""Opening and clearing alerts from the rules' findings, and notifying each change once."""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from monitoring import notify, rules
from monitoring.models import Alert

logger = logging.getLogger(__name__)


def _open(rule: str, partner_id: int, message: str, moment: datetime) -> Alert | None:
    """The new alert, or None when another run opened it first (the partial unique
    constraint) or the partner is gone."""
    try:
        with transaction.atomic():
            return Alert.objects.create(
                rule=rule, partner_id=partner_id, message=message, started_at=moment
            )
    except IntegrityError:
        return None


def _clear(alert: Alert, moment: datetime) -> bool:
    """Clear `alert` unless another run did: a conditional UPDATE, so one run notifies."""
    cleared = Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(cleared_at=moment)
    alert.cleared_at = moment
    return cleared == 1


def alerts_evaluate(*, moment: datetime) -> tuple[list[Alert], list[Alert]]:
    """Open an alert for each condition that started, clear those that ended, notify each
    once; return (fired, cleared)."""
    found = rules.conditions(moment)
    open_alerts = {
        (a.rule, a.partner_id): a for a in Alert.objects.open().select_related("partner")
    }
    fired = []
    for key in found.keys() - open_alerts.keys():
        alert = _open(*key, found[key], moment)
        if alert is not None:
            fired.append(alert)
    cleared = [
        alert for key, alert in open_alerts.items() if key not in found and _clear(alert, moment)
    ]
    for alert in sorted(fired, key=lambda a: a.pk):
        logger.warning("Alert fired: %s: %s", alert, alert.message)
        notify.notify(alert, notify.FIRED)
    for alert in cleared:
        logger.info("Alert cleared: %s", alert)
        notify.notify(alert, notify.CLEARED)
    return fired, cleared
