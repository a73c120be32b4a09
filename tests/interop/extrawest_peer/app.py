"""Third-party OCPI 2.2.1 eMSP test peer built on ``extrawest-ocpi`` (``py_ocpi``).

This is a standalone script. It runs under its own virtualenv (pydantic 1,
FastAPI 0.101, see ``tests/interop/peer.py``) and must never be imported by
the project, which runs on a different interpreter with pydantic 2 / Django.

What it serves (``<base>`` = ``http://<host>:<port>``):

* the library's own OCPI routes, eMSP role, version 2.2.1 only:
  ``<base>/ocpi/versions``, ``<base>/ocpi/2.2.1/details`` and
  ``<base>/ocpi/emsp/2.2.1/<module>/...``;
* a small plain-JSON control API under ``<base>/_control/`` that the tests use
  to issue tokens, inspect what the peer received, seed data and make the
  peer act as a client (see ``README.md`` next to this file).

Everything is kept in memory; ``POST /_control/reset`` wipes it.

Usage: ``python app.py [--host 127.0.0.1] [--port 9321]`` (or the
``XW_PEER_HOST`` / ``XW_PEER_PORT`` environment variables).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import itertools
import json
import logging
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple


def _parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("XW_PEER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("XW_PEER_PORT", "9321")))
    return parser.parse_args(argv)


ARGS = _parse_args(sys.argv[1:])

# --- Environment for py_ocpi -------------------------------------------------
# py_ocpi reads its settings (pydantic BaseSettings) once, at import time, so
# all of this has to happen before the first ``import py_ocpi``.
#
# * OCPI_HOST/PROTOCOL: every URL the library publishes (versions list,
#   endpoint list) is built as f"{PROTOCOL}://{OCPI_HOST}/ocpi/...", so they
#   must point at the loopback address we actually listen on.
# * TRAILING_SLASH: endpoint URLs are published as ".../credentials/",
#   ".../locations/" ... The collection routes (POST credentials, POST cdrs,
#   GET tokens) are only registered *with* the slash.
# * CI_STRING_LOWERCASE_PREFERENCE: the library normalises every CiString
#   (country_code, party_id, ids, ... in bodies *and* path parameters) to one
#   case. Default is lower case; we want upper case, like the rest of the
#   OCPI world uses for country codes / party ids.
# * ENVIRONMENT=development turns the library's logger to DEBUG, which is what
#   you want when an interop test fails.
# * The library reads *unprefixed* variable names, so anything else that
#   happens to be in the environment (ENVIRONMENT=test, NO_AUTH, ...) would
#   change or crash the peer: pin every setting that matters.
os.environ["OCPI_HOST"] = f"{ARGS.host}:{ARGS.port}"
os.environ["PROTOCOL"] = "http"
os.environ["OCPI_PREFIX"] = "ocpi"
os.environ["TRAILING_SLASH"] = "True"
os.environ["CI_STRING_LOWERCASE_PREFERENCE"] = "False"
os.environ["NO_AUTH"] = "False"
os.environ["BACKEND_CORS_ORIGINS"] = "[]"
os.environ["ENVIRONMENT"] = os.environ.get("XW_PEER_ENVIRONMENT", "development")
os.environ["PROJECT_NAME"] = "extrawest-ocpi eMSP test peer"
os.environ.setdefault("COUNTRY_CODE", "DE")
os.environ.setdefault("PARTY_ID", "XWE")

# The library's Settings also read a ``.env`` file from the *current
# directory*. Run from our own directory so a project-level .env (Django
# settings, secrets, ...) can never leak into the peer's configuration.
os.chdir(Path(__file__).resolve().parent)

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import APIRouter, Body, FastAPI, HTTPException  # noqa: E402
from fastapi.encoders import jsonable_encoder  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from py_ocpi.core.adapter import BaseAdapter  # noqa: E402
from py_ocpi.core.authentication.authenticator import Authenticator  # noqa: E402
from py_ocpi.core.config import settings  # noqa: E402
from py_ocpi.core.crud import Crud  # noqa: E402
from py_ocpi.core.enums import Action, ModuleID, RoleEnum  # noqa: E402
from py_ocpi.main import get_application  # noqa: E402
from py_ocpi.modules.tokens.v_2_2_1.schemas import Token  # noqa: E402
from py_ocpi.modules.versions.enums import VersionNumber  # noqa: E402

log = logging.getLogger("xw-peer")
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(asctime)s xw-peer [%(levelname)s] %(message)s"))
log.addHandler(_handler)
log.setLevel(logging.DEBUG)
log.propagate = False

BASE_URL = f"{settings.PROTOCOL}://{settings.OCPI_HOST}"
VERSIONS_URL = f"{BASE_URL}/{settings.OCPI_PREFIX}/versions"
VERSION_DETAILS_URL = f"{BASE_URL}/{settings.OCPI_PREFIX}/{VersionNumber.v_2_2_1.value}/details"
BUSINESS_NAME = os.environ.get("XW_PEER_BUSINESS_NAME", "Extrawest test eMSP")

# Every module the library implements for the eMSP role in 2.2.1. A subset
# can be chosen with XW_PEER_MODULES=credentials,locations,...
ALL_EMSP_MODULES: List[ModuleID] = [
    ModuleID.credentials_and_registration,
    ModuleID.locations,
    ModuleID.sessions,
    ModuleID.cdrs,
    ModuleID.tariffs,
    ModuleID.tokens,
    ModuleID.commands,
    ModuleID.hub_client_info,
    ModuleID.charging_profile,
]


def _selected_modules() -> List[ModuleID]:
    raw = os.environ.get("XW_PEER_MODULES", "").strip()
    if not raw:
        return list(ALL_EMSP_MODULES)
    wanted = {item.strip() for item in raw.split(",") if item.strip()}
    wanted.add(ModuleID.credentials_and_registration.value)  # handshake is always needed
    return [module for module in ALL_EMSP_MODULES if module.value in wanted]


# Orders client records by last change; timestamps have 1 s resolution.
_SEQUENCE = itertools.count(1)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_token() -> str:
    # uuid4 text: 36 printable chars, well under the 64-char limit of
    # Credentials.token, and easy to recognise in logs.
    return str(uuid.uuid4())


def b64(token: str) -> str:
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def describe_authorization(value: Optional[str]) -> Optional[Dict[str, Any]]:
    """Split an Authorization header and try to Base64-decode its token.

    OCPI 2.2 sends ``Token <base64(token)>``; peers that still send the raw
    token (2.1.1 style) show up with ``token_decoded`` = None.
    """
    if value is None:
        return None
    parts = value.split(None, 1)
    scheme = parts[0] if parts else ""
    token = parts[1].strip() if len(parts) > 1 else ""
    decoded: Optional[str]
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = None
    return {"raw": value, "scheme": scheme, "token": token, "token_decoded": decoded}


def _body_for_log(raw: bytes, limit: int = 200_000) -> Any:
    if not raw:
        return None
    text = raw[:limit].decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- In-memory store -----------------------------------------------------------


class Store:
    """Everything the peer knows. Single event loop, so no locking needed."""

    MAX_LOG = 5000

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # Token A (registration tokens) we handed out, unused ones only.
        self.token_a: Dict[str, Dict[str, Any]] = {}
        # Tokens that are no longer valid, with the reason (for debugging).
        self.revoked_tokens: List[Dict[str, Any]] = []
        # Registered platforms, keyed by the token *they* use to call us
        # (token C in the spec). Each record also holds the token *we* use to
        # call them and the endpoints we fetched from them.
        self.clients: Dict[str, Dict[str, Any]] = {}
        # module id -> object key -> object (as stored via the Crud).
        self.objects: Dict[str, Dict[str, Any]] = {}
        # Inbound OCPI requests (not /_control) and outbound HTTP calls.
        self.request_log: List[Dict[str, Any]] = []
        self.outbound_log: List[Dict[str, Any]] = []

    # Tokens ----------------------------------------------------------------

    def issue_token_a(self, token: Optional[str] = None) -> str:
        token = token or new_token()
        self.token_a[token] = {"issued_at": utc_now()}
        log.info("issued token A %s", token)
        return token

    def revoke(self, token: str, reason: str) -> None:
        self.revoked_tokens.append({"token": token, "reason": reason, "at": utc_now()})

    def add_client(self, token_c: str, origin: str, **fields: Any) -> Dict[str, Any]:
        record: Dict[str, Any] = {
            "token_c": token_c,
            "origin": origin,
            "client_token": None,
            "client_versions_url": None,
            "client_roles": [],
            "client_endpoints": None,
            "token_a_used": None,
            "created_at": utc_now(),
            "updated_at": utc_now(),
            "seq": next(_SEQUENCE),
        }
        record.update(fields)
        self.clients[token_c] = record
        return record

    def latest_client_with_token(self) -> Optional[Dict[str, Any]]:
        candidates = [c for c in self.clients.values() if c.get("client_token")]
        return max(candidates, key=lambda c: c["seq"], default=None)

    # Objects ---------------------------------------------------------------

    def bucket(self, module: ModuleID) -> Dict[str, Any]:
        return self.objects.setdefault(module.value, {})

    def append_log(self, target: List[Dict[str, Any]], entry: Dict[str, Any]) -> None:
        target.append(entry)
        if len(target) > self.MAX_LOG:
            del target[: len(target) - self.MAX_LOG]

    def dump(self) -> Dict[str, Any]:
        return jsonable_encoder(
            {
                "party": {
                    "country_code": settings.COUNTRY_CODE,
                    "party_id": settings.PARTY_ID,
                    "versions_url": VERSIONS_URL,
                    "version_details_url": VERSION_DETAILS_URL,
                },
                "token_a": self.token_a,
                "revoked_tokens": self.revoked_tokens,
                "clients": list(self.clients.values()),
                "objects": self.objects,
                "request_log": self.request_log,
                "outbound_log": self.outbound_log,
            }
        )


STORE = Store()


def own_credentials(token_c: str) -> Dict[str, Any]:
    """The Credentials object this peer presents to a client holding token_c."""
    return {
        "token": token_c,
        "url": VERSIONS_URL,
        "roles": [
            {
                "role": RoleEnum.emsp.value,
                "party_id": settings.PARTY_ID,
                "country_code": settings.COUNTRY_CODE,
                "business_details": {"name": BUSINESS_NAME},
            }
        ],
    }


# --- Crud ----------------------------------------------------------------------


def _upper(value: Any) -> str:
    return str(value).upper() if value is not None else ""


def _party_key(kwargs: Dict[str, Any], object_id: Any) -> str:
    # The library already upper-cases CiString path parameters (see
    # CI_STRING_LOWERCASE_PREFERENCE above); upper() again so direct calls
    # with other casing still hit the same key.
    return (
        f"{_upper(kwargs.get('country_code'))}/{_upper(kwargs.get('party_id'))}/{_upper(object_id)}"
    )


def _enum_value(value: Any) -> str:
    # str-Enums print as "TokenType.rfid" on 3.10; compare their values.
    return str(getattr(value, "value", value))


def _parse_ts(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class InMemoryCrud(Crud):
    """Crud over ``STORE`` for everything the eMSP role of py_ocpi calls.

    The library calls these as classmethods on the class object we pass to
    get_application(); signatures follow py_ocpi.core.crud.Crud. Note that the
    library sometimes passes ``auth_token`` positionally (locations PUT,
    hubclientinfo PUT), hence the ``*args``.
    """

    @classmethod
    async def get(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any) -> Any:
        if module == ModuleID.credentials_and_registration:
            # ``id`` is the (decoded) token of the caller.
            client = STORE.clients.get(str(id))
            return own_credentials(client["token_c"]) if client else None
        if module in (ModuleID.locations, ModuleID.sessions, ModuleID.tariffs):
            return STORE.bucket(module).get(_party_key(kwargs, id))
        if module == ModuleID.cdrs:
            return STORE.bucket(module).get(_upper(id))
        if module == ModuleID.tokens:
            token = STORE.bucket(module).get(_upper(id))
            wanted_type = kwargs.get("token_type")
            if (
                token
                and wanted_type is not None
                and _enum_value(token.get("type")) != _enum_value(wanted_type)
            ):
                return None
            return token
        if module == ModuleID.hub_client_info:
            return STORE.bucket(module).get(
                f"{_upper(kwargs.get('country_code'))}/{_upper(kwargs.get('party_id'))}"
            )
        return STORE.bucket(module).get(str(id))

    @classmethod
    async def list(
        cls, module: ModuleID, role: RoleEnum, filters: dict, *args: Any, **kwargs: Any
    ) -> Tuple[list, int, bool]:
        items = list(STORE.bucket(module).values())
        date_from = _parse_ts(filters.get("date_from"))
        date_to = _parse_ts(filters.get("date_to"))

        def in_range(item: Dict[str, Any]) -> bool:
            updated = _parse_ts(item.get("last_updated"))
            if updated is None:
                return True
            if date_from and updated < date_from:
                return False
            if date_to and updated >= date_to:
                return False
            return True

        items = [item for item in items if in_range(item)]
        items.sort(key=lambda item: str(item.get("last_updated", "")))
        offset = int(filters.get("offset") or 0)
        limit = int(filters.get("limit") or 50)
        page = items[offset : offset + limit]
        return page, len(items), offset + limit >= len(items)

    @classmethod
    async def create(
        cls, module: ModuleID, role: RoleEnum, data: dict, *args: Any, **kwargs: Any
    ) -> Any:
        if module == ModuleID.credentials_and_registration:
            return cls._register_client(data, kwargs.get("auth_token"))
        if module in (ModuleID.locations, ModuleID.sessions, ModuleID.tariffs):
            STORE.bucket(module)[_party_key(kwargs, data.get("id"))] = data
            return data
        if module == ModuleID.cdrs:
            STORE.bucket(module)[_upper(data.get("id"))] = data
            return data
        if module == ModuleID.hub_client_info:
            key = f"{_upper(kwargs.get('country_code'))}/{_upper(kwargs.get('party_id'))}"
            STORE.bucket(module)[key] = data
            return data
        if module == ModuleID.charging_profile:
            # Async result of a charging profile command (response_url).
            bucket = STORE.bucket(module)
            key = f"result-{len(bucket) + 1}"
            bucket[key] = {"data": data, "query_params": dict(kwargs.get("query_params") or {})}
            return data
        key = str(data.get("id") or data.get("uid") or len(STORE.bucket(module)) + 1)
        STORE.bucket(module)[key] = data
        return data

    @classmethod
    async def update(
        cls, module: ModuleID, role: RoleEnum, data: dict, id: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if module == ModuleID.credentials_and_registration:
            return cls._rotate_client(data, kwargs.get("auth_token"))
        if module in (ModuleID.locations, ModuleID.sessions, ModuleID.tariffs):
            STORE.bucket(module)[_party_key(kwargs, id)] = data
            return data
        if module == ModuleID.commands:
            # CommandResult posted to our response_url: /commands/{uid}.
            STORE.bucket(module)[str(id)] = data
            return data
        if module == ModuleID.hub_client_info:
            key = f"{_upper(kwargs.get('country_code'))}/{_upper(kwargs.get('party_id'))}"
            STORE.bucket(module)[key] = data
            return data
        if module == ModuleID.charging_profile:
            STORE.bucket(module)[str(kwargs.get("session_id"))] = data
            return data
        STORE.bucket(module)[str(id)] = data
        return data

    @classmethod
    async def delete(
        cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any
    ) -> None:
        if module == ModuleID.credentials_and_registration:
            client = STORE.clients.pop(str(id), None)
            if client:
                STORE.revoke(client["token_c"], "credentials DELETE")
                log.info("client with token C %s unregistered", client["token_c"])
            return
        if module in (ModuleID.locations, ModuleID.sessions, ModuleID.tariffs):
            STORE.bucket(module).pop(_party_key(kwargs, id), None)
            return
        STORE.bucket(module).pop(_upper(id) if module == ModuleID.cdrs else str(id), None)

    @classmethod
    async def do(
        cls,
        module: ModuleID,
        role: Optional[RoleEnum],
        action: Action,
        *args: Any,
        data: Optional[dict] = None,
        **kwargs: Any,
    ) -> Any:
        if module == ModuleID.tokens and action == Action.authorize_token and data:
            token = STORE.bucket(module).get(_upper(data.get("token_uid")))
            if not token:
                return None
            return {
                "allowed": "ALLOWED" if token.get("valid") else "BLOCKED",
                "token": token,
                "location": data.get("location_reference"),
                "authorization_reference": str(uuid.uuid4()),
            }
        log.warning("unsupported action %s on %s", action, module)
        return None

    # Credentials helpers ---------------------------------------------------

    @staticmethod
    def _register_client(data: Dict[str, Any], token_a: Optional[str]) -> Dict[str, Any]:
        """POST /credentials with a valid token A (the library already fetched
        the client's versions + 2.2.1 details with the client's token).

        ``data`` = {"credentials": <client's Credentials>, "endpoints": <the
        client's whole version-details "data" object>}.
        """
        creds = data["credentials"]
        token_c = new_token()
        # The spec lets token A be used for one registration only; the library
        # does not enforce that, we do (so a second POST with it gets 401).
        if token_a and STORE.token_a.pop(token_a, None) is not None:
            STORE.revoke(token_a, "token A used for registration")
        STORE.add_client(
            token_c,
            origin="credentials POST",
            client_token=creds.get("token"),
            client_versions_url=creds.get("url"),
            client_roles=creds.get("roles", []),
            client_endpoints=data.get("endpoints"),
            token_a_used=token_a,
        )
        log.info("registered client %s, issued token C %s", creds.get("url"), token_c)
        return own_credentials(token_c)

    @staticmethod
    def _rotate_client(data: Dict[str, Any], old_token_c: Optional[str]) -> Dict[str, Any]:
        """PUT /credentials with a valid token C: store the client's new
        token / endpoints and issue a fresh token C (the old one dies)."""
        creds = data["credentials"]
        old = STORE.clients.pop(str(old_token_c), None) or {}
        token_c = new_token()
        record = dict(old)
        record.update(
            token_c=token_c,
            origin=old.get("origin", "credentials PUT"),
            client_token=creds.get("token"),
            client_versions_url=creds.get("url"),
            client_roles=creds.get("roles", []),
            client_endpoints=data.get("endpoints"),
            updated_at=utc_now(),
            seq=next(_SEQUENCE),
            previous_token_c=old_token_c,
        )
        record.setdefault("created_at", utc_now())
        STORE.clients[token_c] = record
        if old_token_c:
            STORE.revoke(old_token_c, "rotated by credentials PUT")
        log.info("rotated credentials: token C %s -> %s", old_token_c, token_c)
        return own_credentials(token_c)


class StoreAuthenticator(Authenticator):
    """Token lists straight from the store.

    get_application() installs the *class* as the FastAPI dependency, so
    FastAPI instantiates it per request: it must be concrete (no abstract
    methods left) and take no constructor arguments.
    """

    @classmethod
    async def get_valid_token_c(cls) -> List[str]:
        return list(STORE.clients.keys())

    @classmethod
    async def get_valid_token_a(cls) -> List[str]:
        return list(STORE.token_a.keys())


# --- Outbound call logging -----------------------------------------------------
# The library's credentials module calls the client's versions/details with a
# private httpx.AsyncClient; wrapping send() is the only way to see those
# calls (URL, Authorization, status) in /_control/state.

_original_send = httpx.AsyncClient.send


async def _logged_send(
    self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
) -> httpx.Response:
    entry: Dict[str, Any] = {
        "at": utc_now(),
        "method": request.method,
        "url": str(request.url),
        "headers": dict(request.headers),
        "authorization": describe_authorization(request.headers.get("authorization")),
    }
    try:
        entry["body"] = _body_for_log(request.content)
    except httpx.RequestNotRead:
        entry["body"] = "<streamed>"
    try:
        response = await _original_send(self, request, **kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded and re-raised
        entry["error"] = repr(exc)
        STORE.append_log(STORE.outbound_log, entry)
        log.warning("outbound %s %s failed: %r", request.method, request.url, exc)
        raise
    entry["status_code"] = response.status_code
    try:
        entry["response_body"] = _body_for_log(response.content)
    except httpx.ResponseNotRead:
        entry["response_body"] = "<streamed>"
    STORE.append_log(STORE.outbound_log, entry)
    log.info("outbound %s %s -> %s", request.method, request.url, response.status_code)
    return response


httpx.AsyncClient.send = _logged_send  # type: ignore[method-assign]


# --- Inbound request logging (pure ASGI, so the body is not consumed) ----------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class RequestLogMiddleware:
    """Records every OCPI request and the final response the peer sent.

    Added last, so it is the outermost layer and sees the status codes
    produced by the library's own exception middleware (403/404/...).
    The entry is stored *before* the last response chunk goes out: a test
    that reads /_control/state right after getting its response must find it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_control"):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request_body = bytearray()
        response_body = bytearray()
        response_meta: Dict[str, Any] = {"status": None, "headers": {}}
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])
            }
            entry = {
                "at": utc_now(),
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": headers,
                "authorization": describe_authorization(headers.get("authorization")),
                "body": _body_for_log(bytes(request_body)),
                "response_status": response_meta["status"],
                "response_headers": response_meta["headers"],
                "response_body": _body_for_log(bytes(response_body)),
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
            STORE.append_log(STORE.request_log, entry)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_meta["status"] = message["status"]
                response_meta["headers"] = {
                    k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            record()  # no-op unless the app failed before finishing a response


# --- Control API -----------------------------------------------------------------

control = APIRouter(prefix="/_control", tags=["test control"])


@control.post("/token_a")
async def control_token_a(payload: Optional[Dict[str, Any]] = Body(default=None)) -> Dict[str, Any]:
    """Issue a registration token (token A). Body optional: {"token": "..."}."""
    token = STORE.issue_token_a((payload or {}).get("token"))
    return {"token": token, "versions_url": VERSIONS_URL}


@control.post("/accept_token")
async def control_accept_token(payload: Dict[str, Any] = Body(...)) -> Dict[str, Any]:
    """Make ``token`` a valid token C (credentials we 'gave' to a platform).

    Used when the *other* platform is the handshake receiver and the test
    drives the sender side itself. Optional ``client_token`` +
    ``client_versions_url``: what the other platform answered; the peer then
    fetches its versions/details with that token (as a real sender would) so
    that /_control/call can address its modules.
    """
    token = payload.get("token")
    if not token or not isinstance(token, str):
        raise HTTPException(400, 'body must be {"token": "..."}')
    existing = STORE.clients.get(token, {})
    record = STORE.add_client(
        token,
        origin="accept_token",
        client_token=payload.get("client_token", existing.get("client_token")),
        client_versions_url=payload.get("client_versions_url", existing.get("client_versions_url")),
        client_endpoints=existing.get("client_endpoints"),
    )
    log.info("accepted token C %s", token)
    result: Dict[str, Any] = {
        "token": token,
        "versions_url": VERSIONS_URL,
        "credentials": own_credentials(token),
    }
    if record["client_token"] and record["client_versions_url"]:
        details, steps = await _fetch_version_details(
            record["client_versions_url"], record["client_token"]
        )
        if details is not None:
            record["client_endpoints"] = details
        result["fetch_steps"] = steps
    return result


@control.get("/state")
async def control_state() -> Dict[str, Any]:
    return STORE.dump()


@control.post("/reset")
async def control_reset() -> Dict[str, Any]:
    STORE.reset()
    log.info("store reset")
    return {"ok": True}


@control.post("/tokens")
async def control_seed_tokens(payload: Any = Body(...)) -> Any:
    """Seed the eMSP's own Tokens (what a CPO pulls via GET /tokens/ and
    checks via POST /tokens/{uid}/authorize). Body: a Token or a list."""
    items = payload if isinstance(payload, list) else [payload]
    stored = []
    for item in items:
        try:
            token = Token(**item).dict()
        except (ValidationError, TypeError) as exc:
            return JSONResponse({"error": str(exc), "item": item}, status_code=400)
        STORE.bucket(ModuleID.tokens)[_upper(token["uid"])] = token
        stored.append(token)
    return jsonable_encoder(stored)


def _pick_client(selector: Optional[str]) -> Optional[Dict[str, Any]]:
    if selector:
        return STORE.clients.get(selector)
    return STORE.latest_client_with_token()


def _endpoint_url(client: Dict[str, Any], module: str, role: Optional[str]) -> Optional[str]:
    details = client.get("client_endpoints") or {}
    endpoints = details.get("endpoints", []) if isinstance(details, dict) else details
    matches = [e for e in endpoints if e.get("identifier") == module]
    if role:
        matches = [e for e in matches if str(e.get("role", "")).upper() == role.upper()] or matches
    return matches[0]["url"] if matches else None


def _response_summary(response: httpx.Response) -> Dict[str, Any]:
    return {
        "status_code": response.status_code,
        "headers": dict(response.headers),
        "body": _body_for_log(response.content),
    }


async def _fetch_version_details(
    versions_url: str, token: str
) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]]]:
    """GET versions, pick 2.2.1, GET its details; returns (details data, steps)."""
    steps: List[Dict[str, Any]] = []
    auth = {"Authorization": f"Token {b64(token)}"}
    async with httpx.AsyncClient(timeout=30) as http:
        try:
            versions = await http.get(versions_url, headers=auth)
            steps.append(
                {"step": "GET versions", "url": versions_url, **_response_summary(versions)}
            )
            version_url = next(
                v["url"]
                for v in versions.json()["data"]
                if v.get("version") == VersionNumber.v_2_2_1.value
            )
            details = await http.get(version_url, headers=auth)
            steps.append(
                {"step": "GET version details", "url": version_url, **_response_summary(details)}
            )
            data = details.json()["data"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, StopIteration) as exc:
            steps.append({"step": "error", "error": repr(exc)})
            return None, steps
    return (data if isinstance(data, dict) else None), steps


