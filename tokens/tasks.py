"""Celery tasks of the tokens module: thin, keyed by primary key, safe to run twice."""

import logging
import random

from celery import shared_task
from django.conf import settings

from credentials.models import PartnerPlatform
from tokens.pull import PullAlreadyRunning, full_pull_due, token_pull
from tokens.selectors import partners_to_pull

logger = logging.getLogger(__name__)


@shared_task(name="tokens.pull_all")
def pull_all() -> None:
    """Beat: pull every eMSP partner's tokens, spread over TOKENS_PULL_JITTER_SECONDS so
    that partners are not all called at the same instant (ocpi-2.2.1.md §1.7)."""
    jitter = float(settings.TOKENS_PULL_JITTER_SECONDS)
    for partner in partners_to_pull():
        pull_partner.apply_async((partner.pk,), countdown=random.uniform(0, jitter))  # noqa: S311


@shared_task(name="tokens.pull_partner")
def pull_partner(partner_id: int, full: bool | None = None) -> None:
    """Pull one partner's tokens; `full` None: full when due (TOKENS_FULL_PULL_SECONDS)."""
    partner = PartnerPlatform.objects.registered().filter(pk=partner_id).first()
    if partner is None:
        return
    try:
        token_pull(partner=partner, full=full_pull_due(partner) if full is None else full)
    except PullAlreadyRunning as exc:
        logger.info("Token pull of partner %s skipped: %s", partner_id, exc)
