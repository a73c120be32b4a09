"""Celery tasks of the credentials module: thin, idempotent, keyed by primary key."""

import logging

from celery import shared_task

from credentials import services
from credentials.models import PartnerPlatform

logger = logging.getLogger(__name__)


@shared_task(name="credentials.rotate")
def rotate_credentials(partner_id: int) -> None:
    """Rotate tokens with a partner (started from the admin); a no-op if it is gone."""
    partner = PartnerPlatform.objects.registered().filter(pk=partner_id).first()
    if partner is None:
        return
    try:
        services.rotate_credentials(partner=partner)
    except services.PartnerCallFailed:
        logger.exception("Credentials rotation with partner %s failed", partner_id)


@shared_task(name="credentials.unregister")
def unregister_partner(partner_id: int) -> None:
    partner = PartnerPlatform.objects.registered().filter(pk=partner_id).first()
    if partner is None:
        return
    services.unregister_partner(partner=partner)


@shared_task(name="credentials.check_partners")
def check_partners() -> None:
    """Beat: refetch every registered partner's versions and endpoints (liveness, changes)."""
    for partner_id in PartnerPlatform.objects.registered().values_list("pk", flat=True):
        refresh_partner.delay(partner_id)


@shared_task(name="credentials.refresh_partner")
def refresh_partner(partner_id: int) -> None:
    partner = PartnerPlatform.objects.registered().filter(pk=partner_id).first()
    if partner is None:
        return
    try:
        services.refresh_endpoints(partner=partner)
    except services.PartnerCallFailed as exc:
        logger.warning("Partner %s unreachable: %s", partner_id, exc)
