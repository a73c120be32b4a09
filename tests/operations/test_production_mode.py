"""Production mode (issue 10, finding 7): one switch gives HSTS, the redirect to https and
Secure cookies, a clean `check --deploy`, a proxy header believed only when named, and no
process starts without the keys and database that must outlive a container."""

import json
from pathlib import Path

import pytest

from config.settings import production_mode
from tests.operations.production import production_env, run

# What a request over plain http sees, asked from a process in production mode. The client
# speaks to the application directly, as the load balancer does (Host: ocpi.example.com).
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(SERVER_NAME="ocpi.example.com")
answers = {}
for name, path, kwargs in [
    ("health", "/healthz", {}),
    ("admin", "/admin/login/", {}),
    ("admin_forwarded", "/admin/login/", {"headers": {"X-Forwarded-Proto": "https"}}),
    ("admin_https", "/admin/login/", {"secure": True}),
]:
    response = client.get(path, **kwargs)
    answers[name] = {
        "status": response.status_code,
        "location": response.get("Location"),
        "hsts": response.get("Strict-Transport-Security"),
        "cookies": sorted(
            (key, bool(morsel["secure"])) for key, morsel in response.cookies.items()
        ),
    }
print(json.dumps(answers))
"""


def probe(tmp_path: Path, **extra: str) -> dict[str, dict[str, object]]:
    done = run(["-c", PROBE], production_env(tmp_path, DJANGO_HSTS_SECONDS="600", **extra))
    assert done.returncode == 0, done.stderr
    answers: dict[str, dict[str, object]] = json.loads(done.stdout.splitlines()[-1])
    return answers


@pytest.mark.parametrize(
    ("env", "production"),
    [
        ({}, False),  # a fresh checkout: http://127.0.0.1:8000
        ({"OCPI_BASE_URL": "http://127.0.0.1:8000"}, False),  # make run, the tests
        ({"OCPI_BASE_URL": "https://ocpi.example.com"}, True),
        ({"OCPI_BASE_URL": "https://ocpi.example.com", "DJANGO_DEBUG": "1"}, False),
        ({"OCPI_BASE_URL": "https://ocpi.example.com", "OCPI_PRODUCTION": "0"}, False),
        ({"OCPI_BASE_URL": "http://10.0.0.5:8000", "OCPI_PRODUCTION": "1"}, True),
    ],
)
def test_production_mode_is_the_switch_or_an_https_base_url(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], production: bool
) -> None:
    for name in ("OCPI_BASE_URL", "OCPI_PRODUCTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("config.settings.DEBUG", env.get("DJANGO_DEBUG") == "1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert production_mode() is production


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    done = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "System check identified no issues (1 silenced).\n"


def test_plain_http_is_redirected_to_https_except_the_health_check(tmp_path: Path) -> None:
    answers = probe(tmp_path)

    assert answers["health"] == {"status": 200, "location": None, "hsts": None, "cookies": []}
    assert answers["admin"] == {
        "status": 301,
        "location": "https://ocpi.example.com/admin/login/",
        "hsts": None,
        "cookies": [],
    }


def test_https_answers_carry_hsts_and_secure_cookies(tmp_path: Path) -> None:
    answers = probe(tmp_path)

    assert answers["admin_https"] == {
        "status": 200,
        "location": None,
        "hsts": "max-age=600; includeSubDomains",
        "cookies": [["csrftoken", True]],
    }


def test_the_proxy_header_is_not_believed_unless_named(tmp_path: Path) -> None:
    answers = probe(tmp_path)

    assert answers["admin_forwarded"]["status"] == 301


def test_the_named_proxy_header_is_believed(tmp_path: Path) -> None:
    answers = probe(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    assert answers["admin_forwarded"] == answers["admin_https"]


PROCESSES = {
    "web": ["-m", "uvicorn", "config.asgi:application", "--lifespan", "off", "--port", "0"],
    "worker": ["-m", "celery", "-A", "config", "worker", "--pool", "solo"],
    "beat": ["-m", "celery", "-A", "config", "beat"],
}


@pytest.mark.parametrize("process", PROCESSES)
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "OCPI_TOKEN_KEY", "DATABASE_URL"])
def test_no_process_starts_in_production_without_its_keys_and_database(
    tmp_path: Path, process: str, missing: str
) -> None:
    env = production_env(tmp_path)
    del env[missing]

    done = run(PROCESSES[process], env)

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: Production mode (OCPI_PRODUCTION, or an "
        f"https OCPI_BASE_URL) needs {missing} set explicitly: without them keys would be "
        f"generated into {tmp_path / 'var'} and data kept in SQLite there, lost when the "
        "container restarts. Set them, or OCPI_PRODUCTION=0 for a development machine."
    )
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_mode_refuses_debug(tmp_path: Path) -> None:
    done = run(
        ["manage.py", "check"], production_env(tmp_path, OCPI_PRODUCTION="1", DJANGO_DEBUG="1")
    )

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        "Production mode (OCPI_PRODUCTION) needs DJANGO_DEBUG off."
    )
