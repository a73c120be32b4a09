"""OCPI status codes (status_codes.asciidoc) and judging unknown codes by their range."""

import pytest

from ocpi.status import OcpiStatus, is_client_error, is_hub_error, is_server_error, is_success


def test_every_status_code_of_the_spec_has_its_value() -> None:
    assert {status.name: status.value for status in OcpiStatus} == {
        "SUCCESS": 1000,
        "CLIENT_ERROR": 2000,
        "INVALID_PARAMETERS": 2001,
        "NOT_ENOUGH_INFORMATION": 2002,
        "UNKNOWN_LOCATION": 2003,
        "UNKNOWN_TOKEN": 2004,
        "SERVER_ERROR": 3000,
        "CLIENT_API_UNUSABLE": 3001,
        "UNSUPPORTED_VERSION": 3002,
        "NO_MATCHING_ENDPOINTS": 3003,
        "HUB_ERROR": 4000,
        "UNKNOWN_RECEIVER": 4001,
        "FORWARD_TIMEOUT": 4002,
        "CONNECTION_PROBLEM": 4003,
    }


@pytest.mark.parametrize(
    ("code", "success", "client_error", "server_error", "hub_error"),
    [
        (999, False, False, False, False),
        (1000, True, False, False, False),
        (1900, True, False, False, False),  # custom success
        (1999, True, False, False, False),
        (2000, False, True, False, False),
        (2004, False, True, False, False),
        (2999, False, True, False, False),  # custom client error
        (3000, False, False, True, False),
        (3003, False, False, True, False),
        (3999, False, False, True, False),
        (4000, False, False, False, True),
        (4003, False, False, False, True),
        (4999, False, False, False, True),
        (5000, False, False, False, False),
        (200, False, False, False, False),  # an HTTP status is not an OCPI code
    ],
)
def test_codes_are_judged_by_range(
    code: int, success: bool, client_error: bool, server_error: bool, hub_error: bool
) -> None:
    assert (
        is_success(code),
        is_client_error(code),
        is_server_error(code),
        is_hub_error(code),
    ) == (success, client_error, server_error, hub_error)


@pytest.mark.parametrize("status", list(OcpiStatus))
def test_every_defined_code_falls_in_exactly_one_range(status: OcpiStatus) -> None:
    ranges = [is_success, is_client_error, is_server_error, is_hub_error]

    assert [in_range(status) for in_range in ranges].count(True) == 1
