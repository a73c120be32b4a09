"""Settings, read from the environment (see .env.example).

With no environment at all the platform runs on the embedded default: SQLite and a Celery
broker on the file system, both under var/. DATABASE_URL and REDIS_URL switch to PostgreSQL
and Redis; the code paths stay the same.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config.environment import env_bool, env_list
from config.runenv import var_dir
from config.schedule import beat_schedule
from config.security import *  # noqa: F403  (the settings that are the same in every mode)

# Lets ModelAdmin[Model] and QuerySet[Model] be written in annotations that run.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = var_dir()


def make_private_dir(path: Path) -> None:
    """Create `path` readable by its owner only: it holds the SQLite database, the generated
    secret key and the operator's password, which other users of the machine must not read.

    A folder made before this rule (a checkout's var/) is tightened too, if it is ours.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)


make_private_dir(VAR_DIR)


DEBUG = env_bool("DJANGO_DEBUG", False)


def production_mode() -> bool:
    """Return whether this is a production deployment: OCPI_PRODUCTION when set, otherwise
    debug off with an https OCPI_BASE_URL (partners reach us over TLS).

    `make run` and the tests use http on loopback, so they stay in development mode.
    """
    if os.environ.get("OCPI_PRODUCTION", "").strip():
        return env_bool("OCPI_PRODUCTION", False)
    return not DEBUG and os.environ.get("OCPI_BASE_URL", "").startswith("https://")


# Production mode: HSTS, redirect to https, Secure cookies (--- Security, below), and no
# fallback for what must outlive a container: a key generated into var/ and SQLite there
# would be lost on restart, and with them every stored partner token.
PRODUCTION = production_mode()
PRODUCTION_REQUIRES = ("DJANGO_SECRET_KEY", "OCPI_TOKEN_KEY", "DATABASE_URL")
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("Production mode (OCPI_PRODUCTION) needs DJANGO_DEBUG off.")
    if missing := [name for name in PRODUCTION_REQUIRES if not os.environ.get(name)]:
        raise ImproperlyConfigured(
            f"Production mode (OCPI_PRODUCTION, or an https OCPI_BASE_URL) needs "
            f"{', '.join(missing)} set explicitly: without them keys would be generated into "
            f"{VAR_DIR} and data kept in SQLite there, lost when the container restarts. "
            "Set them, or OCPI_PRODUCTION=0 for a development machine."
        )


def _secret_key() -> str:
    """Return DJANGO_SECRET_KEY, or a key made once and kept in var/ for a single machine.

    Several machines behind a load balancer must share one key: set DJANGO_SECRET_KEY there.
    """
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        # Created with its final mode: never readable by others, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# Threads of a web process that run requests (ocpi.asgi): more requests wait in line. Each
# holds a database connection while it runs, so more than DATABASE_POOL_MAX_SIZE would
# only wait for one.
WEB_THREADS = int(os.environ.get("WEB_THREADS", "10"))

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # django.contrib.admin, on the site whose first page is the operator's overview.
    "dashboard.apps.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by us: partners' networks may block CDNs
    "axes",  # admin login throttling (config.security)
    "csp",
    "auditlog",
    "audit",  # registers the audited models with auditlog (audit.tracking)
    "ocpi",
    "credentials",
    "push",
    "locations",
    "tariffs",
    "tokens",
    "sessions",
    "cdrs",
    "chargers",
    "chargingprofiles",
    "commands",
    "monitoring",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "monitoring.middleware.OcpiRequestMetricsMiddleware",  # outside OcpiMiddleware: final status
    "ocpi.middleware.OcpiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AdminAuditMiddleware",  # after auth: the admin's user is the actor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ocpi.middleware.BrowserPagesCSPMiddleware",  # django-csp's, not under /ocpi/
    # Last, as django-axes asks: it turns a locked-out login into its own answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],  # the project's own pages (config.landing)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside the writer,
    # and IMMEDIATE transactions wait for the write lock instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a Celery worker started by an integration test sees it.
    # One per test run (pid), so two runs in one checkout don't share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_POOL", True
):
    # Under ASGI every request runs in a thread of its own, so a connection cannot outlive
    # its request (CONN_MAX_AGE keeps it per thread): without a pool each request connects
    # anew, a new PostgreSQL backend process each time. psycopg's pool keeps connections per
    # process; Django returns them at the end of each request. It is made on first use, so
    # a process that forks (Celery prefork) never hands one to its children; Celery's Django
    # fixup closes it around each task in a prefork child, which so connects once per task,
    # as it does without a pool.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool replaces persistent connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
        # A request that finds every connection busy waits this long, then fails (HTTP 500).
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# OCPI speaks UTC only; local times (tariff restrictions, opening hours) use each
# Location's own time_zone, never the server's.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date-time format in the admin, labelled with its zone (config/formats, ocpi.display).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing directory before collectstatic
# Hashed, compressed names once `collectstatic` has written its manifest (make run, the
# Docker image); plain names before that (tests, manage.py in a fresh checkout).
_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED

