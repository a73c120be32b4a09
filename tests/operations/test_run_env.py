"""Issue 14, the first hour: `make run` writes the settings it chose to var/run.env and
manage.py in another shell reads them, its own environment winning (config/runenv.py)."""

import json
import os
import stat
from pathlib import Path

import pytest

from config import runenv
from tests.operations.production import run

# What a fresh `manage.py` process ends up with.
SHOW = (
    "from django.conf import settings; import json; print(json.dumps({"
    "'base': settings.OCPI_BASE_URL, 'ocpp': settings.OCPP_BASE_URL, "
    "'port': settings.PORT, 'private': settings.OCPI_ALLOW_PRIVATE_URLS}))"
)


def shell_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A second shell: nothing of `make run`'s exports, only its own VAR_DIR."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


def settings_seen(env: dict[str, str]) -> dict[str, object]:
    done = run(["manage.py", "shell", "-c", SHOW], env)
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return seen


def make_run_writes(tmp_path: Path, **chosen: str) -> Path:
    """What `make run PORT=…` does first: `python -m config.runenv` with its exports."""
    done = run(["-m", "config.runenv"], shell_env(tmp_path, **chosen))
    assert done.returncode == 0, done.stderr
    return tmp_path / "var" / "run.env"


def test_a_second_shell_sees_the_port_and_private_urls_make_run_chose(tmp_path: Path) -> None:
    path = make_run_writes(
        tmp_path,
        HOST="127.0.0.1",
        PORT="9100",
        OCPI_BASE_URL="http://127.0.0.1:9100",
        OCPP_PORT="10100",
        OCPP_BASE_URL="ws://127.0.0.1:10100",
        OCPI_ALLOW_PRIVATE_URLS="1",
    )

    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it may hold a database password
    assert settings_seen(shell_env(tmp_path)) == {
        "base": "http://127.0.0.1:9100",
        "ocpp": "ws://127.0.0.1:10100",
        "port": 9100,
        "private": True,
    }


def test_without_the_file_the_defaults_apply(tmp_path: Path) -> None:
    assert settings_seen(shell_env(tmp_path)) == {
        "base": "http://127.0.0.1:8000",
        "ocpp": "ws://127.0.0.1:9000",
        "port": 8000,
        "private": False,
    }


def test_the_shells_own_environment_wins_over_the_file(tmp_path: Path) -> None:
    make_run_writes(
        tmp_path, PORT="9100", OCPI_BASE_URL="http://127.0.0.1:9100", OCPI_ALLOW_PRIVATE_URLS="1"
    )

    seen = settings_seen(
        shell_env(tmp_path, OCPI_BASE_URL="http://cpo.test:7000", OCPI_ALLOW_PRIVATE_URLS="0")
    )

    assert seen["base"] == "http://cpo.test:7000"
    assert seen["private"] is False
    assert seen["port"] == 9100  # what the shell leaves unset still comes from the file


def test_a_production_process_never_reads_the_file(tmp_path: Path) -> None:
    make_run_writes(tmp_path, OCPI_ALLOW_PRIVATE_URLS="1", OCPI_BASE_URL="http://127.0.0.1:9100")

    seen = settings_seen(
        shell_env(
            tmp_path,
            OCPI_PRODUCTION="1",
            DJANGO_SECRET_KEY="k" * 50,
            OCPI_TOKEN_KEY="t" * 32,
            DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        )
    )

    assert seen["private"] is False
    assert seen["base"] == "http://127.0.0.1:8000"


def test_unset_names_are_left_out_and_line_breaks_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.env"
    runenv.write(path, {"PORT": "9100", "DATABASE_URL": "", "JUNK": "x"})

    assert runenv.read(path) == {"PORT": "9100"}
    with pytest.raises(ValueError, match="OCPI_BASE_URL holds a line break"):
        runenv.write(path, {"OCPI_BASE_URL": "http://a\nOCPI_ALLOW_PRIVATE_URLS=1"})
    assert runenv.read(path) == {"PORT": "9100"}  # the earlier file stands


def test_unknown_names_in_the_file_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "run.env"
    path.write_text("# comment\nDJANGO_SECRET_KEY=x\nPORT=9100\nnonsense\n")

    assert runenv.read(path) == {"PORT": "9100"}
    assert runenv.read(tmp_path / "missing.env") == {}
