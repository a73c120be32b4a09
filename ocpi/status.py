"""OCPI status codes (spec: status_codes.asciidoc). Four digits, never confused with HTTP's."""

from enum import IntEnum


class OcpiStatus(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    CLIENT_API_UNUSABLE = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    FORWARD_TIMEOUT = 4002
    CONNECTION_PROBLEM = 4003


def is_success(code: int) -> bool:
    """Judge a code by its range, so custom codes (19xx, 29xx…) are understood too."""
    return 1000 <= code <= 1999


def is_client_error(code: int) -> bool:
    return 2000 <= code <= 2999


def is_server_error(code: int) -> bool:
    return 3000 <= code <= 3999


def is_hub_error(code: int) -> bool:
    return 4000 <= code <= 4999
