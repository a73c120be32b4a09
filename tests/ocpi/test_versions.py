"""Versions module (version_information_endpoint.asciidoc) and the endpoint registry."""

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from ocpi import endpoints
from ocpi.enums import InterfaceRole
from ocpi.versioning import version_details_url, versions_url

BASE = "https://cpo.example.com"


@pytest.fixture(autouse=True)
def _public_base_url(settings: Settings) -> None:
    settings.OCPI_BASE_URL = BASE


def test_versions_lists_2_2_1_with_its_absolute_url(partner_client: APIClient) -> None:
    response = partner_client.get("/ocpi/versions")

    assert response.status_code == 200
    assert response.json()["data"] == [{"version": "2.2.1", "url": f"{BASE}/ocpi/2.2.1"}]


def test_version_details_list_credentials_first_as_sender(partner_client: APIClient) -> None:
    response = partner_client.get("/ocpi/2.2.1")

    data = response.json()["data"]
    assert data["version"] == "2.2.1"
    assert data["endpoints"][0] == {
        "identifier": "credentials",
        "role": "SENDER",
        "url": f"{BASE}/ocpi/2.2.1/credentials",
    }


def test_version_details_urls_are_absolute_and_keys_unique(partner_client: APIClient) -> None:
    found = partner_client.get("/ocpi/2.2.1").json()["data"]["endpoints"]

    assert [e for e in found if not e["url"].startswith(f"{BASE}/ocpi/")] == []
    assert len({(e["identifier"], e["role"]) for e in found}) == len(found)
    assert {e["role"] for e in found} <= {"SENDER", "RECEIVER"}


def test_the_versions_urls_follow_the_public_base_url() -> None:
    assert (versions_url(), version_details_url()) == (
        f"{BASE}/ocpi/versions",
        f"{BASE}/ocpi/2.2.1",
    )


# --- the registry module apps fill in their ready() -------------------------------------------


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], endpoints.ModuleEndpoint]:
    """An empty registry for the test, so the project's own stays untouched."""
    fresh: dict[tuple[str, str], endpoints.ModuleEndpoint] = {}
    monkeypatch.setattr(endpoints, "_registry", fresh)
    return fresh


def endpoint(identifier: str, role: InterfaceRole, path: str) -> endpoints.ModuleEndpoint:
    return endpoints.ModuleEndpoint(identifier, role, path)


def test_registered_endpoints_come_credentials_first_then_by_identifier_and_role(
    registry: dict[tuple[str, str], endpoints.ModuleEndpoint],
) -> None:
    tariffs = endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs")
    tokens = endpoint("tokens", InterfaceRole.RECEIVER, "/ocpi/cpo/2.2.1/tokens")
    locations_receiver = endpoint("locations", InterfaceRole.RECEIVER, "/ocpi/emsp/2.2.1/locations")
    locations_sender = endpoint("locations", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/locations")
    credentials = endpoint("credentials", InterfaceRole.SENDER, "/ocpi/2.2.1/credentials")
    for each in (tariffs, tokens, locations_sender, credentials, locations_receiver):
        endpoints.register(each)

    assert endpoints.registered() == [
        credentials,
        locations_receiver,
        locations_sender,
        tariffs,
        tokens,
    ]


def test_registering_the_same_endpoint_twice_is_harmless(
    registry: dict[tuple[str, str], endpoints.ModuleEndpoint],
) -> None:
    tariffs = endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs")

    endpoints.register(tariffs)
    endpoints.register(endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs"))

    assert endpoints.registered() == [tariffs]


def test_registering_one_key_with_two_paths_is_an_error(
    registry: dict[tuple[str, str], endpoints.ModuleEndpoint],
) -> None:
    endpoints.register(endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs"))

    with pytest.raises(ValueError, match="registered twice with different paths"):
        endpoints.register(endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/2.2.1/tariffs"))


def test_an_endpoint_url_is_under_the_public_base_url() -> None:
    assert endpoint("tariffs", InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs").url == (
        f"{BASE}/ocpi/cpo/2.2.1/tariffs"
    )
