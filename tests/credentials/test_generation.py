"""The guard of the callers cache (credentials.generation): every writer of who may call us
and whom we push to moves the credentials generation after its last write.

Each writer (every handshake service, its failure paths, the operator's screens, the test
factory) runs with its SQL recorded: a write of partners, their roles or endpoints, or our
parties not followed by a bump of the generation fails, whichever statement it is. A public
function of the writing modules that is in neither list below fails too, so a new writer
cannot be added without deciding whether it bumps and without a test here.
"""

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from types import ModuleType
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from credentials import authentication, claims, operator, receiving, services
from credentials.generation import GENERATION
from credentials.models import Invitation, LocalParty, PartnerPlatform
from ocpi import generations
from tests.credentials.conftest import OcpiCall, Registration
from tests.credentials.fake_partner import FakePartner, RawReply, envelope
from tests.partners import registered_emsp

pytestmark = pytest.mark.django_db

CACHED_TABLES = (
    "credentials_partnerplatform",
    "credentials_partnerrole",
    "credentials_partnerendpoint",
    "credentials_localparty",
)
WRITE = re.compile(
    r'^(?:INSERT INTO|UPDATE|DELETE FROM) "?(?P<table>\w+)"?(?: SET (?P<set>.*?) WHERE)?',
    re.IGNORECASE | re.DOTALL,
)
# Bookkeeping no cached read depends on: written without a bump.
BOOKKEEPING = re.compile(r'^"?(last_contact_at|stale_updates)"? = ', re.IGNORECASE)

# Public functions of the writing modules that move the generation (each run below) and
# those that do not (reads; claims written only inside a bumping service's transaction;
# invitations and bookkeeping, which no cache holds).
BUMPING = {
    "accept_registration",
    "accept_update",
    "accept_unregistration",
    "register_with_partner",
    "rotate_credentials",
    "refresh_endpoints",
    "unregister_partner",
    "local_party_save",
    "local_parties_delete",
    "partner_settings_save",
    "partners_delete",
}
NOT_BUMPING = {
    "invitation_create",
    "invitation_revoke",
    "check_parties",
    "claim_partner_parties",
    "release_partner_parties",
    "partner_holding",
    "claim_local_party",
    "release_local_parties",
    "touch_last_contact",
    "stale_update_count",
    "stale_update_received",
    "find_principal",
}


def _unbumped(statements: list[str]) -> list[str]:
    """The writes of cached tables no bump of the credentials generation follows."""
    pending: list[str] = []
    for statement in statements:
        if statement.startswith('INSERT INTO "ocpi_listgeneration"') and "'credentials'" in (
            statement
        ):
            pending = []
            continue
        write = WRITE.match(statement)
        if write is None or write["table"] not in CACHED_TABLES:
            continue
        if (
            write["set"] is not None
            and BOOKKEEPING.match(write["set"])
            and "," not in (write["set"])
        ):
            continue
        pending.append(statement)
    return pending


@dataclass
class Record:
    """What a writer did: the statements it ran, the generation before and after."""

    statements: list[str]
    before: int
    after: int


def run(action: Callable[[], Any]) -> Record:
    before = generations.current(GENERATION)
    with CaptureQueriesContext(connection) as queries:
        action()
    statements = [query["sql"] for query in queries.captured_queries]
    return Record(statements, before, generations.current(GENERATION))


def assert_bumped(record: Record) -> None:
    writes = [s for s in record.statements if (m := WRITE.match(s)) and m["table"] in CACHED_TABLES]
    assert writes != []  # the writer wrote what the cache holds
    assert _unbumped(record.statements) == []
    assert record.after != record.before


def test_every_public_writer_is_known_to_this_guard() -> None:
    modules: list[ModuleType] = [services, operator, claims, authentication, receiving]
    public = {
        name
        for module in modules
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }

    assert public == BUMPING | NOT_BUMPING


# --- the partner calls us -------------------------------------------------------------------


