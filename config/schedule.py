"""What Celery beat runs periodically (config.settings.CELERY_BEAT_SCHEDULE), each interval
from the environment."""

import os
from typing import Any


def _every(name: str, default: str) -> float:
    return float(os.environ.get(name, default))


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Return the periodic tasks, as Celery's beat_schedule setting takes them."""
    return {
        # Liveness and endpoint changes of every registered partner (the spec asks a partner
        # to PUT credentials after changing endpoints; not all do).
        "check-partners": {
            "task": "credentials.check_partners",
            "schedule": _every("OCPI_PARTNER_CHECK_SECONDS", "3600"),
        },
        "push-resend-due": {
            "task": "push.resend_due",
            "schedule": _every("PUSH_RESEND_SECONDS", "15"),
        },
        "push-prune-history": {
            "task": "push.prune_history",
            "schedule": _every("PUSH_PRUNE_SECONDS", "3600"),
        },
        # Each eMSP partner's tokens: a delta pull, or a full one when TOKENS_FULL_PULL_SECONDS
        # have passed since the last (mod_tokens, Pull model: "every X hours").
        "tokens-pull": {
            "task": "tokens.pull_all",
            "schedule": _every("TOKENS_PULL_SECONDS", "3600"),
        },
        # Alerts on partner health: fire when a condition starts, clear when it ends.
        "monitoring-alerts": {
            "task": "monitoring.evaluate_alerts",
            "schedule": _every("ALERT_CHECK_SECONDS", "60"),
        },
        # Charge points disconnected beyond OCPP_OFFLINE_GRACE_SECONDS: their EVSEs UNKNOWN.
        # This period is how late after the grace that may be.
        "chargers-mark-offline": {
            "task": "chargers.mark_offline_due",
            "schedule": _every("OCPP_OFFLINE_CHECK_SECONDS", "30"),
        },
        # Calls to charge points past their deadline, and the follow-ups of ended calls that
        # were missed (chargers.follow_ups): how late a command's result may be at worst.
        "chargers-follow-ups": {
            "task": "chargers.follow_up_overdue",
            "schedule": _every("OCPP_FOLLOW_UP_CHECK_SECONDS", "15"),
        },
        # Charge points' transactions: the Ended that waited for missing messages long enough,
        # and the transactions left open by a reboot or a vanished charge point (chargers).
        "ocpp-transactions-check": {
            "task": "chargers.check_transactions",
            "schedule": _every("OCPP_TRANSACTION_CHECK_SECONDS", "60"),
        },
        # Reservations past their expiry date end: session COMPLETED, EVSE status back
        # (chargers.reservations; a 1.6 charge point does not report it).
        "ocpp-reservations-expire": {
            "task": "chargers.expire_reservations",
            "schedule": _every("OCPP_RESERVATION_CHECK_SECONDS", "15"),
        },
        # Local authorization lists of connected charge points brought up to date with the
        # tokens cache: differential updates (chargers.local_list).
        "ocpp-local-lists": {
            "task": "chargers.sync_local_lists",
            "schedule": _every("OCPP_LOCAL_LIST_SECONDS", "900"),
        },
        # The messages of transactions ended OCPP_TRANSACTION_EVENTS_DAYS ago (chargers).
        "ocpp-transaction-events-prune": {
            "task": "chargers.prune_transaction_events",
            "schedule": 24 * 3600.0,
        },
    }