# The admin's map of locations and the location form's picker (locations.map): a Leaflet tile
# URL template ({s} subdomains, {z}/{x}/{y}) and the attribution its tile server requires.
# Only the map pages may load images from its host (their CSP). Without tiles the markers
# still show, on a blank background.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get(
    "MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)

REDIS_URL = os.environ.get("REDIS_URL", "")

CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Django's default, 300, would drop a third of the cached locations' JSON
            # (ocpi.jsoncache) whenever there are more than 300 of them.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport carries tasks between processes through a folder, so the
    # embedded default needs no broker server.
    for sub in ("out", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # Broadcast (pidbox) messages; kombu's default is ./control in the working directory.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection, and in a prefork child the whole
# pool, before and after each task, unless told to do so only every 2 × this many; between
# tasks connections go back to the pool instead (config/celery.py).
CELERY_DB_REUSE_MAX = 500
CELERY_BEAT_SCHEDULE = beat_schedule()

# --- Django REST framework and the OpenAPI description -----------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["ocpi.json.OcpiJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ocpi.json.OcpiJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["credentials.authentication.OcpiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["ocpi.permissions.IsRegisteredPartner"],
    "EXCEPTION_HANDLER": "ocpi.exceptions.ocpi_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS would answer DRF's metadata instead of the envelope: 405 like any other method.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OCPI 2.2.1 CPO platform",
    "DESCRIPTION": (
        "OCPI 2.2.1 endpoints of this platform. Every response is the OCPI envelope "
        "(data, status_code, status_message, timestamp). Authenticate with "
        "`Authorization: Token <base64(credentials token)>`."
    ),
    "VERSION": "2.2.1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["ocpi.openapi.strip_optional_slash"],
}

