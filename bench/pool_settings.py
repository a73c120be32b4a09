"""The platform's settings with psycopg's connection pool (Django 5.1+), for `--pool` runs.

Under ASGI every request runs in a thread of its own, so CONN_MAX_AGE cannot keep a
connection: each request connects to PostgreSQL anew (several ms here). A pool keeps them.
This is the setting bench/RESULTS.md proposes; it needs the psycopg-pool package.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0  # required by the pool
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 8}
