"""The web process's ASGI application: Django's handler, each request in one thread hop.

Our views (DRF, the admin) and our middleware are synchronous. Django's ASGIHandler runs the
middleware chain in async mode, and then each synchronous piece costs a hop between the
event loop and a worker thread: a `MiddlewareMixin`'s process_request and process_response
one each, a sync-only middleware two, the view one more; about ten per OCPI request, a
third of the CPU a GET of one location costs. This handler loads the chain in sync mode, as
WSGI does, and runs it, view included, in a single hop. The event loop still reads the
request and writes the response, so slow clients cost no thread.
"""

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)  # not ASGIHandler's: it loads the chain in async mode
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the request's own thread (ASGIHandler gives every request a
        # ThreadSensitiveContext), where Django's other hops run too, request_finished
        # included, so the database connection used here is the one given back.
        response: HttpResponseBase = await sync_to_async(self.get_response, thread_sensitive=True)(
            request
        )
        return response


def get_asgi_application() -> SyncChainASGIHandler:
    """django.core.asgi.get_asgi_application() with our handler."""
    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
