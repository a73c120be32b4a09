"""The web process's ASGI application: Django's handler, each request in one pooled thread.

Our views (DRF, the admin) and our middleware are synchronous. Django's ASGIHandler gives
every request a thread of its own (a new one each time: asgiref's ThreadSensitiveContext),
runs the middleware chain in async mode, where each synchronous piece costs a hop between
the event loop and that thread (a `MiddlewareMixin`'s process_request and process_response
one each, a sync-only middleware two, the view one more), and sends request_started and
closes the response in hops of their own. On a GET of one location that was two thirds of
the CPU the request cost.

This handler does what a threaded WSGI server does, inside uvicorn: it loads the chain in
sync mode and runs all of a request's synchronous work (request_started, the middleware and
the view, and, once the response is complete, its close(), which sends request_finished)
in one call to a pool of long-lived threads (WEB_THREADS). The event loop still reads the
request and writes the response, so slow clients hold no thread. A request's database
connection is that thread's; request_finished gives it back to the pool (or keeps it, up to
CONN_MAX_AGE, without one) before the first byte is written.

A streaming response (a static file) is closed after it is sent, where Django closes it;
its iterator, if synchronous, runs in asgiref's thread, as under Django's own handler.
"""

import asyncio
import gc
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

Scope = dict[str, Any]


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)  # not ASGIHandler's: it loads the chain in async mode
        self.load_middleware(is_async=False)

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(settings.WEB_THREADS, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self.executor, self.respond, scope, body_file)
            if response.streaming:
                try:
                    await self.send_response(response, send)
                finally:
                    await sync_to_async(response.close)()
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def respond(self, scope: Scope, body_file: Any) -> HttpResponseBase:
        """All of a request's synchronous work, in one thread (ASGIHandler.handle's steps)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
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


def get_asgi_application() -> PooledThreadASGIHandler:
    """django.core.asgi.get_asgi_application() with our handler."""
    django.setup(set_prefix=False)
    handler = PooledThreadASGIHandler()
    # What start-up made (modules, settings, URL patterns, the middleware chain) lives as
    # long as the process: the garbage collector need never walk it again. Its full
    # collections otherwise stall a request for 50 ms or more every few hundred pages.
    gc.collect()
    gc.freeze()
    return handler
