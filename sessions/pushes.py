"""How a session change reaches its eMSP: the outbox rows of the lifecycle services.

Pushes go to the eMSP that owns the token only (DESIGN.md, "Who gets what"), at the
Receiver URL {url}/{country_code}/{party_id}/{session_id} of our CPO party. A PATCH carries
the fields that changed, last_updated, and only the new charging periods: the receiver
appends them (mod_sessions, PATCH; push.services keeps such PATCHes from being coalesced).

Both snapshots render through SessionSerializer (one rule for what a field looks like); the
figures' one renders only kwh, total_cost and last_updated, for the change metering makes
with every meter value (sessions.services.session_progress).
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ocpi.routing import PartyRef
from ocpi.time import moment_after
from push.services import Request, party_targets, push_changes
from sessions.models import Session
from sessions.serializers import (
    FIGURES,
    ChargingPeriodSerializer,
    SessionSerializer,
    session_as_ocpi,
    session_figures_as_ocpi,
)

MODULE = "sessions"
# The columns behind FIGURES other than last_updated.
FIGURE_COLUMNS = ("kwh", "total_cost_excl_vat", "total_cost_incl_vat")

# Rendering only: a serializer deep-copies its declared fields for every instance, and its
# fields keep no state between renderings, so one instance serves every snapshot.
_RENDERER = SessionSerializer()


def snapshot(session: Session) -> dict[str, Any]:
    """The Session object without its periods: what a PATCH compares."""
    return _RENDERER.to_representation(session_as_ocpi(session, periods=[]))


def figures_snapshot(session: Session) -> dict[str, Any]:
    """Only the Session's FIGURES (kwh, total_cost, last_updated), rendered as snapshot()
    renders them: what a PATCH compares when nothing else can have changed."""
    return _RENDERER.represent_fields(session_figures_as_ocpi(session), FIGURES)


def _request(session: Session, method: str, payload: dict[str, Any]) -> Request:
    path = [session.country_code, session.party_id, session.ocpi_id]
    return Request(MODULE, method, session.party, session.object_key, path, payload)


def push(session: Session, method: str, payload: dict[str, Any]) -> None:
    push_changes(
        [_request(session, method, payload)],
        targets=party_targets(MODULE, session.token_party),
    )


def _patch(
    before: dict[str, Any],
    after: dict[str, Any],
    new: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    changes = {
        key: value
        for key, value in after.items()
        if key != "last_updated" and before.get(key) != value
    }
    if new:
        changes["charging_periods"] = list(ChargingPeriodSerializer(new, many=True).data)
    changes["last_updated"] = after["last_updated"]
    return changes


def save_and_patch(session: Session, before: dict[str, Any], new: Sequence[dict[str, Any]]) -> None:
    """Save the session changed since `before` (its snapshot) and PATCH the changes and the
    `new` periods to its eMSP, in the caller's transaction."""
    session.last_updated = moment_after(session.last_updated)
    session.save()
    push(session, "PATCH", _patch(before, snapshot(session), new))


def save_and_patch_figures(changed: Sequence[tuple[Session, dict[str, Any]]]) -> None:
    """save_and_patch for sessions of which only the FIGURES changed since `before` (each
    (session, its figures_snapshot before)), in the caller's transaction: their PATCHes
    queued together, one batch per eMSP (push.services.push_changes). Each row an UPDATE of
    its own: Django's bulk_update (a CASE per column and row) costs more of the gateway's
    CPU than the statements it saves (bench/RESULTS.md, the progress PATCHes together)."""
    if not changed:
        return
    requests: dict[PartyRef, list[Request]] = defaultdict(list)
    for session, before in changed:
        session.last_updated = moment_after(session.last_updated)
        session.save(update_fields=[*FIGURE_COLUMNS, "last_updated"])
        patch = _patch(before, figures_snapshot(session), [])
        requests[session.token_party].append(_request(session, "PATCH", patch))
    for party, queued in requests.items():
        push_changes(queued, targets=party_targets(MODULE, party))
