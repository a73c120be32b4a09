"""Writes of pulled tokens: the pages a pull crawls (tokens.pull) and the token in an
authorize answer (mod_tokens.asciidoc, Sender interface).

- tokens_sync: a pulled page or the token in an authorize answer. A copy older than the
  cached one (by last_updated) is not applied (ocpi.receiving.is_stale): a pull may read a
  page before a PUT that the eMSP sent meanwhile.
- tokens_missing, tokens_invalidate: after a full pull, which is the new truth (Pagination,
  "Any older information that is not specified in the response is considered as no longer
  valid"). Tokens are set valid=false, never deleted: sessions and CDRs refer to them.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper

from ocpi.receiving import is_stale
from ocpi.routing import PartyRef
from tokens.models import Token, TokenKey, key_of, token_key
from tokens.values import SYNC_FIELDS, apply_values, put_values

# Rows per UPDATE when a full pull invalidates what it did not return.
_CHUNK = 500


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _newest_per_key(items: Iterable[Mapping[str, Any]]) -> dict[TokenKey, dict[str, Any]]:
    newest: dict[TokenKey, dict[str, Any]] = {}
    for item in items:
        values = put_values(item)
        key = key_of(values)
        kept = newest.get(key)
        if kept is None or not is_stale(
            stored=kept["last_updated"], received=values["last_updated"]
        ):
            newest[key] = values
    return newest


def tokens_sync(*, items: Sequence[Mapping[str, Any]]) -> SyncCounts:
    """Store tokens the eMSP served (validated data), a page at a time: three queries.

    A copy older than the cached one is left unapplied (counted unchanged).
    """
    wanted = _newest_per_key(items)
    counts = SyncCounts(unchanged=len(items) - len(wanted))
    try:
        with transaction.atomic():
            _sync(wanted, counts)
    except IntegrityError:
        # A PUT created one of these tokens meanwhile: go one by one.
        counts = SyncCounts(unchanged=len(items) - len(wanted))
        for key, values in wanted.items():
            with transaction.atomic():
                _sync({key: values}, counts)
    return counts


def _sync(wanted: Mapping[TokenKey, dict[str, Any]], counts: SyncCounts) -> None:
    uids = {key[2] for key in wanted}
    cached = {
        token.key: token
        for token in Token.objects.select_for_update()
        .alias(uid_upper=Upper("uid"))
        .filter(uid_upper__in=uids)
    }
    new: list[Token] = []
    changed: list[Token] = []
    for key, values in wanted.items():
        token = cached.get(key)
        if token is None:
            new.append(Token(**values))
        elif is_stale(stored=token.last_updated, received=values["last_updated"]):
            counts.unchanged += 1  # not the partner's doing: not counted (credentials.receiving)
        elif apply_values(token, {**values, "missing_since": None}):
            changed.append(token)
        else:
            counts.unchanged += 1
    Token.objects.bulk_create(new)
    if changed:
        Token.objects.bulk_update(changed, SYNC_FIELDS)
    counts.created += len(new)
    counts.updated += len(changed)


@dataclass(frozen=True)
class Missing:
    """What a full pull did not return: the ids of those valid tokens, and of how many."""

    token_ids: list[int]
    valid: int

    @property
    def share(self) -> float:
        return len(self.token_ids) / self.valid if self.valid else 0.0


def tokens_missing(
    *, parties: Sequence[PartyRef], seen: set[TokenKey], before: datetime
) -> Missing:
    """The valid tokens of `parties` that a full pull did not return.

    Only tokens that were cached and last updated before the pull started (`before`): one
    the eMSP PUT while we crawled is not in the pages and must not be dropped.
    """
    rows = (
        Token.objects.for_parties(list(parties))
        .filter(valid=True, created_at__lt=before, last_updated__lt=before)
        .values_list("pk", "country_code", "party_id", "uid", "type")
    )
    valid = 0
    missing = []
    for pk, *identity in rows:
        valid += 1
        if token_key(*identity) not in seen:
            missing.append(pk)
    return Missing(missing, valid)


def tokens_invalidate(*, token_ids: Sequence[int], before: datetime, moment: datetime) -> int:
    """Set valid=false on those of `token_ids` still valid and not updated since `before`
    (an eMSP's PUT or a later pull since then is newer news); return how many."""
    done = 0
    with transaction.atomic():
        for start in range(0, len(token_ids), _CHUNK):
            done += Token.objects.filter(
                pk__in=token_ids[start : start + _CHUNK], valid=True, last_updated__lt=before
            ).update(valid=False, missing_since=moment)
    return done
