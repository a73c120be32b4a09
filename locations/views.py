"""The Locations Sender interface (mod_locations.asciidoc, Sender Interface): GET only.

The list is paginated and filtered on Location.last_updated; single objects are found by
CiString ids, case-insensitively. Unknown objects answer HTTP 404 with the envelope; POST,
PUT, PATCH and DELETE answer 405 (the Sender interface has none of them).

Scope: the party named by the OCPI-to headers, or all our parties when the request names
none (ocpi-2.2.1.md §4.1: a platform without TO headers returns what the caller may see).
"""

from functools import partial

from rest_framework.request import Request
from rest_framework.response import Response

from credentials.routing import FunctionalModuleApi
from locations import openapi
from locations.rendering import render_locations
from locations.selectors import (
    LocationRow,
    connector_get,
    evse_get,
    location_row,
    location_rows,
)
from locations.serializers import ConnectorSerializer, EVSESerializer
from ocpi.exceptions import NotFound
from ocpi.openapi import ocpi_schema, page_parameters
from ocpi.pagination import paginated_rows
from ocpi.responses import ocpi_response
from ocpi.routing import PartyRef


class LocationsSenderApi(FunctionalModuleApi):
    def parties(self) -> list[PartyRef]:
        """Our parties whose locations the request may see (LocationQuerySet.visible_to)."""
        return self.route.receiver_parties()


class LocationSenderListApi(LocationsSenderApi):
    @ocpi_schema(
        operation_id="locations_list",
        summary="Our locations, with EVSEs and connectors, paginated",
        data=openapi.LOCATION,
        many=True,
        functional=True,
        extra_parameters=page_parameters(),
    )
    def get(self, request: Request) -> Response:
        parties = self.parties()
        return paginated_rows(
            request,
            location_rows,
            {"parties": parties},
            LocationRow,
            partial(render_locations, parties=parties),
            count_cache="locations",
        )


class LocationSenderApi(LocationsSenderApi):
    @ocpi_schema(
        operation_id="locations_get",
        summary="One location",
        data=openapi.LOCATION,
        functional=True,
    )
    def get(self, request: Request, location_id: str) -> Response:
        parties = self.parties()
        row = location_row(parties=parties, location_id=location_id)
        rendered = render_locations([row], parties, keep=True) if row is not None else []
        if not rendered:
            raise NotFound(f"Unknown location {location_id}")
        return ocpi_response(rendered[0])


class EvseSenderApi(LocationsSenderApi):
    @ocpi_schema(
        operation_id="locations_evse_get", summary="One EVSE", data=openapi.EVSE, functional=True
    )
    def get(self, request: Request, location_id: str, evse_uid: str) -> Response:
        evse = evse_get(parties=self.parties(), location_id=location_id, evse_uid=evse_uid)
        if evse is None:
            raise NotFound(f"Unknown EVSE {evse_uid} of location {location_id}")
        return ocpi_response(EVSESerializer(evse).data)


class ConnectorSenderApi(LocationsSenderApi):
    @ocpi_schema(
        operation_id="locations_connector_get",
        summary="One connector",
        data=openapi.CONNECTOR,
        functional=True,
    )
    def get(self, request: Request, location_id: str, evse_uid: str, connector_id: str) -> Response:
        connector = connector_get(
            parties=self.parties(),
            location_id=location_id,
            evse_uid=evse_uid,
            connector_id=connector_id,
        )
        if connector is None:
            raise NotFound(
                f"Unknown connector {connector_id} of EVSE {evse_uid} of location {location_id}"
            )
        return ocpi_response(ConnectorSerializer(connector).data)
