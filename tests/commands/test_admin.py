"""The Commands screen: every command received, read-only, with its answer, call and result."""

import pytest
from django.test import Client

from commands.models import Command
from tests.admin_pages import page_text
from tests.commands.setup import answer, estate, online, post, start_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

COMMANDS = "/admin/commands/command/"


def test_a_command_is_listed_and_shown_with_its_call_and_result(operator: Client) -> None:
    estate()
    online("CP16", "1.6")
    post("START_SESSION", start_session())
    command = Command.objects.select_related("call").get()
    assert command.call is not None
    answer(command.call, response={"status": "Accepted"})

    listed = page_text(operator.get(COMMANDS))
    shown = page_text(operator.get(f"{COMMANDS}{command.pk}/change/"))

    assert "Start Session DE*TNM result queued to the response_url ACCEPTED Accepted" in listed
    assert "answered (CALLRESULT)" in listed
    assert "{'status': 'Accepted'}" in shown or '"status": "Accepted"' in shown
    assert "AUTH-1" in shown  # the request as sent
    assert operator.get(f"{COMMANDS}add/").status_code == 403
    assert operator.post(f"{COMMANDS}{command.pk}/delete/").status_code == 403
