"""The OpenAPI description under /api/ and the load balancers' /healthz."""

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def schema(client: Client, **kwargs: Any) -> dict[str, Any]:
    response = client.get("/api/schema/", **kwargs)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"format": "json"}},
        {"headers": {"Accept": "application/vnd.oai.openapi+json"}},
        {"headers": {"Accept": "application/json"}},
    ],
)
def test_the_schema_is_served_as_json(client: Client, kwargs: dict[str, Any]) -> None:
    document = schema(client, **kwargs)

    assert document["info"]["title"] == "OCPI 2.2.1 CPO platform"
    assert document["info"]["version"] == "2.2.1"


def test_the_schema_is_served_as_yaml_by_default(client: Client) -> None:
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/ocpi/versions", "get"),
        ("/ocpi/2.2.1", "get"),
        ("/ocpi/2.2.1/credentials", "get"),
        ("/ocpi/2.2.1/credentials", "post"),
        ("/ocpi/2.2.1/credentials", "put"),
        ("/ocpi/2.2.1/credentials", "delete"),
    ],
)
def test_each_ocpi_operation_answers_the_envelope_and_takes_the_trace_headers(
    client: Client, path: str, method: str
) -> None:
    operation = schema(client, data={"format": "json"})["paths"][path][method]

    envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert envelope["required"] == ["status_code", "timestamp"]
    assert {"status_code", "status_message", "timestamp"} <= set(envelope["properties"])
    assert envelope["properties"]["timestamp"]["format"] == "date-time"
    assert sorted(operation["responses"]) == ["200", "400", "401", "404", "405"]
    assert {(p["in"], p["name"]) for p in operation["parameters"]} >= {
        ("header", "X-Request-ID"),
        ("header", "X-Correlation-ID"),
    }
    assert operation["security"] == [{"OcpiToken": []}]


def test_configuration_modules_do_not_document_routing_headers(client: Client) -> None:
    paths = schema(client, data={"format": "json"})["paths"]

    documented = {
        p["name"]
        for path in ("/ocpi/versions", "/ocpi/2.2.1", "/ocpi/2.2.1/credentials")
        for operation in paths[path].values()
        for p in operation["parameters"]
    }
    assert documented == {"X-Request-ID", "X-Correlation-ID"}


def test_the_versions_list_is_documented_as_a_list_of_versions(client: Client) -> None:
    operation = schema(client, data={"format": "json"})["paths"]["/ocpi/versions"]["get"]

    data = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "data"
    ]
    assert data["type"] == "array"
    assert set(data["items"]["properties"]) == {"version", "url"}


def test_the_token_scheme_is_described(client: Client) -> None:
    scheme = schema(client, data={"format": "json"})["components"]["securitySchemes"]["OcpiToken"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


def test_the_docs_page_answers(client: Client) -> None:
    response = client.get("/api/docs/")
    # Swagger UI's start script is a file of its own (the CSP runs no inline script).
    script = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert b'<script src="/api/docs/?script="></script>' in response.content
    assert script.status_code == 200
    assert b"/api/schema/" in script.content


def test_healthz_reports_the_database(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_takes_get_only(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
