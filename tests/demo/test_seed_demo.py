"""`manage.py seed_demo`: the estate it creates, the same one per seed, the demo eMSP's
tokens, only ever added to (what exists is kept as it is), seeded twice without a write or a
push, and clear refusals."""

import io
import shlex
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from credentials.models import LocalParty
from demo import estate
from locations.models import EVSE, Connector, Location
from ocpi.time import now
from push.models import Change
from sessions.models import Session
from tariffs.models import Tariff
from tests.demo.conftest import TARIFFS, rendered_estate, seed, wipe_estate, without_last_updated
from tokens.authorization import Source
from tokens.models import Token
from tokens.services import authorize

pytestmark = pytest.mark.django_db

STAMP = "2026-01-01T00:00:00Z"
TOKENS = (
    "demo eMSP DE*DMO: 3 tokens (3 created, 0 kept): 012345678 (RFID, ALWAYS), "
    "012345679 (RFID, ALLOWED), DEMO-APP-0001 (APP_USER, ALLOWED).\n"
)


def stamps() -> list[object]:
    """last_updated of every location, EVSE, connector and tariff, in a stable order."""
    return [
        list(model.objects.order_by("pk").values_list("pk", "last_updated"))
        for model in (Location, EVSE, Connector, Tariff)
    ]


def test_default_run_seeds_25_locations_with_evses_connectors_and_the_tariffs(cpo_party):
    out, err = seed()

    evses, connectors = EVSE.objects.count(), Connector.objects.count()
    assert list(Location.objects.order_by("pk").values_list("ocpi_id", flat=True)) == [
        f"DEMO-{n:05d}" for n in range(1, 26)
    ]
    assert list(Location.objects.filter(evses=None)) == []
    assert list(EVSE.objects.filter(connectors=None)) == []
    assert Tariff.objects.count() == TARIFFS
    assert {(loc.country_code, loc.party_id) for loc in Location.objects.all()} == {("NL", "TNM")}
    assert out == (
        f"Demo estate of NL*TNM (seed 1): 25 locations (25 created with {evses} EVSEs and "
        f"{connectors} connectors, 0 kept as they were); 44 tariffs (44 created, 0 kept); " + TOKENS
    )
    assert err == ""


def test_the_demo_emsp_tokens_are_cached_valid_and_authorized_from_the_cache(cpo_party):
    seed("--locations", "0")

    assert sorted(
        Token.objects.values_list("country_code", "party_id", "uid", "type", "whitelist", "valid")
    ) == [
        ("DE", "DMO", "012345678", "RFID", "ALWAYS", True),
        ("DE", "DMO", "012345679", "RFID", "ALLOWED", True),
        ("DE", "DMO", "DEMO-APP-0001", "APP_USER", "ALLOWED", True),
    ]
    for uid in ("012345678", "012345679"):
        decision = authorize(party=None, uid=uid)
        assert (decision.allowed, decision.source) == (True, Source.CACHE)


def test_a_demo_token_uid_another_emsp_has_is_not_added(cpo_party):
    theirs = Token.objects.create(
        country_code="NL",
        party_id="EMS",
        uid="012345678",
        type="RFID",
        contract_id="NL-EMS-1",
        issuer="EMS",
        valid=False,
        whitelist="NEVER",
        last_updated=now(),
    )

    out, _ = seed("--locations", "0")

    assert "demo eMSP DE*DMO: 3 tokens (2 created, 1 kept): 012345678 (RFID, ALWAYS)," in out
    assert list(Token.objects.filter(uid="012345678")) == [theirs]
    theirs.refresh_from_db()
    assert (theirs.valid, theirs.whitelist) == (False, "NEVER")


def test_seeding_goes_through_the_services_so_partners_get_tariffs_first(partner):
    seed()

    assert (
        list(Change.objects.order_by("pk").values_list("module", "method"))
        == [("tariffs", "PUT")] * TARIFFS + [("locations", "PUT")] * 25
    )


def test_the_same_seed_twice_changes_nothing_and_pushes_nothing(partner):
    seed()
    changes, before = Change.objects.count(), stamps()

    out, _ = seed()

    assert Change.objects.count() == changes == TARIFFS + 25
    assert stamps() == before
    assert out == (
        "The demo estate of NL*TNM is complete: 25 locations, 44 tariffs and 3 demo eMSP "
        "tokens exist, kept as they are; nothing added.\n"
    )


