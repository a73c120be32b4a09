"""What the schema fuzzing sent and got back, per caller (printed in the run's summary)."""

import json
from dataclasses import dataclass, field

ENVELOPE_KEYS = {"status_code", "timestamp"}


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    not_envelope: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # the first few bad answers, to debug

    def record(self, label: str, status: int, content_type: str, body: bytes) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        bad = []
        if status >= 500:
            self.server_errors += 1
            bad.append("5xx")
        if not is_envelope(content_type, body):
            self.not_envelope += 1
            bad.append("not an envelope")
        if bad and len(self.examples) < 5:
            self.examples.append(f"{label} -> {status} ({', '.join(bad)}): {body[:200]!r}")

    def __str__(self) -> str:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests, {self.server_errors} 5xx, "
            f"{self.not_envelope} not an OCPI envelope (HTTP statuses {statuses})"
        )


def is_envelope(content_type: str, body: bytes) -> bool:
    """The OCPI envelope (transport_and_format.asciidoc, Response format), as JSON."""
    if not content_type.startswith("application/json"):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(parsed, dict)
        and parsed.keys() >= ENVELOPE_KEYS
        and isinstance(parsed["status_code"], int)
        and isinstance(parsed["timestamp"], str)
    )


TALLIES: dict[str, Tally] = {}
