"""CSV downloads and uploads in tests: a streamed response's text, its rows, rows written back."""

import csv
import io
from typing import Any


def streamed(response: Any) -> str:
    """A streamed download's text (the test client's response type does not say it streams)."""
    return b"".join(response.streaming_content).decode()


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def written(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