def test_two_fresh_runs_with_the_same_seed_give_the_same_estate(cpo_party):
    seed("--seed", "7", "--locations", "30")
    first = rendered_estate(cpo_party)
    wipe_estate()

    seed("--seed", "7", "--locations", "30")

    assert without_last_updated(rendered_estate(cpo_party)) == without_last_updated(first)


def test_another_seed_gives_another_estate_under_the_same_ids(cpo_party):
    seed("--seed", "1")
    first_locations, first_tariffs = without_last_updated(rendered_estate(cpo_party))
    wipe_estate()

    seed("--seed", "2")
    locations, tariffs = without_last_updated(rendered_estate(cpo_party))

    assert [loc["id"] for loc in locations] == [loc["id"] for loc in first_locations]
    assert [t["id"] for t in tariffs] == [t["id"] for t in first_tariffs]
    assert [loc for loc in locations if loc in first_locations] == []
    assert locations != first_locations


def test_another_seed_over_an_estate_keeps_every_object_as_it_is(partner):
    """Issue 14: `seed_demo --seed 7` over an existing estate renamed locations (Berlin →
    Paris) and left EVSEs REMOVED. It adds what is missing only."""
    seed("--seed", "1", "--locations", "10")
    before = without_last_updated(rendered_estate(partner_party()))
    changes, kept = Change.objects.count(), stamps()

    out, _ = seed("--seed", "7", "--locations", "12")

    assert stamps()[0][:10] == kept[0]  # the first ten locations: not written at all
    locations, tariffs = without_last_updated(rendered_estate(partner_party()))
    assert locations[:10] == before[0]
    assert tariffs == before[1]
    assert not EVSE.objects.filter(status="REMOVED").exists()
    # The two new ones are seed 7's, and only they are pushed.
    assert [loc["name"] for loc in locations[10:]] == [
        estate.location(
            country_code="NL",
            party_id="TNM",
            operator=partner_party().business_details(),
            seed=7,
            index=index,
            stamp=STAMP,
        )["name"]
        for index in (10, 11)
    ]
    assert list(Change.objects.order_by("pk").values_list("module", flat=True))[changes:] == [
        "locations",
        "locations",
    ]
    assert out.startswith("Demo estate of NL*TNM (seed 7): 12 locations (2 created with ")
    assert "10 kept as they were); 44 tariffs (0 created, 44 kept); " in out


def test_an_operators_changes_to_a_demo_location_are_kept(cpo_party):
    seed("--locations", "2")
    location = Location.objects.get(ocpi_id="DEMO-00001")
    Location.objects.filter(pk=location.pk).update(name="Renamed by the operator")
    EVSE.objects.filter(location=location).update(status="REMOVED")

    out, _ = seed("--locations", "2")

    location.refresh_from_db()
    assert location.name == "Renamed by the operator"
    assert set(location.evses.values_list("status", flat=True)) == {"REMOVED"}
    assert "nothing added" in out


def partner_party() -> LocalParty:
    return LocalParty.objects.get(country_code="NL", party_id="TNM")


def test_more_locations_later_leaves_the_first_ones_as_they_were(cpo_party):
    seed("--locations", "10")
    first_ten = list(Location.objects.order_by("pk").values_list("pk", "last_updated"))

    out, _ = seed("--locations", "25")

    assert list(Location.objects.order_by("pk").values_list("pk", "last_updated"))[:10] == (
        first_ten
    )
    assert out.startswith("Demo estate of NL*TNM (seed 1): 25 locations (15 created with ")
    assert "connectors, 10 kept as they were); 44 tariffs (0 created, 44 kept); " in out


