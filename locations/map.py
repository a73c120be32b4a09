"""The operator's map of locations: the page, its JSON data and the tile settings both the
map and the location form's picker use.

Tiles come from settings.MAP_TILE_URL (a Leaflet URL template); the page's Content Security
Policy lets images from that host through on the map pages only, derived from the same
setting. Markers are vectors drawn from our own data, so they show when no tile loads.
"""

from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.templatetags.static import static
from django.urls import reverse

from locations.models import COUNTED_STATUSES, Location, status_count_name
from ocpi.admin import admin_page

Response = TypeVar("Response", bound=HttpResponseBase)


def tile_origin(tile_url: str) -> str:
    """The CSP source of a tile URL template: scheme and host (with port), a subdomain
    placeholder such as {s} as the wildcard `*`."""
    parts = urlsplit(tile_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.startswith("{") and "}." in host:
        host = "*." + host.split("}.", 1)[1]
    return f"{parts.scheme}://{host}"


def allow_tiles(response: Response) -> Response:
    """Lets this response's page load images from the tile host (django-csp's per-response
    update, as its csp_update decorator sets it, but read from the settings per request)."""
    response._csp_update = {"img-src": [tile_origin(settings.MAP_TILE_URL)]}  # type: ignore[attr-defined]
    return response


def tile_config() -> dict[str, str]:
    return {"tileUrl": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION}


def marker_icons() -> dict[str, str]:
    """The picker's marker images by their served names. Leaflet would guess them from its
    CSS, but that guess fails on the hashed names collectstatic gives them."""
    images = "locations/leaflet/images/"
    return {
        "iconUrl": static(images + "marker-icon.png"),
        "iconRetinaUrl": static(images + "marker-icon-2x.png"),
        "shadowUrl": static(images + "marker-shadow.png"),
    }


def _check_view_permission(model_admin: "admin.ModelAdmin[Location]", request: HttpRequest) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def map_markers() -> list[dict[str, Any]]:
    """Every location as a marker: where, what, its colour and EVSE counts per status (only
    the statuses it has). One query (LocationQuerySet.with_status_counts)."""
    names = {status_count_name(status): status for status in COUNTED_STATUSES}
    # Reversed once: reverse() per row would cost more than the query.
    change_url = reverse("admin:locations_location_change", args=["PK"])
    rows = (
        Location.objects.with_status_counts()
        .order_by("pk")
        .values("pk", "name", "address", "city", "latitude", "longitude", "map_colour", *names)
    )
    return [
        {
            "name": row["name"] or row["address"],
            "address": f"{row['address']}, {row['city']}",
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
            "colour": row["map_colour"],
            "counts": {status: row[name] for name, status in names.items() if row[name]},
            "url": change_url.replace("PK", str(row["pk"])),
        }
        for row in rows
    ]


def map_data_view(model_admin: "admin.ModelAdmin[Location]", request: HttpRequest) -> JsonResponse:
    _check_view_permission(model_admin, request)
    return JsonResponse({"locations": map_markers()})


def map_page_view(
    model_admin: "admin.ModelAdmin[Location]", request: HttpRequest
) -> HttpResponseBase:
    _check_view_permission(model_admin, request)
    config = {**tile_config(), "dataUrl": reverse("admin:locations_location_map_data")}
    response = admin_page(
        model_admin,
        request,
        "admin/locations/location/map.html",
        title="Map of locations",
        map_config=config,
    )
    return allow_tiles(response)
