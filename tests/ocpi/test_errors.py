"""Every error under /ocpi/ is the envelope with the right HTTP status (status_codes.asciidoc).

HTTP errors only for what never reached the OCPI layer: 400 invalid JSON, 401 authentication,
404 unknown URL, 405 method; validation problems are HTTP 200 with 2001; a crash is 500/3000.
No DRF `{"detail": …}` body ever leaves.
"""

import logging
from collections.abc import Callable

import pytest
from django.http import Http404
from django.test import Client
from rest_framework import exceptions as drf_exceptions
from rest_framework.test import APIClient

from credentials.models import Invitation
from ocpi.exceptions import ocpi_exception_handler, validation_message
from tests.conftest import authorization
from tests.ocpi.answers import ERROR_KEYS, assert_error

pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db]

# --- 400: the body is not JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"token": ', "Expecting value: line 1 column 11 (char 10)"),
        (b"\xff\xfe{}", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    ],
)
def test_a_body_that_is_not_utf8_json_is_http_400(
    client_with_token: Callable[[str], APIClient],
    invitation: tuple[Invitation, str],
    body: bytes,
    reason: str,
) -> None:
    client = client_with_token(invitation[1])

    response = client.post("/ocpi/2.2.1/credentials", data=body, content_type="application/json")

    assert_error(response, 400, 2000, f"Request body is not valid JSON: {reason}")


def test_invalid_json_on_a_functional_module_is_http_400(partner_client: APIClient) -> None:
    response = partner_client.post(
        "/ocpi/cpo/2.2.1/testecho", data=b'{"id": ', content_type="application/json"
    )

    assert_error(
        response,
        400,
        2000,
        "Request body is not valid JSON: Expecting value: line 1 column 8 (char 7)",
    )


# --- 401: no usable token ---------------------------------------------------------------------


def test_a_missing_authorization_header_is_http_401(api_client: APIClient) -> None:
    response = api_client.get("/ocpi/versions")

    assert_error(response, 401, 2000, "Authentication credentials were not provided.")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header",
    [
        authorization("no-such-token"),  # well-formed, unknown
        "Token !!!not-base64!!!",  # bad Base64, unknown as a raw token too
        "Token " + "QUJD" * 30,  # Base64 of a token longer than 64 characters
        "Bearer c29tZS10b2tlbg==",  # wrong scheme
        "Token",  # no value
        "Tokenc29tZS10b2tlbg==",  # no space
    ],
)
def test_an_unknown_or_malformed_token_is_http_401(
    api_client: APIClient, invitation: tuple[Invitation, str], header: str
) -> None:
    response = api_client.get("/ocpi/versions", headers={"Authorization": header})

    assert_error(response, 401, 2000, "Unknown or malformed credentials token.")
    assert response["WWW-Authenticate"] == "Token"


# --- 404: no such URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/ocpi",
        "/ocpi/",
        "/ocpi/nothing",
        "/ocpi/2.2",
        "/ocpi/2.2.1/nothing/",
        "/ocpi/2.1.1/credentials",
        "/ocpi/emsp/2.2.1/locations/NL/TNM/LOC1",
        "/ocpi/versions/extra",
    ],
)
def test_an_unknown_ocpi_url_is_http_404(partner_client: APIClient, path: str) -> None:
    response = partner_client.get(path)

    assert_error(response, 404, 2000, "No OCPI endpoint at this URL")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_an_unknown_ocpi_url_is_http_404_for_every_method(
    partner_client: APIClient, method: str
) -> None:
    response = getattr(partner_client, method)("/ocpi/nothing", data={}, format="json")

    assert_error(response, 404, 2000, "No OCPI endpoint at this URL")


def test_an_unknown_ocpi_url_still_needs_a_token(api_client: APIClient) -> None:
    response = api_client.get("/ocpi/nothing")

    assert_error(response, 401, 2000, "Authentication credentials were not provided.")


# --- 405: the URL has no such method -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/ocpi/2.2.1/credentials"),
        ("post", "/ocpi/versions"),
        ("put", "/ocpi/versions"),
        ("delete", "/ocpi/versions"),
        ("post", "/ocpi/2.2.1"),
        ("patch", "/ocpi/2.2.1"),
        ("options", "/ocpi/versions"),  # not DRF's metadata: OPTIONS is no OCPI method
        ("options", "/ocpi/2.2.1/credentials"),
    ],
)
def test_a_method_the_url_does_not_have_is_http_405(
    partner_client: APIClient, method: str, path: str
) -> None:
    response = getattr(partner_client, method)(path, data={}, format="json")

    assert_error(response, 405, 2000, f'Method "{method.upper()}" not allowed.')


# --- answers Django gives before any view: the middleware's safety net ------------------------


def test_a_request_refused_by_django_itself_is_still_the_envelope(
    partner_client: APIClient,
) -> None:
    response = partner_client.get(
        "/ocpi/versions", headers={"Host": "attacker.example", "X-Request-ID": "req-host"}
    )

    assert_error(response, 400, 2000, "Bad request")
    assert response["X-Request-ID"] == "req-host"


# --- HTTP 200 with 2001: the request was understood but is invalid -----------------------------


