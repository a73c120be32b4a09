"""Stale updates a partner pushed (ocpi.receiving): answered, not applied, counted per partner.

The rule and the answer are protocol (ocpi.receiving); whom to count it for is ours: the
partner platform that sent it, in `PartnerPlatform.stale_updates`, shown in the admin and by
`manage.py ocpi_partner show`. A partner whose count grows replays old data (a retry queue
that delivers out of order, a clock that jumps back): something for the operator to raise
with it, while the newer state we hold stands.

Only what a partner pushes is counted. A pulled page older than the cached object is our own
timing (we read the page, then the owner pushed a newer version before we stored the page),
not the partner's doing, so a pull skips it without counting (tokens.sync.tokens_sync).
"""

import logging

from django.db.models import F
from rest_framework.response import Response

from credentials.models import PartnerPlatform
from ocpi.receiving import StaleUpdate, stale_answer

logger = logging.getLogger(__name__)


def stale_update_count(*, partner: PartnerPlatform) -> None:
    """Add one to the partner's stale_updates in one UPDATE: concurrent ones each count."""
    PartnerPlatform.objects.filter(pk=partner.pk).update(stale_updates=F("stale_updates") + 1)


def stale_update_received(*, partner: PartnerPlatform, update: StaleUpdate) -> Response:
    """Count a stale PUT/PATCH for the partner that sent it and answer it (ocpi.receiving)."""
    stale_update_count(partner=partner)
    logger.warning(
        "Partner %s (%s) sent a stale update, not applied: %s last_updated %s, stored %s",
        partner.pk,
        partner.name,
        update.what,
        update.received.isoformat(),
        update.stored.isoformat(),
    )
    return stale_answer(update)
