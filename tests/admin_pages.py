"""Reading admin pages in tests: what the operator sees and the messages they were given."""

import html
import re
from typing import Any

from django.contrib.messages import get_messages
from django.test import Client


def page_text(response: Any) -> str:
    """What the operator reads: the page without markup, scripts and icons."""
    page = re.sub(r"<(script|svg)\b.*?</\1>", "", response.content.decode(), flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client: Client, url: str, action: str, pk: int) -> Any:
    """Run the changelist action `action` on the object `pk`, following the redirect."""
    return client.post(url, {"action": action, "_selected_action": [pk]}, follow=True)
