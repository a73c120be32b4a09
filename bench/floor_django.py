"""A second floor for the full pull: the same pre-rendered pages from a bare Django view.

Like bench/floor_asgi.py (same BENCH_FLOOR_PAGES file, same headers), but through Django's
ASGI handler with no middleware and no database: what Django itself costs to hand out the
bytes, so that ours / this floor isolates what our request handling adds.
"""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",  # noqa: S106 (a benchmark server with no secrets)
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from bench.floor_asgi import PAGES  # noqa: E402


def page(request: HttpRequest) -> HttpResponse:
    body, headers = PAGES[int(request.GET.get("offset", "0"))]
    response = HttpResponse(body, content_type="application/json")
    for name, value in headers:
        if name not in (b"content-type", b"content-length"):
            response[name.decode()] = value.decode()
    return response


urlpatterns = [path("pages", page)]

application = get_asgi_application()
