"""Writes of the token cache, and the one authorization decision (mod_tokens.asciidoc).

The cache holds what eMSPs tell us; the eMSP owns every field, `last_updated` included:
- token_put / token_patch: the Receiver interface (the owner pushes; its word is final,
  its newest word: one older than the cached token is not applied, ocpi.receiving).
- tokens_sync / tokens_missing, tokens_invalidate (tokens.sync): what a pull or an
  authorize answer brought.

authorize() is what the charge point side calls: it decides from the cache when the token's
whitelist allows it, else asks the eMSP in real time (tokens.realtime), with the whitelist's
offline fallback when the eMSP gives no usable answer.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from ocpi.receiving import refuse_stale
from ocpi.routing import PartyRef, RoutingHeaders
from tokens import realtime
from tokens.authorization import AuthorizationDecision, LocationReferences, Result, Source
from tokens.models import AllowedType, Token, TokenType, WhitelistType, key_of, token_key
from tokens.selectors import (
    TokensSender,
    our_party,
    token_and_sender,
    token_get,
    tokens_sender,
    tokens_with_uid,
)
from tokens.sync import tokens_sync
from tokens.values import IDENTITY, apply_values, field_value, put_values

logger = logging.getLogger(__name__)


def _locked(key_values: Mapping[str, Any]) -> Token | None:
    party = PartyRef.of(key_values["country_code"], key_values["party_id"])
    return (
        Token.objects.select_for_update()
        .for_party(party)
        .identified(key_values["uid"], key_values["type"])
        .first()
    )


def _create(values: Mapping[str, Any]) -> Token | None:
    """Insert, or None when a concurrent writer inserted the same token first."""
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            return Token.objects.create(**values)
    except IntegrityError:
        if _locked(values) is None:
            raise  # not the uniqueness race: a real integrity problem
        return None


# --- the Receiver interface ---------------------------------------------------------------


def _refuse_stale(token: Token, received: datetime) -> None:
    """Under the row lock: an update older than the cached token is not applied."""
    refuse_stale(what=f"Token {token}", stored=token.last_updated, received=received)


def token_put(*, data: Mapping[str, Any]) -> tuple[Token, bool]:
    """Create or replace a token from validated TokenSerializer data; (token, created).

    The same PUT twice is one row, written once. `last_updated` is the eMSP's, as sent.
    Raise StaleUpdate, writing nothing, when it is older than the cached token's.
    """
    values = {**put_values(data), "missing_since": None}
    with transaction.atomic():
        token = _locked(values)
        if token is None:
            created = _create(values)
            if created is not None:
                return created, True
            token = _locked(values)
            assert token is not None  # _create found it
        _refuse_stale(token, values["last_updated"])
        changed = apply_values(token, values)
        if changed:
            token.save(update_fields=changed)
    return token, False


def token_patch(*, token: Token, changes: Mapping[str, Any]) -> Token:
    """Apply a PATCH's fields (validated, `last_updated` among them) to a cached token.

    Raise StaleUpdate, writing nothing, when it is older than the cached token.
    """
    values = {name: field_value(name, changes) for name in changes}
    values["missing_since"] = None  # the owner just told us about it
    with transaction.atomic():
        token = Token.objects.select_for_update().get(pk=token.pk)
        _refuse_stale(token, values["last_updated"])
        changed = apply_values(token, values)
        if changed:
            token.save(update_fields=changed)
    return token


# --- authorization ------------------------------------------------------------------------


def authorize(
    *,
    party: PartyRef | None,
    uid: str,
    token_type: str = TokenType.RFID,
    location: LocationReferences | None = None,
    cpo: PartyRef | None = None,
) -> AuthorizationDecision:
    """Decide whether a driver may charge with token (party, uid, type) at `location`.

    mod_tokens, WhitelistType and Real-time authorization:
    - ALWAYS: decided from the cache, never asked (real time is "not possible/allowed");
      allowed when the token is valid.
    - ALLOWED: we choose: a valid cached token is allowed from the cache; an invalid one is
      asked in real time (its state may have changed), refused when the eMSP gives no answer.
    - ALLOWED_OFFLINE: asked in real time; without a usable answer, allowed if valid.
    - NEVER: asked in real time; refused without a usable answer.
    - Not cached: asked in real time when the eMSP `party` is known (an app start names it);
      a bare RFID uid that no cached token has names no eMSP to ask, so it is refused.
    `cpo` is our party operating the charge point (the request's OCPI-from), as the
    location names it; without it, the platform's default party.
    Pass `location` whenever it is known: an eMSP may answer 2002 without it, and the answer
    then says which of its EVSEs the driver may use.
    """
    party = None if party is None else PartyRef.of(party.country_code, party.party_id)
    sender: TokensSender | None = None
    if party is not None:
        cached, sender = token_and_sender(party=party, uid=uid, token_type=token_type)
    else:
        matches = tokens_with_uid(uid=uid, token_type=token_type)
        if len(matches) > 1:
            return _decision(
                False,
                Result.UNKNOWN_TOKEN,
                Source.NONE,
                f"{token_type} {uid} is a token of several eMSPs; the eMSP must be named",
            )
        cached = matches[0] if matches else None
        party = cached.party if cached is not None else None
        sender = tokens_sender(party) if party is not None else None
    if cached is not None and (
        cached.whitelist == WhitelistType.ALWAYS
        or (cached.whitelist == WhitelistType.ALLOWED and cached.valid)
    ):
        return _from_cache(cached)
    if party is None:
        return _decision(
            False,
            Result.UNKNOWN_TOKEN,
            Source.NONE,
            f"{token_type} {uid} is not a cached token and no eMSP is named to ask",
        )
    return _ask_emsp(
        party, cached.uid if cached else uid, token_type, location, cpo, cached, sender
    )


def _decision(
    allowed: bool, result: Result, source: Source, reason: str, **details: Any
) -> AuthorizationDecision:
    decision = AuthorizationDecision(allowed, result, source, reason, **details)
    logger.info(
        "Authorization %s (%s, %s) for %s: %s",
        "allowed" if allowed else "refused",
        result,
        source,
        decision.party,
        reason,
    )
    return decision


def _from_cache(token: Token) -> AuthorizationDecision:
    result = Result.ALLOWED if token.valid else Result.BLOCKED
    reason = f"whitelist {token.whitelist}, token {'valid' if token.valid else 'invalid'}"
    return _decision(token.valid, result, Source.CACHE, reason, party=token.party, token=token)


def _offline(
    token: Token | None, party: PartyRef, why: str, source: Source = Source.OFFLINE
) -> AuthorizationDecision:
    """No usable answer: only ALLOWED_OFFLINE lets a valid cached token charge."""
    if token is not None and token.whitelist == WhitelistType.ALLOWED_OFFLINE and token.valid:
        reason = f"eMSP gave no answer ({why}); whitelist ALLOWED_OFFLINE, token valid"
        return _decision(True, Result.ALLOWED, source, reason, party=party, token=token)
    whitelist = token.whitelist if token is not None else "none (not cached)"
    reason = f"eMSP gave no answer ({why}); whitelist {whitelist} does not allow charging offline"
    return _decision(False, Result.NO_ANSWER, source, reason, party=party, token=token)


def _ask_emsp(
    party: PartyRef,
    uid: str,
    token_type: str,
    location: LocationReferences | None,
    cpo: PartyRef | None,
    cached: Token | None,
    sender: TokensSender | None,
) -> AuthorizationDecision:
    if sender is None:
        why = f"no registered platform serves tokens of {party}"
        return _offline(cached, party, why, Source.OFFLINE if cached else Source.NONE)
    # The charge point's operator, from our own Location: trusted as it is (saves a query).
    us = cpo if cpo is not None else our_party()
    answer = realtime.request_authorization(
        sender=sender,
        uid=uid,
        token_type=token_type,
        location=location,
        routing=None if us is None else RoutingHeaders(from_party=us, to_party=party),
    )
    details: dict[str, Any] = {"party": party, "token": cached, "duration": answer.duration}
    if answer.kind == realtime.Answer.AUTHORIZATION_INFO:
        assert answer.info is not None
        return _from_answer(answer.info, party, uid, token_type, location, details)
    if answer.kind == realtime.Answer.NO_ANSWER:
        return _offline(cached, party, answer.detail)
    result = {
        realtime.Answer.UNKNOWN_TOKEN: Result.UNKNOWN_TOKEN,
        realtime.Answer.NOT_ENOUGH_INFORMATION: Result.NOT_ENOUGH_INFORMATION,
        realtime.Answer.REJECTED: Result.REJECTED,
    }[answer.kind]
    return _decision(False, result, Source.REALTIME, answer.detail, **details)


def _from_answer(
    info: Mapping[str, Any],
    party: PartyRef,
    uid: str,
    token_type: str,
    asked: LocationReferences | None,
    details: dict[str, Any],
) -> AuthorizationDecision:
    returned = info["token"]
    if key_of(returned) == token_key(party.country_code, party.party_id, uid, token_type):
        if not _same_as_cached(details["token"], returned):
            tokens_sync(items=[returned])
            details["token"] = token_get(party=party, uid=uid, token_type=token_type)
    else:
        logger.warning(
            "Authorize %s %s at %s: the answer carries token %s/%s %s %s; cache not updated",
            token_type,
            uid,
            party,
            *(returned[name] for name in IDENTITY),
        )
    granted = LocationReferences.from_ocpi(info["location"]) if info.get("location") else None
    allowed_type = info["allowed"]
    allowed = allowed_type == AllowedType.ALLOWED and _location_matches(asked, granted)
    result = Result(allowed_type)
    reason = f"eMSP answered {allowed_type}"
    if allowed_type == AllowedType.ALLOWED and not allowed:
        result = Result.NOT_ALLOWED
        reason += f", but not for the location asked: it allowed {granted}"
    return _decision(
        allowed,
        result,
        Source.REALTIME,
        reason,
        authorization_reference=info.get("authorization_reference") or None,
        location=granted,
        info=dict(info["info"]) if info.get("info") else None,
        **details,
    )


def _same_as_cached(cached: Token | None, returned: Mapping[str, Any]) -> bool:
    """Whether the eMSP's copy changes nothing: then the driver does not wait for a write."""
    if cached is None or cached.missing_since is not None:
        return False
    return all(getattr(cached, name) == value for name, value in put_values(returned).items())


def _location_matches(asked: LocationReferences | None, granted: LocationReferences | None) -> bool:
    """An answer's location names the EVSEs the driver may use (AuthorizationInfo.location):
    it must be the location asked, and share an EVSE with those asked when some were."""
    if asked is None or granted is None:
        return True
    if asked.location_id.upper() != granted.location_id.upper():
        return False
    if not asked.evse_uids or not granted.evse_uids:
        return True
    return bool({u.upper() for u in asked.evse_uids} & {u.upper() for u in granted.evse_uids})
