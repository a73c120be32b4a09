"""The baseline of GET one location: a bare Django JSON view, served by uvicorn like ours.

One URL, no middleware, no database: it answers with JsonResponse the location envelope the
platform answered in the same run (read from BENCH_BARE_BODY), so the difference between
the two servers is what our request handling costs on top of Django itself.
"""

import json
import os

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
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

with open(os.environ["BENCH_BARE_BODY"], encoding="utf-8") as body_file:
    BODY = json.load(body_file)


def location(request: HttpRequest, location_id: str) -> JsonResponse:
    return JsonResponse(BODY)


urlpatterns = [path("ocpi/cpo/2.2.1/locations/<str:location_id>", location)]

application = get_asgi_application()
