"""Helpers of the protocol-core tests: an ASGI request as uvicorn makes it, its answer read
back, and the check of an error envelope."""

from typing import Any

from asgiref.testing import ApplicationCommunicator

ERROR_KEYS = ["status_code", "status_message", "timestamp"]


def http_scope(path: str, headers: dict[str, str], *, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def read_reply(
    communicator: ApplicationCommunicator, timeout: float
) -> tuple[int, dict[str, str], bytes]:
    """The answer's status, headers (names in lower case) and whole body."""
    start = await communicator.receive_output(timeout)
    body = b""
    while True:
        message = await communicator.receive_output(timeout)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    received = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], received, body


def assert_error(response: Any, http_status: int, status_code: int, message: str) -> None:
    """A Django test client's response is this error envelope and nothing else."""
    assert response.status_code == http_status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert (body["status_code"], body["status_message"]) == (status_code, message)