# --- OCPI ----------------------------------------------------------------------------------
OCPI_BASE_URL = os.environ.get("OCPI_BASE_URL", f"http://{HOST}:{PORT}").rstrip("/")
OCPI_COUNTRY_CODE = os.environ.get("OCPI_COUNTRY_CODE", "NL")
OCPI_PARTY_ID = os.environ.get("OCPI_PARTY_ID", "TNM")
OCPI_BUSINESS_NAME = os.environ.get("OCPI_BUSINESS_NAME", "The New Motion Demo CPO")
# The role of the default local party: CPO normally; EMSP for an eMSP-side instance.
OCPI_ROLE = os.environ.get("OCPI_ROLE", "CPO")
# ISO 4217 currency of sessions at connectors without a tariff (a tariff brings its own).
OCPI_CURRENCY = os.environ.get("OCPI_CURRENCY", "EUR")
# Partner URLs on loopback or private networks are refused unless this is on (tests and
# `make run` turn it on; a production platform talks to partners on the internet).
OCPI_ALLOW_PRIVATE_URLS = env_bool("OCPI_ALLOW_PRIVATE_URLS", False)
# Key for encrypting credentials tokens at rest (any string; derived with HKDF). Falls back to
# SECRET_KEY: set it separately so rotating SECRET_KEY keeps stored tokens readable.
OCPI_TOKEN_KEY = os.environ.get("OCPI_TOKEN_KEY", "") or SECRET_KEY
OCPI_PAGE_LIMIT = int(os.environ.get("OCPI_PAGE_LIMIT", "100"))
# Days a registration invitation (token A) can be used: long enough to reach a partner's
# engineers and have them configure their side, short enough that a token A lying forgotten
# in a mailbox stops opening our credentials module.
OCPI_INVITATION_DAYS = int(os.environ.get("OCPI_INVITATION_DAYS", "14"))
# Rendered objects' JSON kept in each web process's memory, in front of the shared cache
# (ocpi.jsoncache), counted in characters (bytes, for ASCII).
OCPI_JSON_LOCAL_BYTES = int(os.environ.get("OCPI_JSON_LOCAL_BYTES", str(16 * 2**20)))
OCPI_HTTP_CONNECT_TIMEOUT = float(os.environ.get("OCPI_HTTP_CONNECT_TIMEOUT", "5"))
OCPI_HTTP_READ_TIMEOUT = float(os.environ.get("OCPI_HTTP_READ_TIMEOUT", "30"))

