"""`python manage.py bootstrap_operator`: the operator's admin account, made once.

`make run` calls this on every start. The first call creates the superuser `operator` with a
random password kept in var/operator-password (mode 0600), so that a fresh clone has a login
without anyone typing one; later calls change nothing and print the same login again.
`--reset` also lifts a lockout of the account (django-axes, after too many failed logins).
"""

import secrets
from pathlib import Path
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

USERNAME = "operator"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / "operator-password"


def read_or_make_password(path: Path) -> tuple[str, bool]:
    """Return the kept password and whether it was made just now."""
    if path.exists() and (kept := path.read_text().strip()):
        return kept, False
    password = secrets.token_urlsafe(18)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password, True


class Command(BaseCommand):
    help = (
        "Create the superuser 'operator' once, with a random password kept in "
        "var/operator-password, and print the login as 'operator / PASSWORD'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Set the account's password back to the one in var/operator-password and lift "
                "a lockout of the account after too many failed logins."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = password_file()
        password, made_now = read_or_make_password(path)
        if options["reset"]:
            # Whoever runs this on the server may log in again at once, whatever failed before.
            axes_reset(username=USERNAME)
        user_model = get_user_model()
        with transaction.atomic():
            user = user_model.objects.select_for_update().filter(username=USERNAME).first()
            if user is None:
                user_model.objects.create_superuser(username=USERNAME, email="", password=password)
            elif made_now or options["reset"]:
                # The database outlived var/ (e.g. DATABASE_URL on a shared server): the only
                # way to hand out a login we can print is to set the new password.
                user.set_password(password)
                user.is_active = user.is_staff = user.is_superuser = True
                user.save()
            elif not user.check_password(password):
                self.stdout.write(
                    f"{USERNAME} (password changed since; {path} is out of date, "
                    "`manage.py bootstrap_operator --reset` sets it back)"
                )
                return
        self.stdout.write(f"{USERNAME} / {password}")
