"""monitoring: alerts fire once when a condition starts, once when it ends, and not again
while it lasts; by e-mail (Django's locmem outbox) and to a webhook on loopback."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from config.schedule import beat_schedule
from credentials.models import PartnerPlatform, PartnerStatus
from monitoring import tasks
from monitoring.models import Alert, AlertRule
from monitoring.services import alerts_evaluate
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services
from push.models import Delivery
from tokens.models import PullStatus, TokenPull

pytestmark = pytest.mark.django_db


def push(name: str = "LOC1") -> None:
    change = services.push_change(
        module="locations",
        method="PUT",
        owner=PartyRef.of("NL", "TNM"),
        object_key=f"locations:{name}",
        path=["NL", "TNM", name],
        payload={"id": name},
        targets=services.catalogue_targets("locations"),
    )
    assert change is not None


def events(webhook) -> list[tuple[str, str, str]]:
    return [
        (r.path, r.body["event"], r.body["rule"]) for r in webhook.received if r.method == "POST"
    ]


def subjects() -> list[str]:
    return [str(message.subject) for message in mail.outbox]


def later(minutes: float):
    return now() + timedelta(minutes=minutes)


def test_a_stuck_queue_fires_once_and_clears_once(sink, make_partner, webhook, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    partner = make_partner(sink.url)
    push()

    assert alerts_evaluate(moment=later(29)) == ([], [])
    fired, _ = alerts_evaluate(moment=later(31))
    alerts_evaluate(moment=later(32))  # still stuck: nothing new

    assert [(a.rule, a.partner_id) for a in fired] == [(AlertRule.QUEUE_STUCK, partner.pk)]
    assert fired[0].message.startswith("1 deliveries waiting, the oldest since ")
    assert subjects() == ["[FIRING] Delivery queue stuck: eMSP ABC"]
    assert mail.outbox[0].to == ["ops@example.com", "oncall@example.com"]
    assert events(webhook) == [("/alerts", "fired", "QUEUE_STUCK")]
    body = webhook.received[0].body
    assert body["partner"] == {"id": partner.pk, "name": "eMSP ABC"}
    assert body["cleared_at"] is None

    delivery.deliver_due(partner.pk)
    _, cleared = alerts_evaluate(moment=later(33))
    alerts_evaluate(moment=later(34))

    assert [a.pk for a in cleared] == [fired[0].pk]
    assert subjects()[1:] == ["[RESOLVED] Delivery queue stuck: eMSP ABC"]
    assert events(webhook)[1:] == [("/alerts", "cleared", "QUEUE_STUCK")]
    assert webhook.received[1].body["cleared_at"] is not None
    assert Alert.objects.open().count() == 0


def test_failing_deliveries_fire_after_the_set_minutes_and_clear_when_delivered(
    sink, make_partner, webhook, settings
):
    settings.ALERT_FAILING_MINUTES = 10
    partner = make_partner(sink.url)
    sink.default = (503, 3000)
    push()
    delivery.deliver_due(partner.pk)
    assert Delivery.objects.get().attempts == 1

    assert alerts_evaluate(moment=later(9)) == ([], [])
    fired, _ = alerts_evaluate(moment=later(11))
    alerts_evaluate(moment=later(12))

    assert [a.rule for a in fired] == [AlertRule.DELIVERIES_FAILING]
    assert "1 deliveries failing since " in fired[0].message
    assert "HTTP 503, OCPI 3000" in fired[0].message
    assert subjects() == ["[FIRING] Deliveries failing: eMSP ABC"]
    assert events(webhook) == [("/alerts", "fired", "DELIVERIES_FAILING")]

    sink.default = (200, 1000)
    Delivery.objects.update(next_attempt_at=now())
    delivery.deliver_due(partner.pk)
    alerts_evaluate(moment=later(13))

    assert subjects()[1:] == ["[RESOLVED] Deliveries failing: eMSP ABC"]
    assert events(webhook)[1:] == [("/alerts", "cleared", "DELIVERIES_FAILING")]


def test_a_failed_pull_fires_until_a_later_pull_succeeds(sink, make_partner, webhook):
    partner = make_partner(sink.url)
    started = now() - timedelta(minutes=5)
    TokenPull.objects.create(
        partner=partner, full=False, status=PullStatus.SUCCEEDED, started_at=started
    )
    assert alerts_evaluate(moment=now()) == ([], [])

    TokenPull.objects.create(
        partner=partner,
        full=False,
        status=PullStatus.FAILED,
        started_at=started + timedelta(minutes=1),
        error="HTTP 500 from the partner",
    )
    # A pull still running says nothing yet: the latest finished one decides.
    TokenPull.objects.create(partner=partner, full=True, started_at=started + timedelta(minutes=2))
    fired, _ = alerts_evaluate(moment=now())
    alerts_evaluate(moment=now())

    assert [a.rule for a in fired] == [AlertRule.PULL_FAILED]
    assert fired[0].message.endswith("failed: HTTP 500 from the partner")
    assert subjects() == ["[FIRING] Token pull failed: eMSP ABC"]

    TokenPull.objects.filter(status=PullStatus.RUNNING).update(status=PullStatus.SUCCEEDED)
    _, cleared = alerts_evaluate(moment=now())

    assert [a.rule for a in cleared] == [AlertRule.PULL_FAILED]
    assert subjects()[1:] == ["[RESOLVED] Token pull failed: eMSP ABC"]
    assert events(webhook) == [
        ("/alerts", "fired", "PULL_FAILED"),
        ("/alerts", "cleared", "PULL_FAILED"),
    ]


def test_alerts_are_per_partner(sink, make_partner, webhook, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    first = make_partner(sink.url, party="ABC")
    second = make_partner(sink.url, party="XYZ")
    push()
    delivery.deliver_due(first.pk)  # only the first one's queue moves

    fired, _ = alerts_evaluate(moment=later(31))

    assert [a.partner_id for a in fired] == [second.pk]


def test_a_new_incident_after_a_cleared_one_fires_again(sink, make_partner, webhook, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    partner = make_partner(sink.url)
    push("LOC1")
    alerts_evaluate(moment=later(31))
    delivery.deliver_due(partner.pk)
    alerts_evaluate(moment=later(32))
    push("LOC2")

    fired, _ = alerts_evaluate(moment=later(63))

    assert len(fired) == 1
    assert Alert.objects.filter(partner=partner).count() == 2
    assert [e[1] for e in events(webhook)] == ["fired", "cleared", "fired"]


def test_a_refused_webhook_url_sends_nothing_yet_the_e_mail_goes(
    sink, make_partner, webhook, settings
):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    make_partner(sink.url)
    push()
    settings.OCPI_ALLOW_PRIVATE_URLS = False  # production: loopback refused

    fired, _ = alerts_evaluate(moment=later(31))

    assert len(fired) == 1
    assert webhook.received == []
    assert subjects() == ["[FIRING] Delivery queue stuck: eMSP ABC"]


def test_a_webhook_that_is_down_keeps_neither_e_mail_nor_state_back(
    sink, make_partner, webhook, settings
):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    make_partner(sink.url)
    push()
    webhook.default = (500, 3000)

    fired, _ = alerts_evaluate(moment=later(31))
    again, _ = alerts_evaluate(moment=later(32))

    assert (len(fired), again) == (1, [])
    assert len(webhook.received) == 1
    assert len(mail.outbox) == 1


def test_without_recipients_or_webhook_alerts_are_only_recorded(sink, make_partner, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    settings.ALERT_EMAILS = []
    settings.ALERT_WEBHOOK_URL = ""
    make_partner(sink.url)
    push()

    fired, _ = alerts_evaluate(moment=later(31))

    assert len(fired) == 1
    assert mail.outbox == []


def test_the_beat_task_evaluates_and_is_scheduled(sink, make_partner, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 1
    make_partner(sink.url)
    push()
    # Waiting for two minutes (the task reads the clock itself, at millisecond precision).
    Delivery.objects.update(created_at=later(-2))

    assert tasks.evaluate_alerts() == (1, 0)
    assert tasks.evaluate_alerts() == (0, 0)
    assert beat_schedule()["monitoring-alerts"] == {
        "task": "monitoring.evaluate_alerts",
        "schedule": 60.0,
    }


def test_the_admin_lists_firing_and_cleared_alerts(operator, sink, make_partner, settings):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    partner = make_partner(sink.url)
    push()
    alerts_evaluate(moment=later(31))
    TokenPull.objects.create(
        partner=partner, full=False, status=PullStatus.FAILED, started_at=now(), error="boom"
    )
    alerts_evaluate(moment=later(32))
    TokenPull.objects.create(
        partner=partner, full=False, status=PullStatus.SUCCEEDED, started_at=later(1)
    )
    alerts_evaluate(moment=later(33))
    page = reverse("admin:monitoring_alert_changelist")

    firing = operator.get(page, {"state": "open"}).context["cl"].result_list
    cleared = operator.get(page, {"state": "cleared"}).context["cl"].result_list

    assert [a.rule for a in firing] == [AlertRule.QUEUE_STUCK]
    assert [a.rule for a in cleared] == [AlertRule.PULL_FAILED]
    assert operator.get(page).status_code == 200
    alert = firing[0]
    assert (
        operator.post(reverse("admin:monitoring_alert_delete", args=[alert.pk])).status_code == 403
    )


def test_unregistering_a_partner_clears_its_failed_pull(sink, make_partner, webhook):
    partner = make_partner(sink.url)
    TokenPull.objects.create(
        partner=partner, full=False, status=PullStatus.FAILED, started_at=now(), error="boom"
    )
    alerts_evaluate(moment=now())
    PartnerPlatform.objects.filter(pk=partner.pk).update(status=PartnerStatus.UNREGISTERED)

    _, cleared = alerts_evaluate(moment=now())

    assert [a.rule for a in cleared] == [AlertRule.PULL_FAILED]


def test_a_webhook_that_redirects_is_not_followed_and_logged_as_failed(
    sink, make_partner, webhook, settings, caplog
):
    settings.ALERT_QUEUE_STUCK_MINUTES = 30
    make_partner(sink.url)
    push()
    webhook.default = (302, 1000)
    webhook.headers = lambda received: {"Location": "http://169.254.169.254/latest"}

    alerts_evaluate(moment=later(31))

    assert [r.path for r in webhook.received] == ["/alerts"]
    assert "webhook answered HTTP 302" in caplog.text
