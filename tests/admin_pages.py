"""Reading admin pages in tests: what the operator sees and the messages they were given."""

import html
import re
from typing import Any

from django.contrib.messages import get_messages
from django.test import Client
from django.test.utils import CaptureQueriesContext


def page_text(response: Any) -> str:
    """What the operator reads: the page without markup, scripts and icons."""
    page = re.sub(r"<(script|svg)\b.*?</\1>", "", response.content.decode(), flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client: Client, url: str, action: str, pk: int) -> Any:
    """Run the changelist action `action` on the object `pk`, following the redirect."""
    return client.post(url, {"action": action, "_selected_action": [pk]}, follow=True)


def filter_choices(response: Any, parameter: str) -> list[str]:
    """The values a list filter offers (its parameter `parameter`), in order."""
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "parameter_name", None) == parameter:
            return [str(value) for value, _ in spec.lookup_choices]
    raise AssertionError(f"no list filter {parameter!r}")


def scans_for_choices(captured: CaptureQueriesContext, table: str) -> list[str]:
    """The queries that read distinct values (a filter's choices, a date hierarchy) or the
    bounds of the dates of `table`: each one scans the whole table."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if table in query["sql"] and re.search(r"\bDISTINCT\b|\bMIN\(|\bMAX\(", query["sql"])
    ]
