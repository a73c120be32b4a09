"""The audit trail: an operator's change in the admin is kept with who, what (old → new) and
when, and shown on the object's page; protocol traffic writing the same rows keeps nothing;
old entries are pruned."""

from datetime import timedelta
from typing import Any

import pytest
from auditlog import receivers
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from auditlog.registry import AuditlogModelRegistry, auditlog
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.middleware import AdminAuditMiddleware
from audit.tasks import prune
from audit.tracking import operator_changes, operator_context_active
from chargers.models import ChargePoint
from credentials.models import PartnerPlatform
from locations import services
from locations.models import EVSE, Location
from ocpi.time import now
from tests.chargers.status_estate import UIDS, call, charge_point, location, partner, statuses
from tests.page_form import posted_form

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db

LOCATIONS = "/admin/locations/location/"
EVSES = "/admin/locations/evse/"


def as_rendered(response: Any, **changes: Any) -> dict[str, Any]:
    """The POST of an admin change form submitted as rendered, with `changes` (field name:
    value) made: the tests do not depend on which fields the form has."""
    form_id = f"{response.context['opts'].model_name}_form"
    data: dict[str, Any] = posted_form(response.content.decode(), form_id)
    data.update({name: [value] for name, value in changes.items()})
    return data


def entries_of(instance: Any) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(instance).order_by("pk"))


def test_an_admin_edit_of_a_location_records_who_changed_what_and_when(
    operator: Client, location: Location
) -> None:
    page = operator.get(f"{LOCATIONS}{location.pk}/change/")
    before = now()

    response = operator.post(
        f"{LOCATIONS}{location.pk}/change/", as_rendered(page, name="Gent Zuid Station")
    )

    assert response.status_code == 302
    [entry] = entries_of(location)
    assert entry.action == LogEntry.Action.UPDATE
    assert isinstance(entry.actor, AbstractUser)
    assert entry.actor.get_username() == "operator"
    # last_updated moved too, but a bookkeeping timestamp is no change of the operator's.
    assert entry.changes_dict == {"name": [location.name, "Gent Zuid Station"]}
    assert before <= entry.timestamp <= now()


def test_saving_a_page_unchanged_records_nothing(operator: Client, location: Location) -> None:
    page = operator.get(f"{LOCATIONS}{location.pk}/change/")

    operator.post(f"{LOCATIONS}{location.pk}/change/", as_rendered(page))

    assert LogEntry.objects.count() == 0