@control.post("/call")
async def control_call(payload: Dict[str, Any] = Body(...)) -> Dict[str, Any]:
    """Make the peer call the other platform (harness feature, not library code).

    Body: {"method": "GET", "module": "locations", "path": "NL/TNM/LOC1",
    "role": "SENDER"?, "url": absolute URL instead of module/path,
    "json": body?, "params": {...}?, "token": override?, "raw_token": false,
    "client": <token C selecting the client record>?, "headers": {...}?}.
    The token defaults to the one the selected (latest) client gave us.
    """
    client = _pick_client(payload.get("client"))
    url = payload.get("url")
    if not url:
        if not client or not payload.get("module"):
            raise HTTPException(
                400, "need 'url', or 'module' and a registered client with endpoints"
            )
        base = _endpoint_url(client, payload["module"], payload.get("role"))
        if not base:
            raise HTTPException(400, f"client has no endpoint for module {payload['module']!r}")
        path = str(payload.get("path") or "").lstrip("/")
        url = f"{base.rstrip('/')}/{path}" if path else base
    token = payload.get("token") or (client or {}).get("client_token")
    headers = dict(payload.get("headers") or {})
    if token:
        headers["Authorization"] = f"Token {token if payload.get('raw_token') else b64(token)}"
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.request(
            payload.get("method", "GET").upper(),
            url,
            json=payload.get("json"),
            params=payload.get("params"),
            headers=headers,
        )
    return {"url": url, **_response_summary(response)}


