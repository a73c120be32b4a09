"""How a session change reaches its eMSP: the outbox rows of the lifecycle services.

Pushes go to the eMSP that owns the token only (DESIGN.md, "Who gets what"), at the
Receiver URL {url}/{country_code}/{party_id}/{session_id} of our CPO party. A PATCH carries
the fields that changed, last_updated, and only the new charging periods: the receiver
appends them (mod_sessions, PATCH; push.services keeps such PATCHes from being coalesced).

Both snapshots render through SessionSerializer (one rule for what a field looks like); the
figures' one renders only kwh, total_cost and last_updated, for the change metering makes
with every meter value (sessions.services.session_progress).
"""

from collections.abc import Sequence
from typing import Any

from ocpi.time import moment_after
from push.services import party_targets, push_change
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


def push(session: Session, method: str, payload: dict[str, Any]) -> None:
    push_change(
        module=MODULE,
        method=method,
        owner=session.party,
        object_key=session.object_key,
        path=[session.country_code, session.party_id, session.ocpi_id],
        payload=payload,
        targets=party_targets(MODULE, session.token_party),
    )


def _push_patch(
    session: Session,
    before: dict[str, Any],
    after: dict[str, Any],
    new: Sequence[dict[str, Any]],
) -> None:
    changes = {
        key: value
        for key, value in after.items()
        if key != "last_updated" and before.get(key) != value
    }
    if new:
        changes["charging_periods"] = list(ChargingPeriodSerializer(new, many=True).data)
    changes["last_updated"] = after["last_updated"]
    push(session, "PATCH", changes)


def save_and_patch(session: Session, before: dict[str, Any], new: Sequence[dict[str, Any]]) -> None:
    """Save the session changed since `before` (its snapshot) and PATCH the changes and the
    `new` periods to its eMSP, in the caller's transaction."""
    session.last_updated = moment_after(session.last_updated)
    session.save()
    _push_patch(session, before, snapshot(session), new)


def save_and_patch_figures(session: Session, before: dict[str, Any]) -> None:
    """save_and_patch for a session of which only the FIGURES changed since `before` (their
    figures_snapshot)."""
    session.last_updated = moment_after(session.last_updated)
    session.save(update_fields=[*FIGURE_COLUMNS, "last_updated"])
    _push_patch(session, before, figures_snapshot(session), [])
