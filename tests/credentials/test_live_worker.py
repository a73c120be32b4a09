"""Credentials tasks run by a real Celery worker of a live instance (tests/live.py).

The admin queues rotation, refresh and unregistration as tasks (credentials/admin.py); beat
queues `credentials.check_partners`. Here a real worker process takes them from the broker
(Redis when REDIS_URL is set, else the file-system broker) and talks to the other instance.
"""

from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.credentials.platforms import (
    PartnerState,
    in_parallel,
    invite,
    register,
    state,
    versions_status,
    wait_for,
)
from tests.live import LivePlatform

pytestmark = [pytest.mark.live, pytest.mark.celery]

AT_CPO, AT_EMSP = "emsp", "cpo"


@pytest.fixture(scope="module")
def emsp() -> Iterator[LivePlatform]:
    with LivePlatform(name="emsp", country_code="DE", party_id="EMS", role="EMSP") as platform:
        yield platform


@pytest.fixture(scope="module")
def cpo(emsp: LivePlatform) -> Iterator[LivePlatform]:
    """The CPO, with its worker, registered with the eMSP."""
    with LivePlatform(name="cpo", country_code="NL", party_id="CPO", role="CPO") as platform:
        platform.start_worker()
        register(platform, invite(emsp, AT_EMSP), AT_CPO)
        yield platform


def contact_time(partner: PartnerState) -> datetime:
    assert partner.last_contact_at is not None
    return datetime.fromisoformat(partner.last_contact_at)


def both(cpo: LivePlatform, emsp: LivePlatform) -> list[PartnerState]:
    return in_parallel(lambda: state(cpo, AT_CPO), lambda: state(emsp, AT_EMSP))


def test_a_queued_rotation_is_carried_out_by_the_worker(
    cpo: LivePlatform, emsp: LivePlatform
) -> None:
    before_cpo, before_emsp = both(cpo, emsp)

    cpo.shell(
        "from credentials.tasks import rotate_credentials; "
        f"rotate_credentials.delay({before_cpo.id})"
    )

    wait_for(lambda: state(emsp, AT_EMSP), lambda s: s.incoming != before_emsp.incoming)
    after_cpo, after_emsp = both(cpo, emsp)
    assert (after_cpo.outgoing, after_emsp.outgoing) == (after_emsp.incoming, after_cpo.incoming)
    assert after_cpo.incoming != before_cpo.incoming
    assert versions_status(emsp, before_cpo.outgoing) == 401
    assert versions_status(cpo, before_emsp.outgoing) == 401
    refreshed = in_parallel(
        lambda: cpo.manage("ocpi_partner", "refresh", AT_CPO, check=False),
        lambda: emsp.manage("ocpi_partner", "refresh", AT_EMSP, check=False),
    )
    assert [result.returncode for result in refreshed] == [0, 0]


def test_check_partners_through_the_worker_updates_last_contact(
    cpo: LivePlatform, emsp: LivePlatform
) -> None:
    before = state(cpo, AT_CPO)

    cpo.shell("from credentials.tasks import check_partners; check_partners.delay()")

    after = wait_for(
        lambda: state(cpo, AT_CPO), lambda s: s.last_contact_at != before.last_contact_at
    )
    assert contact_time(after) > contact_time(before)
    assert after.status == "REGISTERED"


def test_beat_schedules_check_partners(cpo: LivePlatform, emsp: LivePlatform) -> None:
    before = state(cpo, AT_CPO)
    beat = cpo.start_beat(env={"OCPI_PARTNER_CHECK_SECONDS": "1"})
    try:
        after = wait_for(
            lambda: state(cpo, AT_CPO), lambda s: s.last_contact_at != before.last_contact_at
        )
    finally:
        beat.stop()

    assert contact_time(after) > contact_time(before)
    assert "Sending due task check-partners (credentials.check_partners)" in beat.log()
