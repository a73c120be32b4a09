"""URLs of the versions module and the path helper every module's urls.py uses."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import URLPattern, re_path

from ocpi.enums import SUPPORTED_VERSION

VERSIONS_PATH = "/ocpi/versions"
VERSION_DETAILS_PATH = f"/ocpi/{SUPPORTED_VERSION.value}"


def versions_url() -> str:
    return settings.OCPI_BASE_URL + VERSIONS_PATH


def version_details_url() -> str:
    return settings.OCPI_BASE_URL + VERSION_DETAILS_PATH


def ocpi_path(route: str, view: Callable[..., Any], name: str) -> URLPattern:
    """Route `route` (a regex without anchors) with and without a trailing slash.

    Partners differ on trailing slashes and a redirect would lose a PUT or POST body, so
    both forms are answered directly, never redirected.
    """
    return re_path(rf"^{route.strip('/')}/?$", view, name=name)