# --- OCPP charge points (chargers) -----------------------------------------------------------
# The gateway (`python manage.py ocpp_gateway`) listens on OCPP_HOST:OCPP_PORT; charge points
# connect to OCPP_BASE_URL/ocpp/<identity> (what charger_add prints): set it to the public
# ws:// or wss:// address when a proxy or another port stands in front of the gateway.
OCPP_HOST = os.environ.get("OCPP_HOST", HOST)
OCPP_PORT = int(os.environ.get("OCPP_PORT", str(PORT + 1000)))
OCPP_BASE_URL = os.environ.get("OCPP_BASE_URL", f"ws://{HOST}:{OCPP_PORT}").rstrip("/")
# A charge point's timestamp more than this far ahead of our clock is impossible (chargers.clock).
OCPP_CLOCK_TOLERANCE_SECONDS = int(os.environ.get("OCPP_CLOCK_TOLERANCE_SECONDS", "300"))
# The wait before its next BootNotification answered to a charge point not (yet) accepted
# (registration Pending or Rejected): the BootNotification `interval`.
OCPP_BOOT_RETRY_SECONDS = int(os.environ.get("OCPP_BOOT_RETRY_SECONDS", "60"))
# A charge point disconnected longer than this is offline: its EVSEs UNKNOWN until it is back
# (chargers.presence). 0: at once.
OCPP_OFFLINE_GRACE_SECONDS = int(os.environ.get("OCPP_OFFLINE_GRACE_SECONDS", "300"))
# The gateway's name in ChargePoint.gateway (which process holds a charge point's websocket);
# empty: hostname:pid. Give each gateway a fixed one (--id) to have a restarted gateway clear
# the rows its previous life left.
OCPP_GATEWAY_ID = os.environ.get("OCPP_GATEWAY_ID", "")
# Threads that run the message handlers (they use the database: at most one connection each).
OCPP_GATEWAY_THREADS = int(os.environ.get("OCPP_GATEWAY_THREADS", "8"))
# Threads that admit charge points at the handshake (their row read, their password checked),
# apart from the handlers' so that a handshake never waits behind CALLs: in a reconnect storm
# those queue for longer than a handshake may take (OCPP_OPEN_TIMEOUT_SECONDS), and a
# handshake cut off costs the charge point its whole connection. One database connection each.
OCPP_ADMISSION_THREADS = int(os.environ.get("OCPP_ADMISSION_THREADS", "2"))
# How long a charge point's websocket handshake may take at the gateway, its admission included
# (websockets' default: 10 s); one that takes longer is cut off. In a reconnect storm the
# admissions queue: cut off, a charge point loses its connection and retries after its own
# back-off, adding to the storm. Still bounded: a client that never completes is let go.
OCPP_OPEN_TIMEOUT_SECONDS = float(os.environ.get("OCPP_OPEN_TIMEOUT_SECONDS", "60"))
# Charge points arriving at once (from the handshake until their boot and first statuses are
# answered); more are refused with HTTP 503 and a Retry-After that spreads their return over
# the time the gateway needs for them (chargers.gateway.arrivals). Admitted all at once, a
# reconnect storm's arrivals slow down together and time out together. 0: no limit.
OCPP_ARRIVALS_AT_ONCE = int(os.environ.get("OCPP_ARRIVALS_AT_ONCE", "200"))
# Connections the kernel queues for the gateway to accept (Linux caps it at
# net.core.somaxconn). Past it a charge point's SYN is dropped and retried after 1, 3, 7, 15 s
# …: asyncio's default, 100, overflowed in a reconnect storm of a few hundred a second.
OCPP_LISTEN_BACKLOG = int(os.environ.get("OCPP_LISTEN_BACKLOG", "4096"))
# How often a gateway looks for its charge points taken over by a newer connection at another
# gateway (and closes its own), and for idle connections, in seconds.
OCPP_GATEWAY_POLL_SECONDS = float(os.environ.get("OCPP_GATEWAY_POLL_SECONDS", "5"))
# While StatusNotifications keep coming (one within this many seconds of the one before), a
# gateway lets each batch of them gather for this long before recording it in one transaction
# (chargers.gateway.statuses); one arriving after a quiet spell is recorded at once. 0: no wait.
OCPP_STATUS_BATCH_SECONDS = float(os.environ.get("OCPP_STATUS_BATCH_SECONDS", "0.25"))
# An identity not provisioned (charger_add) is refused (HTTP 404); with this on it is created
# with registration status Pending, and admitted without a password until it has one.
OCPP_ADMIT_UNKNOWN = env_bool("OCPP_ADMIT_UNKNOWN", False)
# PBKDF2 iterations of charge point passwords (chargers.connections.set_password): they are
# random machine secrets, checked at every (re)connection, so few iterations suffice.
OCPP_PASSWORD_ITERATIONS = int(os.environ.get("OCPP_PASSWORD_ITERATIONS", "1000"))
# TLS terminated by the gateway (wss://): its certificate chain and key (PEM files); with
# OCPP_TLS_CLIENT_CA, client certificates signed by that CA are verified (security profile 3).
OCPP_TLS_CERT = os.environ.get("OCPP_TLS_CERT", "")
OCPP_TLS_KEY = os.environ.get("OCPP_TLS_KEY", "")
OCPP_TLS_CLIENT_CA = os.environ.get("OCPP_TLS_CLIENT_CA", "")
# The subject attribute of a client certificate that must equal the identity: CN, O, OU, UID,
# serialNumber, or a dotted OID.
OCPP_CERT_IDENTITY_FIELD = os.environ.get("OCPP_CERT_IDENTITY_FIELD", "CN")
# TLS terminated by a proxy: the addresses (or CIDR networks) of the proxies whose headers are
# believed; from anyone else they are ignored.
OCPP_TRUSTED_PROXIES = env_list("OCPP_TRUSTED_PROXIES", "")
# The header in which a trusted proxy says the charge point used TLS ("https" or "wss"), and
# the one carrying the client certificate it verified: PEM (URL-escaped or not), base64 DER,
# or the subject as an RFC 4514 string (nginx's $ssl_client_s_dn). Empty: none passed.
OCPP_PROXY_TLS_HEADER = os.environ.get("OCPP_PROXY_TLS_HEADER", "X-Forwarded-Proto")
OCPP_PROXY_CERT_HEADER = os.environ.get("OCPP_PROXY_CERT_HEADER", "")
# Websocket pings (0: none) and how long a pong may take before the connection is dropped;
# under most proxies' and NATs' idle timeouts (often 60 s).
OCPP_PING_INTERVAL_SECONDS = float(os.environ.get("OCPP_PING_INTERVAL_SECONDS", "30"))
OCPP_PING_TIMEOUT_SECONDS = float(os.environ.get("OCPP_PING_TIMEOUT_SECONDS", "30"))
# A connection on which no OCPP message came for this long (or three heartbeat intervals of
# its charge point, if longer) is closed; pongs don't count.
OCPP_IDLE_TIMEOUT_SECONDS = float(os.environ.get("OCPP_IDLE_TIMEOUT_SECONDS", "900"))
# permessage-deflate: off, a connection then costs about 20 KiB instead of about 59 KiB.
OCPP_COMPRESSION = env_bool("OCPP_COMPRESSION", False)
# The largest frame a charge point may send; a larger one closes its connection (1009).
OCPP_MAX_FRAME_BYTES = int(os.environ.get("OCPP_MAX_FRAME_BYTES", str(64 * 2**10)))
# The frames of each charge point kept in ChargePointMessage (the most recent), and whether
# they are kept at all (off for benchmarks).
OCPP_MESSAGE_LOG = env_bool("OCPP_MESSAGE_LOG", True)
OCPP_MESSAGE_LOG_SIZE = int(os.environ.get("OCPP_MESSAGE_LOG_SIZE", "200"))
# An Authorize decision is reused by the transaction that follows within this many seconds
# (the eMSP is not asked twice for one tap), and a charge point caches an accepted token as long.
OCPP_AUTHORIZATION_REUSE_SECONDS = int(os.environ.get("OCPP_AUTHORIZATION_REUSE_SECONDS", "900"))
# A 2.0.1 Ended waits this long for the earlier TransactionEvents still missing (seqNo gaps).
OCPP_TRANSACTION_REORDER_SECONDS = int(os.environ.get("OCPP_TRANSACTION_REORDER_SECONDS", "180"))
# A transaction open when its charge point boots is closed this long after the boot, unless a
# message shows it going on (its queued StopTransaction/Ended usually comes first).
OCPP_TRANSACTION_REBOOT_GRACE_SECONDS = int(
    os.environ.get("OCPP_TRANSACTION_REBOOT_GRACE_SECONDS", "900")
)
# A transaction nothing was heard about for this long is closed at its last reading.
OCPP_TRANSACTION_STALE_SECONDS = int(os.environ.get("OCPP_TRANSACTION_STALE_SECONDS", "21600"))
# A running session's kwh and total_cost are PATCHed at most this often (the charge point's
# seconds between the samples told); 0: each time its samples are applied (then the gateway
# applies what arrived within a second; else an ACTIVE session's samples when this is due:
# chargers.gateway.meters). Each PATCH costs a database transaction
# and an outbox row per partner: at a sample a minute per session, every 5 minutes is a fifth
# of that work, and the session's periods, cost and CDR are exact whatever this says.
OCPP_SESSION_PROGRESS_SECONDS = int(os.environ.get("OCPP_SESSION_PROGRESS_SECONDS", "300"))
# Days the messages of an ended transaction are kept (chargers.prune_transaction_events, daily
# by beat); 0: for ever.
OCPP_TRANSACTION_EVENTS_DAYS = int(os.environ.get("OCPP_TRANSACTION_EVENTS_DAYS", "30"))
# Seconds a call to a charge point (chargers.calls: TriggerMessage, Reset, …) waits for its
# answer unless the caller sets its own; then it ends TIMED_OUT.
OCPP_CALL_TIMEOUT_SECONDS = float(os.environ.get("OCPP_CALL_TIMEOUT_SECONDS", "30"))
# OCPI commands: the timeout announced in a CommandResponse, seconds; the charge point's call
# gets 20 s less (commands.services.RESULT_MARGIN_SECONDS), so the CommandResult comes within it.
OCPI_COMMAND_TIMEOUT_SECONDS = int(os.environ.get("OCPI_COMMAND_TIMEOUT_SECONDS", "60"))
# Load management (chargingprofiles.loadmanagement): a site's sessions starting or stopping
# are planned together this many seconds later; every site is planned again every
# LOAD_REPLAN_SECONDS (config.schedule), which sends nothing when nothing changed.
LOAD_REPLAN_DEBOUNCE_SECONDS = float(os.environ.get("LOAD_REPLAN_DEBOUNCE_SECONDS", "2"))
# How often each gateway reads the database for calls to the charge points it holds (and ends
# overdue ones): the only wake-up without Redis, a safety net for lost wake-ups with it.
OCPP_CALL_POLL_SECONDS = float(os.environ.get("OCPP_CALL_POLL_SECONDS", "1.0"))
# The most recent connections/disconnections (chargers.connection_history) and firmware/upload
# statuses (chargers.handlers.maintenance) kept per charge point; 0: all.
OCPP_CONNECTION_HISTORY_SIZE = int(os.environ.get("OCPP_CONNECTION_HISTORY_SIZE", "100"))
OCPP_MAINTENANCE_HISTORY_SIZE = int(os.environ.get("OCPP_MAINTENANCE_HISTORY_SIZE", "100"))
# Tokens of a 2.0.1 / 1.6 local authorization list sent per SendLocalList (chargers.local_list):
# the smaller of this and what the charge point says it takes (1.6 SendLocalListMaxLength,
# 2.0.1 ItemsPerMessageSendLocalList, when known).
OCPP_LOCAL_LIST_CHUNK = int(os.environ.get("OCPP_LOCAL_LIST_CHUNK", "500"))

