"""`manage.py bootstrap_operator`: the login `make run` prints, made once and kept."""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def admin_login() -> HttpRequest:
    """The request authenticate() is given by the admin's login form (django-axes needs it)."""
    return RequestFactory().post("/admin/login/")


def run(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap_operator", *args, stdout=out)
    return out.getvalue().strip()


def test_first_run_creates_the_superuser_with_a_kept_random_password(var_dir):
    printed = run()

    password = (var_dir / "operator-password").read_text().strip()
    assert printed == f"operator / {password}"
    assert len(password) >= 20
    assert (var_dir / "operator-password").stat().st_mode & 0o777 == 0o600
    user = authenticate(admin_login(), username="operator", password=password)
    assert user is not None
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_later_runs_change_nothing_and_print_the_same_login(var_dir):
    first = run()

    assert run() == first
    assert get_user_model().objects.filter(username="operator").count() == 1


def test_a_database_that_outlived_var_gets_the_new_password(var_dir):
    run()
    (var_dir / "operator-password").unlink()

    printed = run()

    password = (var_dir / "operator-password").read_text().strip()
    assert printed == f"operator / {password}"
    assert authenticate(admin_login(), username="operator", password=password) is not None


def test_a_password_changed_in_the_admin_is_left_alone_until_reset(var_dir):
    run()
    user = get_user_model().objects.get(username="operator")
    user.set_password("changed-by-the-operator")
    user.save()

    assert "password changed since" in run()
    assert (
        authenticate(admin_login(), username="operator", password="changed-by-the-operator")
        is not None
    )

    password = (var_dir / "operator-password").read_text().strip()
    assert run("--reset") == f"operator / {password}"
    assert authenticate(admin_login(), username="operator", password=password) is not None
