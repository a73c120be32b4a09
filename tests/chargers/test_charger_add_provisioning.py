"""chargers.provisioning, the service behind charger_add, the admin and simulate_chargers:
what another writer does between the checks and the insert, and a failure half-way."""

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from chargers import provisioning
from chargers.models import ChargePoint, ChargePointEvse
from chargers.provisioning import (
    charge_point_provision,
    charge_point_set_password,
    charge_point_set_version,
    charge_point_url,
)
from tests.chargers.conftest import estate_location, evse

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(our_parties: Any) -> None:
    estate_location("LOC1", "E1", "E2")


def test_an_evse_mapped_by_another_writer_after_the_checks_is_named(
    estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = provisioning._problems
    calls: list[Any] = []

    def mapped_meanwhile(*args: Any) -> Any:
        found = checks(*args)
        if not calls:  # the other writer maps E2 right after our first look
            other = ChargePoint.objects.create(identity="CP-OTHER")
            ChargePointEvse.objects.create(charge_point=other, ocpp_evse_id=1, evse=found[0][1])
        calls.append(args)
        return found

    monkeypatch.setattr(provisioning, "_problems", mapped_meanwhile)

    with pytest.raises(ValidationError) as raised:
        charge_point_provision(identity="CP-1", evse_refs=["E1", "E2"])

    assert raised.value.messages == [
        "EVSE LOC1/E2 is already mapped to charge point CP-OTHER (OCPP id 1)."
    ]
    assert list(ChargePoint.objects.values_list("identity", flat=True)) == ["CP-OTHER"]
    assert ChargePointEvse.objects.count() == 1


def test_a_failure_after_the_charge_point_row_leaves_nothing(
    estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(charge_point: ChargePoint, raw: str) -> None:
        raise RuntimeError("hasher unavailable")

    monkeypatch.setattr(provisioning, "set_password", failing)

    with pytest.raises(RuntimeError):
        charge_point_provision(identity="CP-1", evse_refs=["E1", "E2"])

    assert not ChargePoint.objects.exists()
    assert not ChargePointEvse.objects.exists()


def test_provisioned_names_evses_in_order_and_the_raw_password(estate: None) -> None:
    provisioned = charge_point_provision(
        identity="CP-1", evse_refs=["E2", "E1"], ocpp_version="2.0.1", security_profile=2
    )

    assert provisioned.evses == [evse("LOC1", "E2"), evse("LOC1", "E1")]
    assert provisioned.url == "ws://ocpp.test:9000/ocpp/CP-1"
    assert provisioned.password is not None
    assert check_password(provisioned.password, provisioned.charge_point.password_hash)
    assert provisioned.charge_point.security_profile == 2


def test_unknown_version_and_profile_are_refused(estate: None) -> None:
    with pytest.raises(ValidationError) as raised:
        charge_point_provision(
            identity="CP-1", evse_refs=["E1"], ocpp_version="1.5", security_profile=4
        )

    assert raised.value.messages == [
        "OCPP version 1.5 is not one of 1.6, 2.0.1.",
        "Security profile 4 is not one of 1, 2, 3.",
    ]


def test_no_evses_is_refused(estate: None) -> None:
    with pytest.raises(ValidationError) as raised:
        charge_point_provision(identity="CP-1", evse_refs=[])

    assert raised.value.messages == ["Give at least one EVSE."]


def test_a_new_password_replaces_the_old_one(estate: None) -> None:
    provisioned = charge_point_provision(identity="CP-1", evse_refs=["E1"])
    charge_point = provisioned.charge_point

    raw = charge_point_set_password(charge_point=charge_point)

    stored = ChargePoint.objects.get(pk=charge_point.pk).password_hash
    assert check_password(raw, stored)
    assert provisioned.password is not None
    assert not check_password(provisioned.password, stored)


def test_a_bad_new_password_keeps_the_old_one(estate: None) -> None:
    provisioned = charge_point_provision(identity="CP-1", evse_refs=["E1"])

    with pytest.raises(ValidationError, match="16 to 40 characters"):
        charge_point_set_password(charge_point=provisioned.charge_point, password="short")

    assert provisioned.password is not None
    stored = ChargePoint.objects.get(identity="CP-1").password_hash
    assert check_password(provisioned.password, stored)


def test_the_version_is_changed_and_checked(estate: None) -> None:
    charge_point = charge_point_provision(identity="CP-1", evse_refs=["E1"]).charge_point

    charge_point_set_version(charge_point=charge_point, ocpp_version="2.0.1")
    with pytest.raises(ValidationError):
        charge_point_set_version(charge_point=charge_point, ocpp_version="3")

    assert ChargePoint.objects.get(identity="CP-1").ocpp_version == "2.0.1"


def test_the_url_takes_a_base_of_its_own() -> None:
    assert charge_point_url("SIM-0001", "wss://cs.example.com/") == (
        "wss://cs.example.com/ocpp/SIM-0001"
    )
