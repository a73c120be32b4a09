"""Files under var/ are private (issue 10, finding 7): the SQLite database, the generated
secret key and the operator's password sit in a folder only its owner can enter."""

import os
from pathlib import Path

from tests.operations.production import run


def development_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
    }


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_var_folder_and_the_key_made_in_it_are_private(tmp_path: Path) -> None:
    done = run(["manage.py", "check"], development_env(tmp_path))

    assert done.returncode == 0, done.stderr
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "secret_key") == 0o600


def test_an_existing_var_folder_is_made_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    var.chmod(0o755)

    done = run(["manage.py", "check"], development_env(tmp_path))

    assert done.returncode == 0, done.stderr
    assert mode(var) == 0o700
