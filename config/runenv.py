"""The settings `make run` chose, kept in $VAR_DIR/run.env for the commands of other shells.

`make run` works out HOST, PORT, OCPI_BASE_URL, OCPP_PORT, OCPP_BASE_URL and
OCPI_ALLOW_PRIVATE_URLS (from the command line, .env and the shell) and exports them to its
own processes only. It writes them here too (`python -m config.runenv`), and manage.py reads
the file, so that `manage.py ocpi_invite` in a second shell prints the versions URL of the
running platform and `ocpi_register` accepts the same loopback partners.

What a process's own environment sets wins over the file. A production process (OCPI_PRODUCTION
on in its environment) never reads it: a file left by a `make run` on that machine must not
turn on private partner URLs there.
"""

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from config.environment import env_bool

BASE_DIR = Path(__file__).resolve().parent.parent
FILE_NAME = "run.env"
# What `make run` exports to its processes; the storage URLs too when set, so that a second
# shell's commands use the same database and broker as the running platform.
NAMES = (
    "HOST",
    "PORT",
    "OCPI_BASE_URL",
    "OCPP_PORT",
    "OCPP_BASE_URL",
    "OCPI_ALLOW_PRIVATE_URLS",
    "DATABASE_URL",
    "REDIS_URL",
)


def var_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder for local state (VAR_DIR), where the file lives."""
    return Path(environ.get("VAR_DIR") or BASE_DIR / "var")


def write(path: Path, environ: Mapping[str, str], names: Iterable[str] = NAMES) -> None:
    """Write the set ones of `names` as NAME=value lines, readable by the owner only (it may
    hold a database URL with its password)."""
    lines = []
    for name in names:
        value = environ.get(name, "")
        if not value:
            continue
        if "\n" in value or "\r" in value:
            raise ValueError(f"{name} holds a line break; it cannot be written to {path}")
        lines.append(f"{name}={value}\n")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("# Written by `make run`: the settings it chose (config/runenv.py).\n")
        file.writelines(lines)
    temporary.replace(path)  # a reader never sees half a file


def read(path: Path) -> dict[str, str]:
    """The NAME=value lines of the file (none when it does not exist); other lines ignored."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name in NAMES:
            values[name] = value
    return values


def load() -> dict[str, str]:
    """Put the file's values into this process's environment where it has none (unset or
    empty); return what was added."""
    if env_bool("OCPI_PRODUCTION", False):
        return {}
    added = {}
    for name, value in read(var_dir() / FILE_NAME).items():
        if not os.environ.get(name):
            os.environ[name] = added[name] = value
    return added


if __name__ == "__main__":  # `make run`: python -m config.runenv
    target = var_dir() / FILE_NAME
    write(target, os.environ)
    sys.stdout.write(f"Settings for commands in other shells: {target}\n")