def test_no_locations_seeds_the_tariffs_only(cpo_party):
    out, _ = seed("--locations", "0")

    assert (Location.objects.count(), Tariff.objects.count()) == (0, TARIFFS)
    assert out == (
        "Demo estate of NL*TNM (seed 1): 0 locations (0 created with 0 EVSEs and 0 connectors, "
        "0 kept as they were); 44 tariffs (44 created, 0 kept); " + TOKENS
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--locations", "-1"], "--locations must be between 0 and 99999, not -1."),
        (["--locations", "100000"], "--locations must be between 0 and 99999, not 100000."),
        (["--locations", "many"], "Error: argument --locations: invalid int value: 'many'"),
        (["--seed", "abc"], "Error: argument --seed: invalid int value: 'abc'"),
        (["--colour", "blue"], "Error: unrecognized arguments: --colour blue"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(cpo_party, args, message):
    with pytest.raises(CommandError) as refused:
        seed(*args)

    assert str(refused.value) == message
    assert (Location.objects.count(), Tariff.objects.count(), Token.objects.count()) == (0, 0, 0)


def test_without_an_active_cpo_party_it_says_so(cpo_party):
    cpo_party.is_active = False
    cpo_party.save()
    LocalParty.objects.create(country_code="NL", party_id="MSP", role="EMSP", business_name="M")

    with pytest.raises(CommandError) as refused:
        seed()

    assert str(refused.value) == (
        "There is no active CPO party to own the demo estate: add one in the admin "
        "(Partners and credentials › Local parties) or make one active, then run again."
    )
    assert Tariff.objects.count() == 0


def test_if_empty_only_says_so_when_there_is_no_cpo_party(cpo_party):
    """`make run` goes on starting a platform that hosts no CPO."""
    cpo_party.delete()

    out, _ = seed("--if-empty")

    assert out == (
        "No demo estate seeded. There is no active CPO party to own the demo estate: add one "
        "in the admin (Partners and credentials › Local parties) or make one active, then run "
        "again.\n"
    )


def test_verbosity_0_seeds_quietly(cpo_party):
    out, err = seed("--locations", "2", "--verbosity", "0")

    assert (out, err, Location.objects.count()) == ("", "", 2)


def test_if_empty_seeds_a_fresh_platform(cpo_party):
    out, _ = seed("--if-empty", "--locations", "3")

    assert Location.objects.count() == 3
    assert out.startswith("Demo estate of NL*TNM (seed 1): 3 locations (3 created with ")


def test_if_empty_leaves_a_party_with_a_catalogue_alone(partner):
    seed("--locations", "0")
    changes = Change.objects.count()

    out, _ = seed("--if-empty", "--seed", "2")

    assert (Location.objects.count(), Change.objects.count()) == (0, changes)
    assert out == (
        "NL*TNM already has locations or tariffs: no demo estate seeded "
        "(`manage.py seed_demo` adds what is missing of it anyway).\n"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_stderr_when_asked(cpo_party):
    _, err = seed("--locations", "3", "--progress")

    dots, third = "." * 30, "#" * 10
    assert err == (
        f"\rLocations [{third}{dots[:20]}] 1/3  33%"
        f"\rLocations [{third * 2}{dots[:10]}] 2/3  66%"
        f"\rLocations [{third * 3}] 3/3 100%\n"
    )


def test_progress_is_drawn_for_a_large_estate_on_a_terminal_only(cpo_party):
    terminal, pipe = Terminal(), io.StringIO()

    call_command("seed_demo", "--locations", "51", stdout=io.StringIO(), stderr=terminal)
    call_command("seed_demo", "--locations", "51", stdout=io.StringIO(), stderr=pipe)

    assert terminal.getvalue().endswith(f"\rLocations [{'#' * 30}] 51/51 100%\n")
    assert pipe.getvalue() == ""


def test_the_readme_simulate_session_example_works_on_the_demo_estate(cpo_party):
    """The README's example, as written (its optional [...] left out), on a fresh demo."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "manage.py simulate_session " in line)
    args = shlex.split(line.split("manage.py simulate_session ", 1)[1].split("[")[0])
    seed("--locations", "2")
    out = io.StringIO()

    call_command("simulate_session", *args, stdout=out)

    session = Session.objects.get()
    assert (session.status, session.token_uid, session.token_party_id) == (
        "COMPLETED",
        "012345678",
        "DMO",
    )
    assert session.cdr_location["evse_uid"] == args[args.index("--evse-uid") + 1]
    assert "COMPLETED" in out.getvalue().splitlines()[-1]
