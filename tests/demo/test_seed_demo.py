"""`manage.py seed_demo`: the estate it creates, the same one per seed, updated in place,
seeded twice without a write or a push, and clear refusals."""

import io

import pytest
from django.core.management import CommandError, call_command

from credentials.models import LocalParty
from demo import estate, price_list
from locations.models import EVSE, Connector, Location
from push.models import Change
from tariffs.models import Tariff
from tests.demo.conftest import TARIFFS, rendered_estate, seed, wipe_estate, without_last_updated

pytestmark = pytest.mark.django_db

STAMP = "2026-01-01T00:00:00Z"


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
        "Demo estate of NL*TNM (seed 1): 25 locations (25 created, 0 updated, 0 unchanged) "
        f"with {evses} EVSEs and {connectors} connectors; "
        "44 tariffs (44 created, 0 updated, 0 unchanged).\n"
    )
    assert err == ""


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
        "The demo estate of NL*TNM (seed 1) is up to date: 25 locations and 44 tariffs, "
        "nothing changed.\n"
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


def test_another_seed_updates_the_estate_in_place_and_removes_evses_it_no_longer_has(cpo_party):
    seed("--seed", "1")
    pks = list(Location.objects.order_by("pk").values_list("pk", flat=True))

    out, _ = seed("--seed", "2")

    wanted = {
        evse["uid"]
        for index in range(25)
        for evse in estate.location(
            country_code="NL",
            party_id="TNM",
            operator=cpo_party.business_details(),
            seed=2,
            index=index,
            stamp=STAMP,
        )["evses"]
    }
    assert list(Location.objects.order_by("pk").values_list("pk", flat=True)) == pks
    assert set(EVSE.objects.exclude(status="REMOVED").values_list("uid", flat=True)) == wanted
    assert out.startswith(
        "Demo estate of NL*TNM (seed 2): 25 locations (0 created, 25 updated, 0 unchanged)"
    )
    # Prices move with the seed (the free tariffs cost nothing whatever the seed).
    repriced = sum(
        before != after
        for before, after in zip(
            price_list.tariffs(country_code="NL", party_id="TNM", seed=1, stamp=STAMP),
            price_list.tariffs(country_code="NL", party_id="TNM", seed=2, stamp=STAMP),
            strict=True,
        )
    )
    assert out.endswith(
        f"; 44 tariffs (0 created, {repriced} updated, {TARIFFS - repriced} unchanged).\n"
    )


def test_more_locations_later_leaves_the_first_ones_as_they_were(cpo_party):
    seed("--locations", "10")
    first_ten = list(Location.objects.order_by("pk").values_list("pk", "last_updated"))

    out, _ = seed("--locations", "25")

    assert list(Location.objects.order_by("pk").values_list("pk", "last_updated"))[:10] == (
        first_ten
    )
    assert out.startswith(
        "Demo estate of NL*TNM (seed 1): 25 locations (15 created, 0 updated, 10 unchanged)"
    )


def test_no_locations_seeds_the_tariffs_only(cpo_party):
    out, _ = seed("--locations", "0")

    assert (Location.objects.count(), Tariff.objects.count()) == (0, TARIFFS)
    assert out == (
        "Demo estate of NL*TNM (seed 1): 0 locations (0 created, 0 updated, 0 unchanged) "
        "with 0 EVSEs and 0 connectors; 44 tariffs (44 created, 0 updated, 0 unchanged).\n"
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
    assert (Location.objects.count(), Tariff.objects.count()) == (0, 0)


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
    assert out.startswith("Demo estate of NL*TNM (seed 1): 3 locations (3 created,")


def test_if_empty_leaves_a_party_with_a_catalogue_alone(partner):
    seed("--locations", "0")
    changes = Change.objects.count()

    out, _ = seed("--if-empty", "--seed", "2")

    assert (Location.objects.count(), Change.objects.count()) == (0, changes)
    assert out == (
        "NL*TNM already has locations or tariffs: no demo estate seeded "
        "(`manage.py seed_demo` seeds or refreshes it anyway).\n"
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
