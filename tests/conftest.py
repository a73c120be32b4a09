"""Fixtures shared by every test package. Package-specific ones live in its own conftest."""

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from config.celery import app as celery_app
from credentials import authentication
from credentials import selectors as callers
from credentials.models import Invitation
from credentials.services import invitation_create


@pytest.fixture(autouse=True)
def _allow_loopback_partners(settings: object) -> None:
    """Test partners run on loopback; production refuses such URLs (ocpi/netsafety.py)."""
    settings.OCPI_ALLOW_PRIVATE_URLS = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (the test run's own: a file folder under VAR_DIR
    or the Redis database it was given).

    What one test leaves there must not decide another: above all the push wake-up markers
    (push.services.KICK_KEY, KICK_SECONDS), keyed by partner pk. On SQLite a rolled-back test gives
    its primary keys back, so the next test's partner can have the pk of one whose wake-up
    task never ran (no worker) and would not be woken.

    So with the callers each process keeps (credentials.selectors): a rolled-back test gives
    the credentials generation its former value back, with other partners under it.
    """
    cache.clear()
    callers._cache.forget()
    authentication._contacts.clear()  # by partner pk, which SQLite gives back too


def authorization(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


def client_for(token: str) -> APIClient:
    """A client of its own calling us with the partner token `token`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization(token))
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_with_token(api_client: APIClient) -> Callable[[str], APIClient]:
    def make(token: str) -> APIClient:
        api_client.credentials(HTTP_AUTHORIZATION=authorization(token))
        return api_client

    return make


@pytest.fixture
def invitation(db: None) -> tuple[Invitation, str]:
    return invitation_create(name="Test eMSP")


@pytest.fixture
def operator(client: Client, django_user_model: Any, settings: Any) -> Client:
    """An operator logged in to the admin, as a superuser, with plain static files."""
    # The production hasher is slow on purpose; these tests are about the admin screens.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = django_user_model.objects.create_superuser(
        "operator", "operator@cpo.test", "s3cret-pass"
    )
    # Logged in without the login form (its throttling has tests of its own: tests/operations).
    client.force_login(user)
    return client


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run queued tasks at once, in this process (the real worker has its own tests)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = before