# --- Input limits ---------------------------------------------------------------------------
# What a request may carry before any work is done on it (ocpi.limits); refusals under /ocpi/
# are OCPI envelopes. The body limit fits the largest OCPI object a partner sends whole: a
# Location of 1,000 EVSEs is about 0.5 MB as the spec's example EVSE and 2 MB with richer
# ones (several connectors, images, directions), a CDR of a week of 15-minute charging
# periods about 0.2 MB; 4 MiB leaves twice the margin. Larger bodies are HTTP 413.
OCPI_MAX_BODY_BYTES = int(os.environ.get("OCPI_MAX_BODY_BYTES", str(4 * 2**20)))
# OCPI's deepest object (a CDR's tariffs' elements' restrictions' day_of_week) nests 7 levels;
# deeper JSON is HTTP 400 / 2001 before the parser recurses.
OCPI_MAX_JSON_DEPTH = int(os.environ.get("OCPI_MAX_JSON_DEPTH", "32"))
# All request header names and values together, in bytes; more is HTTP 431. The Authorization
# header of a 64-character token is under 100 bytes; an admin's cookies under 1 KiB.
OCPI_MAX_HEADER_BYTES = int(os.environ.get("OCPI_MAX_HEADER_BYTES", str(32 * 2**10)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Security ---------------------------------------------------------------------------------
# Production mode (PRODUCTION, above): browsers keep to https, plain http is redirected,
# cookies travel over https only. The rest, the same in every mode: config.security.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if PRODUCTION else 0

# --- Push (the outbox) ----------------------------------------------------------------------
PUSH_CONCURRENCY = int(os.environ.get("PUSH_CONCURRENCY", "16"))  # parallel requests a partner
PUSH_BATCH_SIZE = int(os.environ.get("PUSH_BATCH_SIZE", "64"))
PUSH_RETRY_BASE_SECONDS = float(os.environ.get("PUSH_RETRY_BASE_SECONDS", "2"))
PUSH_RETRY_MAX_SECONDS = float(os.environ.get("PUSH_RETRY_MAX_SECONDS", "3600"))
PUSH_MAX_ATTEMPTS = int(os.environ.get("PUSH_MAX_ATTEMPTS", "25"))
PUSH_BREAKER_FAILURES = int(os.environ.get("PUSH_BREAKER_FAILURES", "3"))
# A claim older than this is taken for a dead worker's and sent again.
PUSH_CLAIM_LEASE_SECONDS = int(os.environ.get("PUSH_CLAIM_LEASE_SECONDS", "180"))
# Days the sent history (deliveries, attempts, changes) is kept; 0 keeps it for good. POSTs
# (where the partner keeps what we created) are kept for good anyway (push.history).
PUSH_KEEP_DAYS = int(os.environ.get("PUSH_KEEP_DAYS", "30"))

# --- Audit trail of operators' changes (audit, django-auditlog) -------------------------------
# Days an entry is kept (0: for good); beat deletes older ones daily (audit.prune).
AUDIT_LOG_DAYS = int(os.environ.get("AUDIT_LOG_DAYS", "365"))
# Fixtures (loaddata) are not operators' changes.
AUDITLOG_DISABLE_ON_RAW_SAVE = True

# --- Alerts and metrics (monitoring) ----------------------------------------------------------
# Alerts fire once when a condition starts and once when it ends (beat: ALERT_CHECK_SECONDS).
# A partner's oldest open delivery older than this: its queue is stuck.
ALERT_QUEUE_STUCK_MINUTES = float(os.environ.get("ALERT_QUEUE_STUCK_MINUTES", "30"))
# A delivery tried and failing (to be retried) since its first attempt this long ago.
ALERT_FAILING_MINUTES = float(os.environ.get("ALERT_FAILING_MINUTES", "10"))
# Who gets alert e-mails (comma-separated; none: no e-mail), through Django's mail settings.
ALERT_EMAILS = env_list("ALERT_EMAILS", "")
# A JSON POST per alert event; checked like partner URLs (OCPI_ALLOW_PRIVATE_URLS).
ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL", "")
ALERT_WEBHOOK_TIMEOUT = float(os.environ.get("ALERT_WEBHOOK_TIMEOUT", "10"))
# /metrics answers only a client from these addresses or one sending this bearer token;
# with neither set it answers nobody (403).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# The delivery latency histogram covers deliveries delivered in this last window.
METRICS_LATENCY_WINDOW_SECONDS = int(os.environ.get("METRICS_LATENCY_WINDOW_SECONDS", "300"))

# --- E-mail (alerts) ------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ocpi-platform@localhost")

# --- Tokens ---------------------------------------------------------------------------------
# Real-time authorization: a driver waits at the charge point. The budget is split between
# connecting (a quarter) and waiting for the answer; without an answer in time the
# whitelist's offline rule decides.
TOKENS_AUTHORIZE_TIMEOUT = float(os.environ.get("TOKENS_AUTHORIZE_TIMEOUT", "2"))
TOKENS_FULL_PULL_SECONDS = int(os.environ.get("TOKENS_FULL_PULL_SECONDS", "86400"))
# A full pull that would set more than this share of an eMSP's valid tokens invalid (an empty
# list from a partner with tokens, typically) is held for an operator to confirm; 1: never.
TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE = float(
    os.environ.get("TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE", "0.5")
)
# A delta pull asks from the last successful pull's start less this (clocks differ).
TOKENS_PULL_OVERLAP_SECONDS = int(os.environ.get("TOKENS_PULL_OVERLAP_SECONDS", "300"))
TOKENS_PULL_JITTER_SECONDS = int(os.environ.get("TOKENS_PULL_JITTER_SECONDS", "300"))
# A pull still RUNNING after this long is taken for a dead worker's; a new one may start.
TOKENS_PULL_LEASE_SECONDS = int(os.environ.get("TOKENS_PULL_LEASE_SECONDS", "3600"))
