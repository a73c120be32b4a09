"""Test harness for the third-party OCPI eMSP peer in ``extrawest_peer/app.py``.

The peer is built on the PyPI package ``extrawest-ocpi`` (import name
``py_ocpi``), which pins pydantic 1 / FastAPI 0.101 and therefore cannot live
in the project's environment. ``ensure_peer_venv()`` builds a dedicated
virtualenv under ``var/interop/extrawest-venv`` (once, shared by all tests and
parallel workers) and ``ExtrawestPeer`` runs the peer in it as a subprocess on
a free loopback port.

Only the standard library and ``requests`` are used here.

Example::

    with ExtrawestPeer() as peer:
        token_a = peer.issue_token_a()
        # hand token_a + peer.versions_url to our platform, let it register...
        state = peer.state()
"""

from __future__ import annotations

import base64
import fcntl
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

# tests/interop/peer.py -> the repo root is the parent of tests/.
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
APP_DIR = Path(__file__).resolve().parent / "extrawest_peer"
APP_PATH = APP_DIR / "app.py"

# What goes into the peer's venv. The marker file records this list, so
# changing it triggers a rebuild on the next run.
PEER_REQUIREMENTS: Sequence[str] = ("extrawest-ocpi==2025.7.16", "uvicorn")
DEFAULT_VENV_DIR = REPO_ROOT / "var" / "interop" / "extrawest-venv"
MARKER_NAME = ".extrawest-peer-installed.json"

# Python minors to try, best first: the library is developed on 3.10;
# 3.12/3.11 work with its pinned pydantic 1.10.12; 3.13 is a last resort.
PREFERRED_MINORS: Sequence[int] = (10, 12, 11, 13)

OCPI_VERSION = "2.2.1"


class PeerUnavailable(RuntimeError):
    """No usable interpreter for the peer venv (tests may skip on this)."""


def ocpi_token_header(token: str) -> dict[str, str]:
    """``Authorization`` header as OCPI 2.2.x wants it: Base64 of the token."""
    return {"Authorization": "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")}


# --- Interpreter discovery + venv --------------------------------------------------


def _interpreter_candidates() -> Iterator[tuple[int | None, str]]:
    """(expected minor or None, path) in order of preference."""
    forced = os.environ.get("XW_PEER_PYTHON")
    if forced:
        yield None, forced
    home = Path.home()
    for minor in PREFERRED_MINORS:
        # Real pyenv installs first: the pyenv *shims* on PATH fail when that
        # version is not selected by the current pyenv configuration.
        for root in (home / ".pyenv" / "versions", Path("/root/.pyenv/versions")):
            yield from (
                (minor, p)
                for p in sorted(
                    glob.glob(str(root / f"3.{minor}*" / "bin" / "python")), reverse=True
                )
            )
        found = shutil.which(f"python3.{minor}")
        if found:
            yield minor, found
        for prefix in ("/usr/local/bin", "/usr/bin"):
            yield minor, f"{prefix}/python3.{minor}"
    found = shutil.which("python3")
    if found:
        yield None, found