def test_a_validation_error_is_http_200_with_2001_and_says_what_is_wrong(
    partner_client: APIClient,
) -> None:
    response = partner_client.post(
        "/ocpi/cpo/2.2.1/testecho",
        data={
            "id": "X" * 37,
            "name": "line\nbreak",
            "kwh": "12.5",
            "last_updated": "2026-03-01T12:00:00+01:00",
        },
        format="json",
    )

    assert_error(
        response,
        200,
        2001,
        "id: Ensure this field has no more than 36 characters.; "
        "name: Must not contain control characters.; "
        "kwh: A valid number is required.; "
        "last_updated: Invalid OCPI DateTime: expected YYYY-MM-DDThh:mm:ss[.fff][Z] in UTC; "
        "time zone offsets are not allowed",
    )


def test_missing_required_fields_are_2001(partner_client: APIClient) -> None:
    response = partner_client.post("/ocpi/cpo/2.2.1/testecho", data={}, format="json")

    assert_error(
        response,
        200,
        2001,
        "id: This field is required.; kwh: This field is required.; "
        "last_updated: This field is required.",
    )


def test_a_body_that_is_not_an_object_is_2001(partner_client: APIClient) -> None:
    response = partner_client.post("/ocpi/cpo/2.2.1/testecho", data=[1, 2], format="json")

    assert_error(response, 200, 2001, "body: Invalid data. Expected a dictionary, but got list.")


def test_validation_message_names_nested_fields_and_list_positions() -> None:
    detail = {
        "evses": [{}, {"connectors": [{"id": ["Too long."]}]}],
        "coordinates": {"latitude": ["Bad.", "Worse."]},
        "non_field_errors": ["Ids differ."],
    }

    assert validation_message(detail) == (
        "evses.1.connectors.0.id: Too long.; coordinates.latitude: Bad.; "
        "coordinates.latitude: Worse.; body: Ids differ."
    )


# --- our own OcpiError family -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "http_status", "status_code", "message"),
    [
        ("OcpiError", 200, 2000, "Client error"),
        ("InvalidParameters", 200, 2001, "Invalid or missing parameters"),
        ("NotEnoughInformation", 200, 2002, "Not enough information"),
        ("UnknownLocation", 200, 2003, "Unknown Location"),
        ("UnknownToken", 200, 2004, "Unknown Token"),
        ("ServerError", 200, 3000, "Server error"),
        ("ClientApiUnusable", 200, 3001, "Unable to use the client's API"),
        ("UnsupportedVersion", 200, 3002, "Unsupported version"),
        ("NoMatchingEndpoints", 200, 3003, "No matching endpoints or expected endpoints missing"),
        ("NotFound", 404, 2000, "Not found"),
        ("MethodNotAllowed", 405, 2000, "Method not allowed"),
    ],
)
def test_each_ocpi_error_has_its_code_and_http_status(
    api_client: APIClient, name: str, http_status: int, status_code: int, message: str
) -> None:
    response = api_client.get(f"/ocpi/test/raise/{name}")

    assert_error(response, http_status, status_code, message)


def test_an_ocpi_error_may_carry_debug_data(api_client: APIClient) -> None:
    response = api_client.get("/ocpi/test/raise/UnknownLocation?data=1")

    assert response.status_code == 200
    assert response.json() == {
        "data": {"hint": "debug"},
        "status_code": 2003,
        "status_message": "Unknown Location",
        "timestamp": response.json()["timestamp"],
    }


# --- 500: a bug -------------------------------------------------------------------------------


def test_an_unexpected_crash_is_http_500_with_3000(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(raise_request_exception=True)

    with caplog.at_level(logging.ERROR, logger="ocpi.middleware"):
        response = client.get("/ocpi/test/crash", headers={"X-Request-ID": "req-crash"})

    assert_error(response, 500, 3000, "Internal server error")
    assert response["X-Request-ID"] == "req-crash"
    records = [record for record in caplog.records if record.name == "ocpi.middleware"]
    assert [(r.getMessage(), r.__dict__["request_id"]) for r in records] == [
        ("Unhandled error on GET /ocpi/test/crash", "req-crash")
    ]
    assert records[0].exc_info is not None
    assert repr(records[0].exc_info[1]) == "RuntimeError('a bug')"


# --- the DRF exceptions the handler translates ------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "http_status", "status_code", "message"),
    [
        (drf_exceptions.PermissionDenied("no"), 401, 2000, "no"),
        (drf_exceptions.NotFound(), 404, 2000, "Not found"),
        (Http404("gone"), 404, 2000, "Not found"),
        (
            drf_exceptions.UnsupportedMediaType("text/xml"),
            415,
            2000,
            'Unsupported media type "text/xml" in request.',
        ),
        (drf_exceptions.NotAcceptable(), 406, 2000, "Could not satisfy the request Accept header."),
        (
            drf_exceptions.Throttled(wait=3),
            429,
            2000,
            "Request was throttled. Expected available in 3 seconds.",
        ),
        (drf_exceptions.APIException(), 500, 3000, "A server error occurred."),
    ],
)
def test_drf_exceptions_become_envelopes(
    exc: Exception, http_status: int, status_code: int, message: str
) -> None:
    response = ocpi_exception_handler(exc, {})

    assert response is not None
    assert response.status_code == http_status
    assert list(response.data) == ERROR_KEYS
    assert (response.data["status_code"], response.data["status_message"]) == (
        status_code,
        message,
    )


def test_anything_else_is_left_to_the_middleware() -> None:
    assert ocpi_exception_handler(RuntimeError("bug"), {}) is None
