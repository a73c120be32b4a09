"""Schemathesis against our own OpenAPI description (/api/schema/): issue 10, Build 7.

Every operation the schema describes gets requests generated from it, valid ones and invalid
ones (Schemathesis' positive and negative modes), as a registered eMSP and without a token,
in this process through the WSGI application (the test's database transaction; each request
rolled back, so a credentials DELETE does not end the partner for the requests after it).
Every answer is under /ocpi/: none may be a 5xx, and each must be the OCPI envelope.
(Invalid requests include generated Authorization headers: garbage tokens are fuzzed too.)
Partner URLs in generated credentials are never called (tests/fuzz/conftest.py: offline).

The findings fuzzing from outside turned up have named regression tests of their own:
tests/ocpi/test_input_limits.py (deep JSON, huge integers, large bodies) and
tests/ocpi/test_asgi_limits.py (what the ASGI entry point refuses before reading).

Deterministic (Hypothesis derandomized: the same requests every run) and bounded
(EXAMPLES per operation and mode). The counts appear in the run's summary.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok

from tests.conftest import authorization
from tests.fuzz.tally import TALLIES, Tally
from tests.partners import only_local_party, registered_emsp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline", "connections_kept")]

TOKEN = "fuzzing-emsp-token"
# Per operation and mode: 17 operations × 2 modes × 2 callers × EXAMPLES requests in all.
EXAMPLES = 25
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def operations() -> list[APIOperation]:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # our schema must describe each one fully
        found.append(result.ok())
    return found


def fuzz(
    operation: APIOperation, mode: GenerationMode, headers: dict[str, str], tally: Tally
) -> None:
    """Send EXAMPLES generated requests of `operation`, each rolled back, into `tally`."""

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(mode))
    def send(case: Case) -> None:
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        tally.record(
            f"{mode.value} {case.method} {case.formatted_path}",
            response.status_code,
            response.headers.get("content-type", [""])[0],
            response.content,
        )

    send()


@pytest.mark.parametrize("caller", ["registered eMSP", "no token"])
def test_no_server_error_and_always_the_envelope(caller: str) -> None:
    only_local_party("DE", "TNM")
    registered_emsp("Fuzz eMSP", TOKEN, ("NL", "PRB"))
    headers = {"Authorization": authorization(TOKEN)} if caller == "registered eMSP" else {}
    tally = TALLIES.setdefault(caller, Tally())

    for operation in operations():
        assert operation.path.startswith("/ocpi/")
        for mode in GenerationMode:
            fuzz(operation, mode, headers, tally)

    assert (tally.server_errors, tally.not_envelope, tally.examples) == (0, 0, [])
    assert tally.requests >= 17 * 2 * EXAMPLES * 0.5  # Hypothesis may stop early on small spaces