def _probe_minor(python: str) -> int | None:
    """Minor version of a working CPython 3 that can build venvs, else None."""
    if not os.path.exists(python) and not shutil.which(python):
        return None
    try:
        out = subprocess.run(
            [
                python,
                "-c",
                "import sys, venv, ensurepip; print(sys.version_info[0], sys.version_info[1])",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    major, minor = (int(x) for x in out.stdout.split())
    return minor if major == 3 else None


def find_peer_python() -> str:
    """Best interpreter for the peer venv: 3.10, then 3.12, 3.11, 3.13, then
    any python3 >= 3.10 — never the interpreter running the project's tests
    (we must not mix the peer's pins into the project's environment)."""
    own = os.path.realpath(sys.executable)
    seen: set[str] = set()
    for expected, candidate in _interpreter_candidates():
        real = os.path.realpath(shutil.which(candidate) or candidate)
        if real in seen or real == own:
            continue
        seen.add(real)
        minor = _probe_minor(candidate)
        if minor is None or minor < 10:
            continue
        if expected is not None and minor != expected:
            continue
        return candidate
    raise PeerUnavailable(
        "no Python >= 3.10 (other than the project's interpreter) found for the extrawest peer venv"
    )


def _venv_dir() -> Path:
    override = os.environ.get("XW_PEER_VENV")
    return Path(override) if override else DEFAULT_VENV_DIR


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _marker_ok(venv: Path) -> bool:
    marker = venv / MARKER_NAME
    if not marker.is_file() or not _venv_python(venv).exists():
        return False
    try:
        recorded: dict[str, Any] = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded.get("requirements") == list(PEER_REQUIREMENTS))


def ensure_peer_venv() -> Path:
    """Create (once) the peer's virtualenv and return its directory.

    Idempotent and safe for parallel callers (pytest-xdist workers, several
    test sessions): an exclusive fcntl lock serialises builders, and the
    marker file is written last, so a half-built venv is never reused.
    """
    venv = _venv_dir()
    if _marker_ok(venv):  # fast path, no lock needed for a finished venv
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    _ignore_in_git(venv.parent)
    lock_path = venv.parent / (venv.name + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _marker_ok(venv):  # someone else built it while we waited
                return venv
            python = find_peer_python()
            if venv.exists():
                shutil.rmtree(venv)
            _run_checked([python, "-m", "venv", str(venv)], "create the peer venv")
            # pip is configured globally (indexes, certs): use it as is.
            _run_checked(
                [
                    str(venv / "bin" / "pip"),
                    "install",
                    "--disable-pip-version-check",
                    *PEER_REQUIREMENTS,
                ],
                "install the peer requirements",
            )
            version = subprocess.run(
                [str(_venv_python(venv)), "-c", "import sys; print(sys.version.split()[0])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            marker = venv / MARKER_NAME
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "requirements": list(PEER_REQUIREMENTS),
                        "python": version,
                        "base_interpreter": python,
                    },
                    indent=2,
                )
            )
            tmp.replace(marker)
            return venv
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ignore_in_git(directory: Path) -> None:
    # The venv (thousands of files) and its lock are machine-local build
    # output: keep them out of `git status` whatever the root .gitignore says.
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by tests/interop/peer.py\n*\n")


def _run_checked(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"failed to {what}: {' '.join(cmd)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-5000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"
        )


# --- The peer process ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Variable names py_ocpi's settings read from the environment; app.py pins
# the important ones, we also drop them so nothing leaks in from the tests.
_LIBRARY_SETTINGS = (
    "ENVIRONMENT",
    "NO_AUTH",
    "PROJECT_NAME",
    "BACKEND_CORS_ORIGINS",
    "OCPI_HOST",
    "OCPI_PREFIX",
    "PUSH_PREFIX",
    "COUNTRY_CODE",
    "PARTY_ID",
    "PROTOCOL",
    "COMMAND_AWAIT_TIME",
    "GET_ACTIVE_PROFILE_AWAIT_TIME",
    "TRAILING_SLASH",
    "CI_STRING_LOWERCASE_PREFERENCE",
)


class ExtrawestPeer:
    """Runs the extrawest-ocpi eMSP peer for the duration of a ``with`` block.

    Attributes once started: ``base_url`` (``http://127.0.0.1:<port>``),
    ``versions_url`` (``<base_url>/ocpi/versions``), ``details_url``,
    ``port``, ``log_path`` (the peer's combined stdout/stderr, a temp file
    that is removed on a clean exit unless ``keep_log`` or the environment
    variable ``XW_PEER_KEEP_LOGS`` is set; kept and echoed to stderr when the
    ``with`` block raised).
    """

    def __init__(
        self,
        *,
        country_code: str = "DE",
        party_id: str = "XWE",
        modules: Sequence[str] | None = None,
        startup_timeout: float = 30.0,
        extra_env: dict[str, str] | None = None,
        keep_log: bool = False,
    ) -> None:
        self.country_code = country_code
        self.party_id = party_id
        self.modules = list(modules) if modules else None
        self.startup_timeout = startup_timeout
        self.extra_env = dict(extra_env or {})
        self.keep_log = keep_log or bool(os.environ.get("XW_PEER_KEEP_LOGS"))
        self.port: int = 0
        self.base_url = ""
        self.versions_url = ""
        self.details_url = ""
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._http = requests.Session()

    # Lifecycle -------------------------------------------------------------

    def __enter__(self) -> ExtrawestPeer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._http.close()
        if exc_type is not None and self.log_path is not None:
            sys.stderr.write(
                f"\n--- extrawest peer output ({self.log_path}) ---\n"
                f"{self.log_text()[-20000:]}\n---\n"
            )
        elif not self.keep_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def start(self) -> None:
        python = _venv_python(ensure_peer_venv())
        # A port picked by bind(0) could be grabbed by someone else before
        # uvicorn binds it: retry a couple of times on early exit.
        last_error = ""
        for _attempt in range(3):
            if self._start_once(python):
                return
            last_error = self.log_text()
            if "address already in use" not in last_error.lower():
                break
            if self.log_path is not None:
                self.log_path.unlink(missing_ok=True)
        sys.stderr.write(
            f"\n--- extrawest peer failed to start; its output ---\n{last_error}\n---\n"
        )
        raise RuntimeError(
            f"extrawest peer did not start on {self.base_url}; output:\n{last_error[-4000:]}"
        )

    def _start_once(self, python: Path) -> bool:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.versions_url = f"{self.base_url}/ocpi/versions"
        self.details_url = f"{self.base_url}/ocpi/{OCPI_VERSION}/details"
        fd, log_name = tempfile.mkstemp(prefix=f"xw-peer-{self.port}-", suffix=".log")
        self.log_path = Path(log_name)

        env = {k: v for k, v in os.environ.items() if k not in _LIBRARY_SETTINGS}
        # The project's PYTHONPATH / virtualenv must not shadow the peer's
        # pydantic 1 & co.
        for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
            env.pop(key, None)
        env.update(
            COUNTRY_CODE=self.country_code,
            PARTY_ID=self.party_id,
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",  # keep the repo's test tree clean
        )
        if self.modules:
            env["XW_PEER_MODULES"] = ",".join(self.modules)
        env.update(self.extra_env)

        # Output goes to a file, not a pipe: nobody drains a pipe while the
        # tests run, and a full pipe would block the peer.
        with os.fdopen(fd, "wb") as log_file:
            self._proc = subprocess.Popen(
                [str(python), str(APP_PATH), "--host", "127.0.0.1", "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(APP_DIR),
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False
            try:
                # Any HTTP answer (403 without a token) means it is serving.
                requests.get(self.versions_url, timeout=1)
                return True
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    # Control API -------------------------------------------------------------

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        response = self._http.request(
            method, f"{self.base_url}/_control/{path}", json=payload, timeout=60
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"peer control {method} {path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def issue_token_a(self, token: str | None = None) -> str:
        """A fresh registration token (token A) valid for one credentials POST."""
        return str(self._control("POST", "token_a", {"token": token} if token else None)["token"])

    def accept_token(
        self,
        token: str,
        *,
        client_token: str | None = None,
        client_versions_url: str | None = None,
    ) -> dict[str, Any]:
        """Make ``token`` valid for calling the peer (as token C), e.g. before
        handing it to our platform in a credentials POST that the test makes
        on the peer's behalf. Returns the peer's credentials object for it."""
        payload: dict[str, Any] = {"token": token}
        if client_token is not None:
            payload["client_token"] = client_token
        if client_versions_url is not None:
            payload["client_versions_url"] = client_versions_url
        return dict(self._control("POST", "accept_token", payload))

    def state(self) -> dict[str, Any]:
        """Everything the peer holds: clients (tokens both ways, endpoints
        fetched), objects per module, inbound request log, outbound log."""
        return dict(self._control("GET", "state"))

    def reset(self) -> None:
        self._control("POST", "reset")

    def seed_tokens(self, tokens: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store eMSP Tokens (served by GET tokens/ and POST tokens/{uid}/authorize)."""
        return list(self._control("POST", "tokens", list(tokens)))

    def register(self, token_a: str, versions_url: str) -> dict[str, Any]:
        """Make the peer run the credentials handshake as the *sender* against
        another platform (harness code, see README)."""
        return dict(
            self._control("POST", "register", {"token_a": token_a, "versions_url": versions_url})
        )

    def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """Make the peer send an OCPI request to the registered platform with
        the token it holds (module/path/url/json/params/token/...; see README)."""
        return dict(self._control("POST", "call", {"method": method, **kwargs}))

    # Helpers -------------------------------------------------------------------

    def endpoint_url(self, module: str) -> str:
        """Published endpoint URL of a module (always with trailing slash)."""
        path = "clientinfo" if module == "hubclientinfo" else module
        return f"{self.base_url}/ocpi/emsp/{OCPI_VERSION}/{path}/"

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return ocpi_token_header(token)
