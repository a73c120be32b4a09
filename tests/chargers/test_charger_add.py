"""`manage.py charger_add`: the outside contract (README, Charge points): one JSON object with
the identity, the URL and the password; clear refusals that store nothing."""

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from chargers.connections import password_matches
from chargers.models import ChargePoint, ChargePointEvse
from tests.chargers.conftest import estate_location, evse

pytestmark = pytest.mark.django_db


def charger_add(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("charger_add", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def as_json(*args: str) -> dict[str, Any]:
    out, _ = charger_add(*args, "--json")
    loaded: dict[str, Any] = json.loads(out)
    return loaded


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        charger_add(*args)
    return str(raised.value)


@pytest.fixture
def estate(our_parties: Any) -> None:
    estate_location("LOC1", "E1", "E2", "E3")
    estate_location("LOC2", "E1", "X9")


def test_json_names_the_url_password_and_evses_in_ocpp_id_order(estate: None) -> None:
    printed = as_json("CP-001", "--evse-uid", "E2", "--evse-uid", "LOC1/E3", "--ocpp", "2.0.1")

    charge_point = ChargePoint.objects.get(identity="CP-001")
    assert printed["identity"] == "CP-001"
    assert printed["url"] == "ws://ocpp.test:9000/ocpp/CP-001"
    assert printed["ocpp_version"] == "2.0.1"
    assert printed["security_profile"] == 1
    assert printed["evses"] == [
        {"ocpp_id": 1, "evse_uid": "E2", "location_id": "LOC1", "evse_id": "BE*BEC*ELOC1E2"},
        {"ocpp_id": 2, "evse_uid": "E3", "location_id": "LOC1", "evse_id": "BE*BEC*ELOC1E3"},
    ]
    assert [(link.ocpp_evse_id, link.evse) for link in charge_point.evses.all()] == [
        (1, evse("LOC1", "E2")),
        (2, evse("LOC1", "E3")),
    ]
    assert charge_point.ocpp_version == "2.0.1"


def test_a_made_password_is_printed_once_and_only_its_hash_is_stored(estate: None) -> None:
    printed = as_json("CP-001", "--evse-uid", "X9")

    stored = ChargePoint.objects.get(identity="CP-001").password_hash
    assert 20 <= len(printed["password"]) <= 40
    assert printed["password"] not in stored
    assert password_matches(stored, printed["password"])


def test_a_given_password_is_kept_as_its_hash(estate: None) -> None:
    printed = as_json("CP-001", "--evse-uid", "X9", "--password", "correct-horse-battery")

    assert printed["password"] == "correct-horse-battery"
    assert password_matches(
        ChargePoint.objects.get(identity="CP-001").password_hash, "correct-horse-battery"
    )


def test_the_identity_is_percent_encoded_in_the_url(estate: None) -> None:
    printed = as_json("NL*TNM|7@hall.B", "--evse-uid", "X9")

    assert printed["url"] == "ws://ocpp.test:9000/ocpp/NL%2ATNM%7C7%40hall.B"


def test_security_profile_3_has_no_password_and_plain_ws_is_warned_about(estate: None) -> None:
    out, err = charger_add("CP-TLS", "--evse-uid", "X9", "--security-profile", "3", "--json")

    printed = json.loads(out)
    assert printed["password"] is None
    assert printed["security_profile"] == 3
    assert ChargePoint.objects.get(identity="CP-TLS").password_hash == ""
    assert "needs TLS" in err


def test_without_json_a_readable_summary(estate: None) -> None:
    out, _ = charger_add("CP-001", "--evse-uid", "X9", "--password", "correct-horse-battery")

    assert "Charge point CP-001 (OCPP 1.6, security profile 1)" in out
    assert "URL:      ws://ocpp.test:9000/ocpp/CP-001" in out
    assert "password: correct-horse-battery  (shown once: only a hash is kept)" in out
    assert "OCPP id 1: EVSE LOC2/X9 BE*BEC*ELOC2X9" in out


def test_an_ambiguous_uid_is_refused_with_its_candidates(estate: None) -> None:
    message = refusal("CP-001", "--evse-uid", "E1")

    assert "EVSE uid E1 is at several locations (LOC1/E1, LOC2/E1)" in message
    assert "LOCATION_ID/EVSE_UID" in message
    assert not ChargePoint.objects.exists()


def test_location_and_uid_pick_one_of_the_ambiguous_ones(estate: None) -> None:
    printed = as_json("CP-001", "--evse-uid", "loc2/e1")

    assert printed["evses"][0]["location_id"] == "LOC2"
    assert ChargePointEvse.objects.get().evse == evse("LOC2", "E1")


def test_every_problem_is_named_and_nothing_is_stored_half_way(estate: None) -> None:
    as_json("CP-OLD", "--evse-uid", "LOC1/E3")

    message = refusal(
        "CP-001",
        "--evse-uid",
        "LOC1/E2",
        "--evse-uid",
        "NOPE",
        "--evse-uid",
        "LOC1/E3",
        "--evse-uid",
        "LOC1/E2",
        "--evse-uid",
        "LOC9/E1",
    )

    assert message.splitlines() == [
        "Nothing stored:",
        "  No EVSE with uid NOPE.",
        "  EVSE LOC1/E3 is already mapped to charge point CP-OLD (OCPP id 1).",
        "  EVSE LOC1/E2 is given twice.",
        "  No EVSE with uid E1 at location LOC9.",
    ]
    assert list(ChargePoint.objects.values_list("identity", flat=True)) == ["CP-OLD"]
    assert ChargePointEvse.objects.count() == 1


@pytest.mark.parametrize(
    "identity", ["CP:1", "CP/1", "CP 1", "CPé", "", "C" * 49, "CP\n1", "CP#1", "CP%41"]
)
def test_an_identity_outside_the_ocpp_rule_is_refused(estate: None, identity: str) -> None:
    message = refusal(identity, "--evse-uid", "X9")

    assert f"Identity {identity!r} is not allowed: 1 to 48 of the characters" in message
    assert not ChargePoint.objects.exists()


def test_the_longest_identity_is_allowed(estate: None) -> None:
    assert as_json("C" * 48, "--evse-uid", "X9")["identity"] == "C" * 48


def test_a_taken_identity_is_refused_whatever_its_case(estate: None) -> None:
    as_json("CP-001", "--evse-uid", "X9")

    message = refusal("cp-001", "--evse-uid", "LOC1/E1")

    assert "Identity cp-001 is taken by charge point CP-001." in message
    assert ChargePoint.objects.count() == 1
    assert ChargePointEvse.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-password", "16 to 40 characters long (it has 14)"),
        ("p" * 41, "16 to 40 characters long (it has 41)"),
        ("with spaces in the password", "printable ASCII characters only, no spaces"),
    ],
)
def test_a_password_outside_the_whitepaper_is_refused(
    estate: None, password: str, problem: str
) -> None:
    assert problem in refusal("CP-001", "--evse-uid", "X9", "--password", password)
    assert not ChargePoint.objects.exists()


def test_a_removed_evse_is_refused(our_parties: Any) -> None:
    estate_location("LOC3", "R1", status="REMOVED")

    assert "EVSE LOC3/R1 is REMOVED." in refusal("CP-001", "--evse-uid", "R1")
    assert not ChargePoint.objects.exists()


def test_the_evse_option_is_required() -> None:
    with pytest.raises(CommandError, match="--evse-uid"):
        charger_add("CP-001")