def test_a_status_notification_changing_an_evse_records_nothing(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)

    call(cp, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"})

    assert statuses()[0] == "OUTOFORDER"  # the EVSE's row was saved with its new status
    assert LogEntry.objects.count() == 0


def test_a_status_change_outside_an_operators_scope_costs_no_audit_query(
    location: Location,
) -> None:
    """auditlog's update receiver reads the row back before each save; outside an operator's
    scope it must not run at all (two of a status change's queries otherwise)."""
    first, second = EVSE.objects.filter(uid__in=UIDS[:2]).order_by("uid")

    with CaptureQueriesContext(connection) as audited:
        services.evse_set_status(evse=first, status="OUTOFORDER")
    with disable_auditlog(), CaptureQueriesContext(connection) as without_auditlog:
        services.evse_set_status(evse=second, status="OUTOFORDER")

    assert len(audited) == len(without_auditlog)
    assert [evse.status for evse in EVSE.objects.filter(uid__in=UIDS[:2])] == ["OUTOFORDER"] * 2


def test_auditlog_connects_the_receivers_its_registry_holds() -> None:
    """What audit.tracking's wrapping relies on: auditlog's registry keeps the receivers it
    connects per registered model in `_signals`. An upgrade that changes this fails here."""
    fresh = AuditlogModelRegistry()
    assert fresh._signals[pre_save] is receivers.log_update
    assert fresh._signals[post_save] is receivers.log_create
    assert fresh._signals[post_delete] is receivers.log_delete
    wrapped = {signal: receiver.__wrapped__ for signal, receiver in auditlog._signals.items()}
    assert wrapped[pre_save] is receivers.log_update
    sync_receivers, _ = pre_save._live_receivers(EVSE)
    assert auditlog._signals[pre_save] in sync_receivers


def test_the_same_status_change_by_an_operator_is_recorded(
    operator: Client, location: Location
) -> None:
    evse = EVSE.objects.get(uid=UIDS[0])
    page = operator.get(f"{EVSES}{evse.pk}/change/")

    operator.post(f"{EVSES}{evse.pk}/change/", as_rendered(page, status="INOPERATIVE"))

    [entry] = entries_of(evse)
    assert entry.changes_dict == {"status": ["AVAILABLE", "INOPERATIVE"]}


def test_after_an_admin_request_protocol_traffic_records_nothing(
    operator: Client, location: Location
) -> None:
    """auditlog's middleware leaves its actor in the thread's context after the request."""
    cp = charge_point("1.6", *UIDS)
    page = operator.get(f"{LOCATIONS}{location.pk}/change/")
    operator.post(f"{LOCATIONS}{location.pk}/change/", as_rendered(page, name="Gent Sint-Pieters"))

    call(cp, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"})

    assert statuses()[0] == "OUTOFORDER"
    assert [entry.content_type.model for entry in LogEntry.objects.all()] == ["location"]


def test_only_admin_requests_carry_their_user_as_the_actor(
    django_user_model: Any, settings: Any
) -> None:
    user = django_user_model.objects.create_user("someone")
    seen: dict[str, bool] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen[request.path] = operator_context_active()
        return HttpResponse()

    middleware = AdminAuditMiddleware(view)
    for path in ("/admin/locations/location/", "/ocpi/cpo/2.2.1/locations", "/metrics"):
        request = RequestFactory().post(path)
        request.user = user
        middleware(request)
    signed_out = RequestFactory().post("/admin/login/")
    signed_out.user = AnonymousUser()
    middleware(signed_out)

    assert seen == {
        "/admin/locations/location/": True,
        "/ocpi/cpo/2.2.1/locations": False,
        "/metrics": False,
        "/admin/login/": False,
    }
    assert not operator_context_active()  # nothing left behind after the request


def test_the_history_button_shows_the_audit_trail(operator: Client, location: Location) -> None:
    page = operator.get(f"{LOCATIONS}{location.pk}/change/")
    operator.post(f"{LOCATIONS}{location.pk}/change/", as_rendered(page, name="Gent Sint-Pieters"))

    change_page = operator.get(f"{LOCATIONS}{location.pk}/change/").content.decode()
    history = operator.get(f"{LOCATIONS}{location.pk}/history/")

    assert f"{LOCATIONS}{location.pk}/history/" in change_page
    assert history.status_code == 200
    html = history.content.decode()
    # Its styles from a file: the admin's Content-Security-Policy refuses inline ones.
    assert "style-src 'self'" in history["Content-Security-Policy"]
    assert "<style" not in html
    assert "/static/audit/history.css" in html
    assert "operator" in html
    assert location.name in html
    assert "Gent Sint-Pieters" in html


def test_the_history_shows_the_rows_edited_inline_deleted_ones_included(
    operator: Client, django_user_model: Any, location: Location
) -> None:
    evse = EVSE.objects.get(uid=UIDS[0])
    other = EVSE.objects.get(uid=UIDS[1])
    connector = evse.connectors.get(ocpi_id="1")
    with operator_changes(django_user_model.objects.get(username="operator")):
        connector.max_voltage = 987
        connector.save()
        other.connectors.get(ocpi_id="1").save(update_fields=["max_voltage"])  # not a change
        mapping = charge_point("1.6", UIDS[0]).evses.get()
        mapping.delete()

    evse_history = operator.get(f"{EVSES}{evse.pk}/history/").content.decode()
    other_history = operator.get(f"{EVSES}{other.pk}/history/").content.decode()
    cp = ChargePoint.objects.get(identity="CP-1.6")
    cp_history = operator.get(f"/admin/chargers/chargepoint/{cp.pk}/history/").content.decode()

    assert "987" in evse_history
    assert "987" not in other_history
    # The charge point created, its mapping created and deleted.
    assert cp_history.count('class="entry-action"') == 3


def test_the_history_of_a_missing_object_is_djangos_redirect(operator: Client) -> None:
    response = operator.get(f"{LOCATIONS}999999/history/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_every_entry_is_listed_in_the_admin(operator: Client, location: Location) -> None:
    page = operator.get(f"{LOCATIONS}{location.pk}/change/")
    operator.post(f"{LOCATIONS}{location.pk}/change/", as_rendered(page, name="Gent Sint-Pieters"))

    listing = operator.get("/admin/auditlog/logentry/")

    assert listing.status_code == 200
    assert f"{LOCATIONS}{location.pk}/change/" in listing.content.decode()


def test_tokens_and_password_hashes_never_go_into_the_log(
    partner: PartnerPlatform, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("someone")
    cp = ChargePoint.objects.create(identity="CP-1", ocpp_version="1.6")
    with operator_changes(user):
        partner.name = "Renamed"
        partner.set_outgoing_token("a-new-secret")
        partner.set_incoming_token("another-secret")
        partner.save()
        cp.password_hash = "pbkdf2_sha256$1$salt$hash"
        cp.heartbeat_interval = 60
        cp.save()

    [partner_entry] = entries_of(partner)
    [cp_entry] = entries_of(cp)
    assert set(partner_entry.changes_dict) == {"name"}
    assert set(cp_entry.changes_dict) == {"heartbeat_interval"}


def _entry_aged(location: Location, user: Any, days: float) -> LogEntry:
    with operator_changes(user):
        location.name = f"aged {days}"
        location.save()
    entry = LogEntry.objects.latest("pk")
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=now() - timedelta(days=days))
    return entry


def test_pruning_deletes_entries_older_than_audit_log_days(
    location: Location, django_user_model: Any, settings: Any
) -> None:
    settings.AUDIT_LOG_DAYS = 30
    user = django_user_model.objects.create_user("someone")
    _entry_aged(location, user, 31)
    kept = _entry_aged(location, user, 29)

    assert prune() == 1

    assert list(LogEntry.objects.all()) == [kept]


def test_audit_log_days_0_keeps_every_entry(
    location: Location, django_user_model: Any, settings: Any
) -> None:
    settings.AUDIT_LOG_DAYS = 0
    _entry_aged(location, django_user_model.objects.create_user("someone"), 4000)

    assert prune() == 0

    assert LogEntry.objects.count() == 1


def test_beat_prunes_daily(settings: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["audit-prune"] == {
        "task": "audit.prune",
        "schedule": 24 * 3600.0,
    }