@control.post("/register")
async def control_register(payload: Dict[str, Any] = Body(...)) -> Dict[str, Any]:
    """Run the credentials handshake with this peer as the *sender*
    (harness code, the library only implements the receiver side).

    Body: {"token_a": "<token A of the other platform>", "versions_url": "..."}.
    Steps: GET versions and 2.2.1 details with token A, find its credentials
    endpoint, POST our credentials (a new token C that we accept from now on),
    store the token + URL it answers with.
    """
    token_a = payload.get("token_a")
    versions_url = payload.get("versions_url")
    if not token_a or not versions_url:
        raise HTTPException(400, 'body must be {"token_a": ..., "versions_url": ...}')
    steps: List[Dict[str, Any]] = []
    auth = {"Authorization": f"Token {b64(token_a)}"}
    async with httpx.AsyncClient(timeout=30) as http:
        versions = await http.get(versions_url, headers=auth)
        steps.append({"step": "GET versions", "url": versions_url, **_response_summary(versions)})
        try:
            version_url = next(
                v["url"]
                for v in versions.json()["data"]
                if v.get("version") == VersionNumber.v_2_2_1.value
            )
        except (ValueError, KeyError, TypeError, StopIteration):
            return {"ok": False, "error": "no 2.2.1 in versions", "steps": steps}
        details = await http.get(version_url, headers=auth)
        steps.append(
            {"step": "GET version details", "url": version_url, **_response_summary(details)}
        )
        try:
            details_data = details.json()["data"]
            credentials_url = next(
                e["url"] for e in details_data["endpoints"] if e.get("identifier") == "credentials"
            )
        except (ValueError, KeyError, TypeError, StopIteration):
            return {"ok": False, "error": "no credentials endpoint", "steps": steps}
        token_c = new_token()
        # Must be valid *before* the POST: the receiver calls our versions
        # endpoint with it while handling the request.
        STORE.add_client(
            token_c,
            origin="register",
            client_versions_url=versions_url,
            client_endpoints=details_data,
            token_a_used=token_a,
        )
        posted = await http.post(credentials_url, json=own_credentials(token_c), headers=auth)
        steps.append(
            {"step": "POST credentials", "url": credentials_url, **_response_summary(posted)}
        )
        try:
            body = posted.json()
            their = body["data"]
            ok = (
                posted.status_code == 200
                and body.get("status_code") == 1000
                and bool(their.get("token"))
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            STORE.clients.pop(token_c, None)
            return {"ok": False, "error": "credentials POST failed", "steps": steps}
        STORE.clients[token_c].update(
            client_token=their["token"],
            client_versions_url=their.get("url", versions_url),
            client_roles=their.get("roles", []),
            updated_at=utc_now(),
            seq=next(_SEQUENCE),
        )
    log.info(
        "registered with %s: our token C %s, their token %s", versions_url, token_c, their["token"]
    )
    return {"ok": True, "token_c": token_c, "client": STORE.clients[token_c], "steps": steps}


# --- Application -----------------------------------------------------------------


def build_app() -> FastAPI:
    app = get_application(
        version_numbers=[VersionNumber.v_2_2_1],
        roles=[RoleEnum.emsp],
        crud=InMemoryCrud,
        modules=_selected_modules(),
        authenticator=StoreAuthenticator,
        adapter=BaseAdapter,
    )
    app.include_router(control)
    app.add_middleware(RequestLogMiddleware)
    return app


def main() -> None:
    app = build_app()
    log.info(
        "extrawest-ocpi eMSP peer %s/%s on %s, versions URL %s",
        settings.COUNTRY_CODE,
        settings.PARTY_ID,
        BASE_URL,
        VERSIONS_URL,
    )
    # Copy so that uvicorn's config does not share state between runs.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    uvicorn.run(app, host=ARGS.host, port=ARGS.port, log_config=log_config)


if __name__ == "__main__":
    main()
