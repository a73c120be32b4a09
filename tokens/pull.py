"""Pulling an eMSP's tokens from its Sender interface (mod_tokens, Pull model; Pagination).

A pull addresses each of the partner's eMSP parties in turn (OCPI-to = that party, OCPI-from
= our party), follows `Link` to the last page, and stores every valid Token of one of the
partner's eMSP parties. Objects that are not valid Tokens are skipped and logged; valid
Tokens of other parties are ignored (Pagination: the owner is the object's party, and a
partner writes only its own parties' tokens). Both are counted in the pull's log row.

- Delta: `date_from` = the start of the last successful pull, less TOKENS_PULL_OVERLAP_SECONDS
  (their clock is not ours; storing a token twice does no harm). A partner never pulled
  successfully gets a full pull.
- Full: the pages are the new truth. Tokens of a party whose crawl completed and that were
  not returned are set valid=false (never deleted: sessions and CDRs refer to them).
  A crawl that failed half-way invalidates nothing for its party.
- Safeguard: a full pull that would set more than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE of
  the valid tokens invalid (typically one broken answer: an empty list) invalidates nothing
  and ends HELD, with the numbers, logged as an error, until an operator applies it
  (apply_held_pull: the admin's "Apply held pull", `ocpi_pull PARTNER tokens --apply-held`).

Never inside a transaction: each page is written in one of its own between HTTP calls.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from credentials.access import token_owner_parties
from credentials.models import PartnerPlatform
from credentials.problems import partner_error_clear, partner_error_record
from ocpi.client import OcpiClient, OcpiClientError
from ocpi.exceptions import validation_message
from ocpi.routing import PartyRef, RoutingHeaders
from ocpi.time import format_datetime, now
from tokens.models import PullStatus, TokenKey, TokenPull, TokenPullQuerySet, key_of
from tokens.selectors import (
    last_successful_pull,
    our_party,
    running_pull,
    tokens_sender_url,
)
from tokens.serializers import TokenSerializer
from tokens.sync import Missing, tokens_invalidate, tokens_missing, tokens_sync

logger = logging.getLogger(__name__)

# How a failed or held pull is named in the partner's last error (credentials.problems).
PULL_OPERATION = "pull tokens"


class NotApplicable(Exception):
    """A pull that cannot be applied: not held (any more), or a later full pull superseded it."""


class PullAlreadyRunning(Exception):
    """Another pull of the same partner started within TOKENS_PULL_LEASE_SECONDS."""

    def __init__(self, pull: TokenPull) -> None:
        self.pull = pull
        super().__init__(f"A pull from {pull.partner} is running since {pull.started_at}")


def full_pull_due(partner: PartnerPlatform) -> bool:
    """Scheduled pulls are full when the last successful full one is older than
    TOKENS_FULL_PULL_SECONDS (or there is none), deltas otherwise."""
    last = last_successful_pull(partner, full_only=True)
    age = timedelta(seconds=settings.TOKENS_FULL_PULL_SECONDS)
    return last is None or last.started_at < now() - age


@dataclass
class _Crawl:
    pull: TokenPull
    owners: set[PartyRef]
    seen: set[TokenKey] = field(default_factory=set)

    def page(self, objects: list[Any], index: int) -> None:
        valid: list[dict[str, Any]] = []
        for position, item in enumerate(objects):
            serializer = TokenSerializer(data=item)
            if not serializer.is_valid():
                self.pull.invalid += 1
                logger.warning(
                    "Token pull %s from partner %s: page %s object %s (uid %r) skipped: %s",
                    self.pull.pk,
                    self.pull.partner_id,
                    index,
                    position,
                    item.get("uid") if isinstance(item, dict) else None,
                    validation_message(serializer.errors),
                )
                continue
            data = dict(serializer.validated_data)
            if PartyRef.of(data["country_code"], data["party_id"]) not in self.owners:
                self.pull.ignored += 1
                continue
            self.seen.add(key_of(data))
            valid.append(data)
        self.pull.received += len(objects)
        counts = tokens_sync(items=valid)
        self.pull.created += counts.created
        self.pull.updated += counts.updated
        self.pull.unchanged += counts.unchanged


def token_pull(*, partner: PartnerPlatform, full: bool = False) -> TokenPull:
    """Pull the partner's tokens (full, or changes since the last successful pull).

    Returns the pull's log row, SUCCEEDED or FAILED (with `error`); raises
    PullAlreadyRunning when another pull of the partner is under way.
    """
    started = now()
    lease = timedelta(seconds=settings.TOKENS_PULL_LEASE_SECONDS)
    running = running_pull(partner, since=started - lease)
    if running is not None:
        raise PullAlreadyRunning(running)
    previous = None if full else last_successful_pull(partner)
    overlap = timedelta(seconds=settings.TOKENS_PULL_OVERLAP_SECONDS)
    pull = TokenPull.objects.create(
        partner=partner,
        full=previous is None,
        date_from=None if previous is None else previous.started_at - overlap,
        started_at=started,
    )
    try:
        _run(pull, partner)
    finally:
        if pull.status == PullStatus.RUNNING:  # an unexpected error, raised on to the caller
            pull.status = PullStatus.FAILED
            pull.error = pull.error or "interrupted by an unexpected error; see the logs"
        pull.finished_at = now()
        pull.save()
    logger.info(
        "Token pull %s from partner %s: %s %s",
        pull.pk,
        partner.pk,
        pull.status,
        pull.counts(),
    )
    if pull.status == PullStatus.SUCCEEDED:
        partner_error_clear(partner.pk, PULL_OPERATION)
    else:
        kind = "full" if pull.full else "delta"
        partner_error_record(partner.pk, PULL_OPERATION, f"{kind} pull {pull.pk}: {pull.error}")
    return pull


def _run(pull: TokenPull, partner: PartnerPlatform) -> None:
    endpoint = tokens_sender_url(partner)
    parties = token_owner_parties(partner.roles.all(), None)
    if endpoint is None:
        pull.status, pull.error = PullStatus.FAILED, "The partner has no tokens Sender endpoint"
        return
    if not parties:
        pull.status, pull.error = PullStatus.FAILED, "The partner has no eMSP party"
        return
    client = OcpiClient(partner.outgoing_token, plain_token=partner.plain_tokens)
    params = {} if pull.date_from is None else {"date_from": format_datetime(pull.date_from)}
    sender = our_party()
    crawl = _Crawl(pull, set(parties))
    completed: list[PartyRef] = []
    problems: list[str] = []
    for party in parties:
        routing = None if sender is None else RoutingHeaders(from_party=sender, to_party=party)
        try:
            for index, page in enumerate(
                client.iter_pages(endpoint, params=params, routing=routing)
            ):
                crawl.page(page, index)
        except OcpiClientError as exc:
            logger.warning(
                "Token pull %s from partner %s, party %s: %s", pull.pk, partner.pk, party, exc
            )
            problems.append(f"{party}: {exc}")
        else:
            completed.append(party)
    pull.status = PullStatus.FAILED if problems else PullStatus.SUCCEEDED
    if pull.full and completed:
        missing = tokens_missing(parties=completed, seen=crawl.seen, before=pull.started_at)
        pull.valid_before = missing.valid
        if missing.share > settings.TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE:
            _hold(pull, missing)
            problems.insert(0, pull.error)
        else:
            pull.invalidated = tokens_invalidate(
                token_ids=missing.token_ids, before=pull.started_at, moment=now()
            )
    pull.error = "\n".join(problems)


def _hold(pull: TokenPull, missing: Missing) -> None:
    pull.status = PullStatus.HELD
    pull.held = len(missing.token_ids)
    pull.held_token_ids = missing.token_ids
    limit = settings.TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE
    pull.error = (
        f"Held: this full pull would set {pull.held} of {missing.valid} valid tokens invalid "
        f"({missing.share:.0%}, more than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE {limit:.0%}); "
        "nothing was invalidated. If the eMSP really withdrew them, apply the pull (admin: "
        f"Apply held pull; `manage.py ocpi_pull {pull.partner_id} tokens --apply-held`)."
    )
    # Alert-worthy: one broken answer from a partner would otherwise wipe its whitelist.
    logger.error(
        "Token pull %s from partner %s HELD: would set %s of %s valid tokens invalid "
        "(%.0f%% > %.0f%%); nothing invalidated until an operator applies it",
        pull.pk,
        pull.partner_id,
        pull.held,
        missing.valid,
        missing.share * 100,
        limit * 100,
    )


def _full_pulls_judged(partner_id: int) -> TokenPullQuerySet:
    """The partner's full pulls that may stand for its tokens' truth: a failed one does not
    (it invalidated nothing), so it neither supersedes a held pull nor is one."""
    return TokenPull.objects.filter(partner_id=partner_id, full=True).exclude(
        status=PullStatus.FAILED
    )


def latest_held_pull(partner: PartnerPlatform) -> TokenPull | None:
    """The partner's held pull that could be applied: held, and its latest judged full pull."""
    pull = _full_pulls_judged(partner.pk).order_by("-started_at", "-pk").first()
    return pull if pull is not None and pull.status == PullStatus.HELD else None


