"""What a browser posts for a page's form, read from the rendered HTML (no script run).

Used to check the admin's round trip: a page opened and saved as it is must post back
exactly what it showed.
"""

from html.parser import HTMLParser
from typing import Any

UNPOSTED_INPUTS = {"submit", "button", "reset", "file", "image"}


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.in_template = 0
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_multiple = False
        self.select_options: list[tuple[str, bool]] = []
        self.option: dict[str, Any] | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form" and attr.get("id") == self.form_id:
            self.in_form = True
        if not self.in_form:
            return
        if tag == "template":
            self.in_template += 1
        if self.in_template or "disabled" in attr:
            return
        if tag == "input" and "name" in attr:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.fields.append((attr["name"], attr.get("value") or "on"))
            elif kind not in UNPOSTED_INPUTS:
                self.fields.append((attr["name"], attr.get("value", "")))
        elif tag == "select":
            self.select, self.select_options = attr.get("name"), []
            self.select_multiple = "multiple" in attr
        elif tag == "option" and self.select is not None:
            self.option = {"value": attr.get("value"), "selected": "selected" in attr}
            self.text = ""
        elif tag == "textarea":
            self.textarea, self.text = attr.get("name"), ""

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if not self.in_form:
            return
        if tag == "template":
            self.in_template -= 1
        elif tag == "form":
            self.in_form = False
        elif tag == "option" and self.option is not None:
            value = self.option["value"]
            self.select_options.append(
                (self.text if value is None else value, self.option["selected"])
            )
            self.option = None
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.select_options if selected]
            # A single select without a chosen option posts its first one; a multiple, none.
            if not chosen and self.select_options and not self.select_multiple:
                chosen = [self.select_options[0][0]]
            self.fields.extend((self.select, value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def posted_form(html: str, form_id: str) -> dict[str, list[str]]:
    """The name → values a browser posts when the form is submitted unchanged."""
    reader = _FormReader(form_id)
    reader.feed(html)
    posted: dict[str, list[str]] = {}
    for name, value in reader.fields:
        posted.setdefault(name, []).append(value)
    return posted
