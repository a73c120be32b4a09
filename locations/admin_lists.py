"""What the location and EVSE lists show by default: the estate in use. EVSEs are removed by
status REMOVED, never deleted (mod_locations, Flow), so they pile up; a list that shows
them among the live ones hides what matters. Each filter offers them back in one click."""

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from locations.models import EVSE, Connector, Location, Status
from ocpi.display import LocalTimeColumn

ALL = "all"


class _HidesRemovedByDefault(admin.SimpleListFilter):
    """A filter whose default (no parameter) is "not removed", with an explicit "all"."""

    default_label = "not removed"

    parameter_name: str

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": f"{self.default_label} (default)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class EvseStatusFilter(_HidesRemovedByDefault):
    """By status; REMOVED EVSEs only when asked for. The parameter keeps the name of
    Django's field filter, so links to "?status__exact=CHARGING" (the dashboard) still work."""

    title = "status"
    parameter_name = "status__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(ALL, "all"), *((status, status) for status in Status.values)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[EVSE]) -> QuerySet[EVSE]:
        value = self.value()
        if value is None:
            return queryset.exclude(status=Status.REMOVED)
        if value == ALL:
            return queryset
        return queryset.filter(status=value)


class LocationInUseFilter(_HidesRemovedByDefault):
    """Locations whose EVSEs are all REMOVED (withdrawn ones) only when asked for; a location
    without EVSEs yet is being set up, and shows."""

    title = "EVSEs"
    parameter_name = "evses"
    default_label = "not all removed"
    REMOVED = "removed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(ALL, "all"), (self.REMOVED, "all removed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Location]) -> QuerySet[Location]:
        # All removed: one EVSE REMOVED and none that is not. Found from the REMOVED EVSEs (by
        # the status index) as one set, not asked of each location in turn: two probes per
        # location made the list's count read every EVSE of the estate.
        in_use = EVSE.objects.exclude(status=Status.REMOVED).filter(location=OuterRef("location"))
        withdrawn = (
            EVSE.objects.filter(status=Status.REMOVED).exclude(Exists(in_use)).values("location")
        )
        value = self.value()
        if value is None:
            return queryset.exclude(pk__in=withdrawn)
        if value == self.REMOVED:
            return queryset.filter(pk__in=withdrawn)
        return queryset


def _evse_zone(evse: EVSE) -> str | None:
    # The list selects the location with the EVSE, an inline row has its page's location:
    # no query per row. A new EVSE (the add page) has none yet: the operator's zone.
    return evse.location.time_zone if evse.location_id else None


def _location_zone(location: Location) -> str:
    return location.time_zone


def _connector_zone(connector: Connector) -> str | None:
    return _evse_zone(connector.evse) if connector.evse_id else None


# The lists' columns, and the same read-only fields on the pages: one zone per object.
evse_updated = LocalTimeColumn("last_updated", "last updated", _evse_zone)
location_updated = LocalTimeColumn("last_updated", "last updated", _location_zone)
connector_updated = LocalTimeColumn("last_updated", "last updated", _connector_zone)
