"""tests/live.py itself: an instance that cannot start says why and leaves nothing behind."""

import socket

import pytest

from tests.credentials.fake_partner import closed_port
from tests.live import LivePlatform, LiveProcessFailed

pytestmark = pytest.mark.live


def test_a_failing_migrate_reports_the_command_output() -> None:
    database = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"
    platform = LivePlatform(env={"DATABASE_URL": database})

    with pytest.raises(LiveProcessFailed) as failure:
        platform.start()

    assert str(failure.value).startswith(
        "cpo: manage.py migrate --no-input --verbosity 0 exited with 1\n"
    )
    assert "Connection refused" in str(failure.value)
    assert not platform.var_dir.exists()


def test_a_server_that_cannot_listen_reports_its_log(capsys: pytest.CaptureFixture[str]) -> None:
    platform = LivePlatform()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", platform.port))
        taken.listen()

        with pytest.raises(LiveProcessFailed) as failure:
            platform.start()

    log = platform.var_dir / "server.log"
    assert str(failure.value).startswith(f"cpo server exited with code 3; last lines of {log}:\n")
    assert str(failure.value).endswith(
        f"error while attempting to bind on address ('127.0.0.1', {platform.port}): "
        "address already in use"
    )
    assert str(failure.value) in capsys.readouterr().err
    assert not platform.var_dir.exists()
