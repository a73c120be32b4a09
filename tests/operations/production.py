"""Run a piece of the platform in a process of its own, with an environment made from scratch
(nothing of the test run's: settings are read once, when a process starts)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# Long enough for a cold start on a loaded machine; a process that refuses does so at once.
START_SECONDS = 60


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a production container is given (README, Running in production)."""
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "OCPI_BASE_URL": "https://ocpi.example.com",
        "DJANGO_ALLOWED_HOSTS": "ocpi.example.com,127.0.0.1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "OCPI_TOKEN_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        **extra,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
