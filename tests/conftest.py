"""Fixtures shared by every test package. Package-specific ones live in its own conftest."""

import base64
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from credentials.models import Invitation
from credentials.services import invitation_create


@pytest.fixture(autouse=True)
def _allow_loopback_partners(settings: object) -> None:
    """Test partners run on loopback; production refuses such URLs (ocpi/netsafety.py)."""
    settings.OCPI_ALLOW_PRIVATE_URLS = True  # type: ignore[attr-defined]


def authorization(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


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
