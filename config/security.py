"""Security settings that are the same in every mode: headers, HSTS details, the proxy
header, admin login throttling and the Content Security Policy.

config.settings imports them all (the split-settings way); what production mode switches
(HSTS on, the redirect to https, Secure cookies) stays there, beside PRODUCTION.
"""

import os
from datetime import timedelta

from config.environment import env_bool

__all__ = [
    "SESSION_COOKIE_HTTPONLY",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SILENCED_SYSTEM_CHECKS",
    "SECURE_PROXY_SSL_HEADER",
    "AUTHENTICATION_BACKENDS",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "AXES_LOCKOUT_PARAMETERS",
    "AXES_RESET_ON_SUCCESS",
    "AXES_VERBOSE",
    "AXES_SENSITIVE_PARAMETERS",
    "CONTENT_SECURITY_POLICY",
]


def _proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """The (META key, value) of a named header that says a request came over https."""
    name = name.strip()
    return ("HTTP_" + name.upper().replace("-", "_"), "https") if name else None


SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The load balancer's health check speaks plain http to the container (Dockerfile HEALTHCHECK).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading is a commitment made for a whole registrable domain (hstspreload.org), which an
# OCPI platform on its own host name is rarely in a position to make: off unless asked for,
# and then no reason to warn about it (check --deploy's W021).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Whether a request came over https is what the server saw (uvicorn trusts X-Forwarded-Proto
# only from FORWARDED_ALLOW_IPS), unless a header is named here, e.g. X-Forwarded-Proto: then
# Django believes its "https" from anyone, so name it only when every request passes a proxy
# that sets that header itself.
# Unset: None, Django's default.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", ""))

# Admin login throttling (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords for
# one username from one address, that pair is refused (HTTP 429) for the cool-off, even with
# the right password. `manage.py axes_reset` lifts every lockout at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(seconds=int(os.environ.get("ADMIN_LOGIN_COOLOFF_SECONDS", "900")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No banner on every start of every process. Failures and lockouts are logged with the
# address; the username is masked (people type passwords into it), the admin's "Access
# attempts" shows it.
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username"]

# Content Security Policy (django-csp) for the pages a browser shows: the admin and the API
# docs (Swagger UI from drf-spectacular-sidecar; its start script a file of its own and its
# inline <style> allowed on that page only: config/urls.py). Only our own scripts and styles
# load. OCPI answers are JSON for machines: no policy needed there, and leaving it off spares
# the busiest path the work.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/ocpi/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