def test_a_registration_by_the_partner_moves_it(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    record = run(lambda: ocpi_call("POST", invitation[1], partner.credentials("token-b")))

    assert_bumped(record)


def test_an_update_by_the_partner_moves_it(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    record = run(lambda: ocpi_call("PUT", registered.token_c, partner.credentials("token-b2")))

    assert_bumped(record)


def test_an_unregistration_by_the_partner_moves_it(
    registered: Registration, ocpi_call: OcpiCall
) -> None:
    record = run(lambda: ocpi_call("DELETE", registered.token_c))

    assert_bumped(record)


# --- we call the partner --------------------------------------------------------------------


def register(partner: FakePartner) -> None:
    call_command(
        "ocpi_register", partner.versions_url, partner.invite(), name="Fake", stdout=StringIO()
    )


def partner_command(action: str) -> None:
    call_command("ocpi_partner", action, "Fake eMSP", stdout=StringIO(), stderr=StringIO())


def refused(command: Callable[[], None]) -> Callable[[], None]:
    def action() -> None:
        with pytest.raises(CommandError):
            command()

    return action


def test_our_registration_moves_it(partner: FakePartner, live_platform: str) -> None:
    assert_bumped(run(lambda: register(partner)))


def test_our_failed_registration_moves_it_when_it_forgets_the_partner(
    partner: FakePartner, live_platform: str
) -> None:
    partner.credentials_reply = RawReply(500, envelope(status_code=3000, message="Down"))

    record = run(refused(lambda: register(partner)))

    assert_bumped(record)
    assert PartnerPlatform.objects.count() == 0


@pytest.mark.parametrize("action", ["rotate", "refresh", "unregister"])
def test_our_calls_to_a_partner_move_it(
    registered_with_partner: PartnerPlatform, action: str
) -> None:
    assert_bumped(run(lambda: partner_command(action)))


@pytest.mark.parametrize(
    ("action", "broken"), [("rotate", "credentials_reply"), ("refresh", "versions_reply")]
)
def test_our_failed_calls_to_a_partner_move_it(
    registered_with_partner: PartnerPlatform, partner: FakePartner, action: str, broken: str
) -> None:
    setattr(partner, broken, RawReply(500, envelope(status_code=3000, message="Down")))

    record = run(refused(lambda: partner_command(action)))

    assert_bumped(record)
    assert PartnerPlatform.objects.get().last_error != ""


# --- the operator's screens -----------------------------------------------------------------


def model_admin(model: type[Any]) -> Any:
    return admin.site._registry[model]


@pytest.mark.parametrize("method", ["save_model", "delete_model", "delete_queryset"])
@pytest.mark.parametrize("model", [LocalParty, PartnerPlatform])
def test_every_admin_write_moves_it(method: str, model: type[Any]) -> None:
    registered_emsp("Partner", "tok", ("DE", "AAA"))
    obj = model.objects.first()
    obj.name = obj.business_name = "Renamed"
    request = RequestFactory().post("/admin/")
    writes: dict[str, Callable[[], None]] = {
        "save_model": lambda: model_admin(model).save_model(request, obj, None, True),
        "delete_model": lambda: model_admin(model).delete_model(request, obj),
        "delete_queryset": lambda: model_admin(model).delete_queryset(request, model.objects.all()),
    }

    assert_bumped(run(writes[method]))


def test_the_test_factory_moves_it() -> None:
    assert_bumped(run(lambda: registered_emsp("Partner", "tok", ("DE", "AAA"))))


# --- bookkeeping does not ------------------------------------------------------------------


def test_last_contact_and_stale_updates_leave_it_as_it_is() -> None:
    made = registered_emsp("Partner", "tok", ("DE", "AAA"))
    made.last_contact_at = None
    before = generations.current(GENERATION)

    authentication.touch_last_contact(made)
    receiving.stale_update_count(partner=made)

    stored = PartnerPlatform.objects.get()
    assert (stored.last_contact_at, stored.stale_updates) == (made.last_contact_at, 1)
    assert generations.current(GENERATION) == before


def test_a_write_without_a_bump_is_what_the_guard_reports() -> None:
    statements = [
        'UPDATE "credentials_partnerplatform" SET "last_contact_at" = 1 WHERE id = 1',
        'INSERT INTO "ocpi_listgeneration" ("name") VALUES (\'credentials\')',
        'UPDATE "credentials_partnerplatform" SET "status" = \'X\' WHERE id = 1',
    ]

    assert _unbumped(statements) == [statements[2]]
