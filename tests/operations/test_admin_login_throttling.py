"""Admin login throttling (issue 10, finding 7: 25 wrong passwords in 6 s, then the right one
was accepted). django-axes counts failures per username and address; after
ADMIN_LOGIN_FAILURE_LIMIT of them that pair is refused for ADMIN_LOGIN_COOLOFF_SECONDS,
the right password included."""

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from ocpi.time import now

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "the-right-pass-1"
LIMIT = 3
COOL_OFF = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _throttling(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF
    # The production hasher is slow on purpose; these tests are about counting attempts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(django_user_model: Any) -> str:
    django_user_model.objects.create_superuser("admin", "admin@cpo.test", PASSWORD)
    return "admin"


def log_in(username: str, password: str, address: str = "192.0.2.1") -> int:
    """Post the admin's login form from `address`; return the HTTP status (302: logged in)."""
    response = Client(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )
    return response.status_code


def fail(times: int, username: str, address: str = "192.0.2.1") -> list[int]:
    """Post `times` wrong passwords; return the statuses (200: the form again, 429: locked)."""
    return [log_in(username, "wrong", address) for _ in range(times)]


# The form answers the first failures again; the one that reaches the limit locks out.
LOCKING_OUT = [200] * (LIMIT - 1) + [429]


def test_fewer_failures_than_the_limit_leave_the_right_password_working(staff: str) -> None:
    assert fail(LIMIT - 1, staff) == [200] * (LIMIT - 1)

    assert log_in(staff, PASSWORD) == 302


def test_the_right_password_is_refused_after_the_limit_of_failures(staff: str) -> None:
    assert fail(LIMIT, staff) == LOCKING_OUT

    assert log_in(staff, PASSWORD) == 429


def test_a_success_before_the_limit_starts_the_count_again(staff: str) -> None:
    assert fail(LIMIT - 1, staff) == [200] * (LIMIT - 1)
    assert log_in(staff, PASSWORD) == 302

    assert fail(LIMIT - 1, staff) == [200] * (LIMIT - 1)

    assert log_in(staff, PASSWORD) == 302


def test_the_lockout_ends_after_the_cool_off(staff: str) -> None:
    assert fail(LIMIT, staff) == LOCKING_OUT
    assert log_in(staff, PASSWORD) == 429

    AccessAttempt.objects.update(attempt_time=now() - COOL_OFF - timedelta(seconds=1))

    assert log_in(staff, PASSWORD) == 302


def test_axes_reset_lifts_the_lockout(staff: str) -> None:
    assert fail(LIMIT, staff) == LOCKING_OUT

    call_command("axes_reset", stdout=StringIO())

    assert log_in(staff, PASSWORD) == 302


def test_the_lockout_holds_the_username_from_that_address_only(
    staff: str, django_user_model: Any
) -> None:
    django_user_model.objects.create_superuser("other", "other@cpo.test", PASSWORD)

    assert fail(LIMIT, staff, address="192.0.2.1") == LOCKING_OUT

    assert log_in(staff, PASSWORD, address="192.0.2.1") == 429
    assert log_in(staff, PASSWORD, address="198.51.100.7") == 302
    assert log_in("other", PASSWORD, address="192.0.2.1") == 302


def test_the_operator_made_by_bootstrap_operator_logs_in(tmp_path: Path) -> None:
    out = StringIO()
    with override_settings(VAR_DIR=tmp_path):
        call_command("bootstrap_operator", stdout=out)
    username, password = out.getvalue().strip().split(" / ")

    assert log_in(username, password) == 302


def test_bootstrap_operator_reset_lifts_a_lockout_of_the_operator(tmp_path: Path) -> None:
    out = StringIO()
    with override_settings(VAR_DIR=tmp_path):
        call_command("bootstrap_operator", stdout=out)
        username, password = out.getvalue().strip().split(" / ")
        assert fail(LIMIT, username) == LOCKING_OUT
        assert log_in(username, password) == 429

        call_command("bootstrap_operator", "--reset", stdout=StringIO())

    assert log_in(username, password) == 302
