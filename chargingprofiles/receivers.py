"""What this module does when a session's status changes (sessions.signals)."""

from typing import Any

from django.dispatch import receiver

from chargingprofiles.loadmanagement import grid_limit_of
from chargingprofiles.tasks import schedule_replan
from sessions.models import Session
from sessions.signals import session_status_changed


@receiver(session_status_changed, sender=Session, dispatch_uid="chargingprofiles.replan")
def plan_its_site_again(sender: Any, session: Session, **kwargs: Any) -> None:
    """A session started, became active or ended: its site's limit is shared again once that
    commits (one query to find the limit; nothing for EVSEs behind none)."""
    if session.evse_id is None:
        return
    grid_limit_id = grid_limit_of(session.evse_id, session.location_id)
    if grid_limit_id is not None:
        schedule_replan(grid_limit_id)
