"""Fixtures of the schema fuzzing: no traffic off loopback, requests in the test's transaction."""

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections

from tests.fuzz.tally import TALLIES

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Partner URLs in generated bodies (credentials) are never called: names other than
    loopback do not resolve, and loopback ones are refused as private (ocpi.netsafety)."""
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK_NAMES:  # Redis and PostgreSQL of the test run stay reachable
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: resolving is off in fuzz tests")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture
def connections_kept() -> Iterator[None]:
    """Keep the test's database connection open across requests (as django.test.Client does):
    the WSGI handler closes it at request_started and request_finished otherwise."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fuzzing's counts, in every run's summary (issue 10 asks for them)."""
    for caller, tally in sorted(TALLIES.items()):
        terminalreporter.write_line(f"schema fuzzing, {caller}: {tally}")
