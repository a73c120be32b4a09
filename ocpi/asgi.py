"""The web process's ASGI application: Django's handler, each request in one pooled thread.

Our views (DRF, the admin) and our middleware are synchronous. Django's ASGIHandler gives
every request a thread of its own (a new one each time: asgiref's ThreadSensitiveContext),
runs the middleware chain in async mode, where each synchronous piece costs a hop between
the event loop and that thread (a `MiddlewareMixin`'s process_request and process_response
one each, a sync-only middleware two, the view one more), and sends request_started and
closes the response in hops of their own: on a GET of one location, most of the CPU the
request cost.

This handler does what a threaded WSGI server does, inside uvicorn: it loads the chain in
sync mode and runs all of a request's synchronous work (request_started, the middleware and
the view, and, once the response is complete, its close(), which sends request_finished)
in one call to a pool of long-lived threads (WEB_THREADS). The event loop still reads the
request and writes the response, so slow clients hold no thread. A request's database
connection is that thread's; request_finished gives it back to the pool (or keeps it, up to
CONN_MAX_AGE, without one) before the first byte is written.

A streaming response (a static file) is closed after it is sent, where Django closes it;
its iterator, if synchronous, runs in asgiref's thread, as under Django's own handler.

Input is bounded before it is read (ocpi.limits): headers over OCPI_MAX_HEADER_BYTES are
431, a body over OCPI_MAX_BODY_BYTES is 413 on its Content-Length before a byte is read, or,
streamed, as soon as it passes the limit; and a request under /ocpi/ without an
Authorization header is answered (401, by DRF) without reading its body at all. Such an
answer closes the connection: the rest of the body is never read.

Websocket connections (charge points, `/ocpp/<identity>`) never reach Django: each goes to
the ASGI application mounted on the longest path prefix that starts its path (`websockets`,
given by config/asgi.py), and one under no prefix is refused at the handshake, before it is
accepted: HTTP 404 where the server supports the websocket denial response (uvicorn does),
else a `websocket.close` before `websocket.accept`, which the server answers with HTTP 403
(ASGI spec, WebSocket: Connect, Close).

This handler replaces Django internals (ASGIHandler.handle and the steps it calls):
bench/RESULTS.md, "Overrides kept", says why and what an upgrade can break.
"""

import asyncio
import gc
import io
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import HttpResponseBase
from django.urls import set_script_prefix

from ocpi.limits import REFUSAL_ATTRIBUTE, Refusal, body_too_large, headers_too_large
from ocpi.middleware import is_ocpi_path

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NOT_ROUTED = b"No websocket endpoint at this path"


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self, *, websockets: Mapping[str, ASGIApp] | None = None) -> None:
        """`websockets`: path prefix (e.g. "/ocpp/") → the ASGI application of the websocket
        connections whose path starts with it."""
        BaseHandler.__init__(self)  # not ASGIHandler's: it loads the chain in async mode
        self.load_middleware(is_async=False)
        self.websockets = WebSocketRouter(websockets or {})
        self.max_body = settings.OCPI_MAX_BODY_BYTES
        self.max_headers = settings.OCPI_MAX_HEADER_BYTES

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(settings.WEB_THREADS, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self.websockets(scope, receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        refusal, read = self.check_head(scope)
        try:
            body_file = await self.read_body(receive) if read else empty_body()
        except RequestAborted:
            return
        except _BodyTooLarge:
            refusal, read, body_file = body_too_large(self.max_body), False, empty_body()
        try:
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(
                self.executor, self.respond, scope, body_file, refusal
            )
            if not read:
                # The client may still be sending the body we did not read.
                response["Connection"] = "close"
            if response.streaming:
                try:
                    await self.send_response(response, send)
                finally:
                    await sync_to_async(response.close)()
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def check_head(self, scope: Scope) -> tuple[Refusal | None, bool]:
        """A refusal the request's head alone decides, and whether to read its body.

        One pass over the headers, as the server parsed them: their size, the body they
        announce, whether the caller sent a token.
        """
        size = 0
        announced = 0
        authorized = False
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == b"content-length":
                announced = int(value) if value.isdigit() else 0  # servers refuse worse ones
            elif name == b"transfer-encoding":
                announced = 1  # chunked: its length is known once read
            elif name == b"authorization":
                authorized = True
        if size > self.max_headers:
            return headers_too_large(self.max_headers), False
        if announced > self.max_body:
            return body_too_large(self.max_body), False
        if announced and not authorized and is_ocpi_path(scope["path"]):
            return None, False  # DRF answers 401 before it would parse the body
        return None, True

    async def read_body(self, receive: Any) -> Any:
        """ASGIHandler.read_body(), refusing a body that grows past OCPI_MAX_BODY_BYTES."""
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by handle())
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b"
        )
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                body_file.close()
                raise _BodyTooLarge
            body_file.write(chunk)
            if not message.get("more_body", False):
                break
        body_file.seek(0)
        return body_file

    def respond(self, scope: Scope, body_file: Any, refusal: Refusal | None) -> HttpResponseBase:
        """All of a request's synchronous work, in one thread (ASGIHandler.handle's steps)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            if refusal is not None:
                setattr(request, REFUSAL_ATTRIBUTE, refusal)  # answered by OcpiMiddleware
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        assert response is not None
        if response.streaming:
            # Closed once sent; meanwhile this thread's connection goes back as
            # request_finished would give it back.
            close_old_connections()
        else:
            response.close()  # request_finished: the connection goes back to the pool
        return response


class WebSocketRouter:
    """Websocket connections to the application mounted on their path's longest prefix;
    the others refused at the handshake."""

    def __init__(self, routes: Mapping[str, ASGIApp]) -> None:
        # Longest first: "/ocpp/2.0.1/" wins over "/ocpp/".
        self.routes = sorted(routes.items(), key=lambda route: len(route[0]), reverse=True)

    def route(self, path: str) -> ASGIApp | None:
        return next((app for prefix, app in self.routes if path.startswith(prefix)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.route(scope["path"])
        if app is not None:
            await app(scope, receive, send)
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return  # the client left before its handshake was answered
        await refuse_handshake(scope, send)


async def refuse_handshake(scope: Scope, send: Send) -> None:
    """Answer a websocket handshake with 404, or close it unaccepted (the server's 403)."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"text/plain"), (b"connection", b"close")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": NOT_ROUTED})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": NOT_ROUTED.decode()})


class _BodyTooLarge(Exception):
    """The body being read passed OCPI_MAX_BODY_BYTES."""


def empty_body() -> Any:
    """The body of a request whose body is not read: none."""
    return io.BytesIO()


def get_asgi_application(
    *, websockets: Mapping[str, ASGIApp] | None = None
) -> PooledThreadASGIHandler:
    """django.core.asgi.get_asgi_application() with our handler; `websockets` as for it."""
    django.setup(set_prefix=False)
    handler = PooledThreadASGIHandler(websockets=websockets)
    # What start-up made (modules, settings, URL patterns, the middleware chain) lives as
    # long as the process: the garbage collector need never walk it again. Its full
    # collections otherwise stall a request every few hundred pages.
    gc.collect()
    gc.freeze()
    return handler