def apply_held_pull(pull: TokenPull) -> TokenPull:
    """Set invalid what a held full pull did not return, as an operator confirmed.

    Tokens updated since the pull started (an eMSP's PUT, a later delta pull) keep their
    state. Raises NotApplicable unless the pull is held and still the partner's latest full
    one (a later full pull is newer truth: apply or judge that one instead).
    """
    with transaction.atomic():
        locked = TokenPull.objects.select_for_update().get(pk=pull.pk)
        if locked.status != PullStatus.HELD:
            raise NotApplicable(f"Pull {locked.pk} is {locked.status}, not held")
        newer = (
            _full_pulls_judged(locked.partner_id)
            .filter(started_at__gt=locked.started_at)
            .order_by("started_at")
            .first()
        )
        if newer is not None:
            raise NotApplicable(
                f"Pull {locked.pk} is superseded by the later full pull {newer.pk} ({newer.status})"
            )
        locked.invalidated = tokens_invalidate(
            token_ids=locked.held_token_ids, before=locked.started_at, moment=now()
        )
        locked.status = PullStatus.SUCCEEDED
        locked.applied_at = now()
        locked.held_token_ids = []
        locked.save()
    partner_error_clear(locked.partner_id, PULL_OPERATION)
    logger.warning(
        "Held token pull %s from partner %s applied: %s tokens set invalid",
        locked.pk,
        locked.partner_id,
        locked.invalidated,
    )
    return locked
