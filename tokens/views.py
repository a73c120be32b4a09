"""The Tokens Receiver interface (mod_tokens.asciidoc, Receiver Interface): GET, PUT, PATCH.

`{tokens_endpoint_url}/{country_code}/{party_id}/{token_uid}[?type={type}]`, type RFID when
omitted, for every method. The URL's party must be the caller's eMSP (credentials.access:
the party of OCPI-from, or without headers any eMSP role of the platform): a platform reads
and writes only its own parties' tokens; any other party answers HTTP 404
(transport_and_format, "access blocking"), so one eMSP learns nothing of another's tokens.
A body whose country_code, party_id, uid or type differs from the URL is refused with 2001.

- GET: the cached token; unknown: HTTP 404, OCPI 2004 (Unknown Token).
- PUT: the full token; HTTP 201 when created, 200 when it replaced one; no `data`.
- PATCH: the fields to change, `last_updated` required (2001 without). A field sent as null
  is left unchanged (a PATCH cannot remove data; transport_and_format, PATCH). A PATCH of a
  token we do not have answers HTTP 404 + 2004: there is nothing to apply it to, and the
  eMSP is expected to GET, see the 404, and PUT the token (transport_and_format, PATCH).
- PUT or PATCH older (by `last_updated`) than the cached token: not applied, HTTP 200 +
  1000 with a status_message saying so, counted for the partner (ocpi.receiving: checked
  under the row lock by tokens.services, answered by FunctionalModuleApi).
- POST and DELETE: HTTP 405 (n/a: a token is invalidated with valid=false).
"""

from collections.abc import Mapping
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from credentials.routing import FunctionalModuleApi
from ocpi.exceptions import InvalidParameters, NotFound
from ocpi.openapi import ocpi_schema
from ocpi.responses import ocpi_response
from ocpi.routing import PartyRef
from ocpi.status import OcpiStatus
from tokens import services
from tokens.models import TokenType
from tokens.openapi import TOKEN, TYPE_PARAMETER
from tokens.selectors import token_get
from tokens.serializers import TokenSerializer


class TokenNotFound(NotFound):
    status_code = OcpiStatus.UNKNOWN_TOKEN
    default_message = "Unknown Token"


def _token_type(request: Request) -> str:
    value = request.query_params.get("type") or TokenType.RFID.value
    if value not in TokenType.values:
        raise InvalidParameters(f"type must be one of {', '.join(TokenType.values)}")
    return value


def _check_identity(data: Mapping[str, Any], party: PartyRef, uid: str, token_type: str) -> None:
    """The body names the token the URL names (mod_tokens, PUT Request Parameters)."""
    url = {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "uid": uid.upper(),
        "type": token_type,
    }
    mismatches = [
        f"{name} {data[name]!r} (URL: {expected!r})"
        for name, expected in url.items()
        if name in data and (data[name] if name == "type" else str(data[name]).upper()) != expected
    ]
    if mismatches:
        raise InvalidParameters("The body does not match the URL: " + "; ".join(mismatches))


class TokenReceiverApi(FunctionalModuleApi):
    """Tokens of the caller's eMSP parties, cached here for authorizing their drivers."""

    def _owner(self, country_code: str, party_id: str) -> PartyRef:
        party = PartyRef.of(country_code, party_id)
        if party not in self.route.emsp_parties():  # credentials.access
            raise NotFound(f"{party} is not one of your eMSP parties")
        return party

    @ocpi_schema(
        operation_id="tokens_receiver_get",
        summary="A token of one of the caller's eMSP parties, as we cached it",
        data=TOKEN,
        functional=True,
        extra_parameters=[TYPE_PARAMETER],
    )
    def get(self, request: Request, country_code: str, party_id: str, token_uid: str) -> Response:
        party = self._owner(country_code, party_id)
        token_type = _token_type(request)
        token = token_get(party=party, uid=token_uid, token_type=token_type)
        if token is None:
            raise TokenNotFound(f"Unknown token {party} {token_type} {token_uid}")
        return ocpi_response(TokenSerializer(token).data)

    @ocpi_schema(
        operation_id="tokens_receiver_put",
        summary="Create or replace a token (HTTP 201 created, 200 replaced)",
        request={"application/json": TOKEN},
        functional=True,
        extra_parameters=[TYPE_PARAMETER],
    )
    def put(self, request: Request, country_code: str, party_id: str, token_uid: str) -> Response:
        party = self._owner(country_code, party_id)
        token_type = _token_type(request)
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _check_identity(serializer.validated_data, party, token_uid, token_type)
        _, created = services.token_put(data=serializer.validated_data)
        return ocpi_response(http_status=201 if created else 200)

    @ocpi_schema(
        operation_id="tokens_receiver_patch",
        summary="Change some fields of a token; last_updated is required",
        request={"application/json": TOKEN},
        functional=True,
        extra_parameters=[TYPE_PARAMETER],
    )
    def patch(self, request: Request, country_code: str, party_id: str, token_uid: str) -> Response:
        party = self._owner(country_code, party_id)
        token_type = _token_type(request)
        if not isinstance(request.data, dict):
            raise InvalidParameters("The body must be a JSON object (a partial Token)")
        changes = {name: value for name, value in request.data.items() if value is not None}
        if "last_updated" not in changes:
            raise InvalidParameters("A PATCH SHALL contain last_updated")
        serializer = TokenSerializer(data=changes, partial=True)
        serializer.is_valid(raise_exception=True)
        _check_identity(serializer.validated_data, party, token_uid, token_type)
        token = token_get(party=party, uid=token_uid, token_type=token_type)
        if token is None:
            raise TokenNotFound(
                f"Unknown token {party} {token_type} {token_uid}: PUT it before patching it"
            )
        services.token_patch(token=token, changes=serializer.validated_data)
        return ocpi_response()
