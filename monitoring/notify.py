"""Telling people: an e-mail to ALERT_EMAILS and a JSON POST to ALERT_WEBHOOK_URL.

Both are optional and independent; a failure of one is logged and keeps neither the other
nor the alert's state from going ahead (the state is what stops a second notification; a
lost one is in the admin's alert list and the log).
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.core.mail import send_mail

from monitoring.models import Alert
from ocpi.httpsession import KeptSession
from ocpi.netsafety import UnsafeUrl, check_partner_url, refusal

logger = logging.getLogger(__name__)

FIRED = "fired"
CLEARED = "cleared"


def payload(alert: Alert, event: str) -> dict[str, Any]:
    """What the webhook receives; the e-mail says the same in words."""
    return {
        "event": event,
        "rule": alert.rule,
        "title": alert.get_rule_display(),
        "partner": {"id": alert.partner_id, "name": alert.partner.name},
        "message": alert.message,
        "started_at": alert.started_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
    }


def _subject(alert: Alert, event: str) -> str:
    state = "FIRING" if event == FIRED else "RESOLVED"
    return f"[{state}] {alert.get_rule_display()}: {alert.partner.name}"


def _body(alert: Alert, event: str) -> str:
    lines = [
        f"{alert.get_rule_display()} for partner {alert.partner.name} (id {alert.partner_id}).",
        "",
        alert.message,
        "",
        f"Started: {alert.started_at.isoformat()}",
    ]
    if event == CLEARED and alert.cleared_at is not None:
        lines.append(f"Cleared: {alert.cleared_at.isoformat()}")
    return "\n".join(lines) + "\n"


def send_email(alert: Alert, event: str) -> None:
    if not settings.ALERT_EMAILS:
        return
    try:
        send_mail(
            _subject(alert, event),
            _body(alert, event),
            None,  # DEFAULT_FROM_EMAIL
            settings.ALERT_EMAILS,
        )
    except OSError:  # smtplib's errors are OSErrors, as are refused connections
        logger.exception("Alert %s %s: the e-mail could not be sent", alert.pk, event)


def send_webhook(alert: Alert, event: str) -> None:
    url = settings.ALERT_WEBHOOK_URL
    if not url:
        return
    try:
        # Checked like a partner's URL: the operator's setting, yet a request our servers
        # make, so loopback and private addresses only when OCPI_ALLOW_PRIVATE_URLS.
        check_partner_url(url)
        with KeptSession() as session:
            response = session.post(
                url,
                json=payload(alert, event),
                timeout=settings.ALERT_WEBHOOK_TIMEOUT,
                allow_redirects=False,
            )
    except UnsafeUrl as exc:
        logger.error("Alert %s %s: webhook URL refused: %s", alert.pk, event, exc)
    except requests.RequestException as exc:
        reason = refusal(exc) or exc
        logger.error("Alert %s %s: webhook failed: %s", alert.pk, event, reason)
    else:
        # A redirect is not followed (it could lead anywhere): like any answer but 2xx, a failure.
        if not 200 <= response.status_code < 300:
            logger.error(
                "Alert %s %s: webhook answered HTTP %s", alert.pk, event, response.status_code
            )


def notify(alert: Alert, event: str) -> None:
    send_email(alert, event)
    send_webhook(alert, event)
