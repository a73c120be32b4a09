"""Sending a chain is a step without the database: these tests have no `db` fixture, so any
query would fail them (pytest-django refuses database access)."""

from ocpi.client import OcpiReply
from push.claims import Claimed
from push.models import DeliveryStatus
from push.sending import Breaker, Outcome, judge, send_chain


def claimed(pk: int, attempts: int = 0) -> Claimed:
    return Claimed(pk, "DE*ABC|locations:NL:TNM:LOC1", attempts, "locations", "PUT", [], None, {})


def answer(http_status: int, status_code: int, location: str = "") -> Outcome:
    headers = {"Location": location} if location else {}
    reply = OcpiReply(http_status, status_code, None, None, headers, 0.012, "{}")
    return Outcome(12, reply, "", transport_failure=False)


NO_ANSWER = Outcome(5, None, "connection refused", transport_failure=True)


def scripted(*outcomes: Outcome):
    """A `send` that answers with `outcomes` in turn and notes what it was asked to send."""
    asked: list[int] = []
    queue = list(outcomes)

    def send(delivery: Claimed) -> Outcome:
        asked.append(delivery.pk)
        return queue.pop(0)

    return send, asked


def test_a_chain_goes_out_in_order_until_a_retry_holds_the_rest():
    send, asked = scripted(answer(200, 1000), answer(503, 3000))
    chain = [claimed(1), claimed(2), claimed(3), claimed(4)]

    sent = send_chain(chain, send=send, breaker=Breaker(3), retry=True)

    assert asked == [1, 2]
    assert [(r.pk, r.status, r.attempts) for r in sent.results] == [
        (1, DeliveryStatus.DELIVERED, 1),
        (2, DeliveryStatus.PENDING, 1),
    ]
    assert sent.results[1].next_attempt_at is not None
    assert ([d.pk for d in sent.held], sent.paused, sent.error) == ([3, 4], [], None)


def test_a_final_failure_holds_nothing():
    send, asked = scripted(answer(200, 2001), answer(200, 1000, "https://e.example/cdrs/1"))

    sent = send_chain([claimed(1), claimed(2)], send=send, breaker=Breaker(3), retry=True)

    assert asked == [1, 2]
    assert [(r.status, r.error, r.location) for r in sent.results] == [
        (DeliveryStatus.FAILED, "HTTP 200, OCPI 2001", ""),
        (DeliveryStatus.DELIVERED, "", "https://e.example/cdrs/1"),
    ]
    assert (sent.held, sent.paused) == ([], [])


def test_the_breaker_pauses_the_rest_of_the_chain_and_every_other_one():
    breaker = Breaker(2)
    send, asked = scripted(NO_ANSWER, NO_ANSWER)

    first = send_chain(
        [claimed(1), claimed(2), claimed(3)], send=send, breaker=breaker, retry=False
    )
    second = send_chain([claimed(4)], send=send, breaker=breaker, retry=False)

    assert asked == [1, 2]
    assert [(r.status, r.error) for r in first.results] == [
        (DeliveryStatus.FAILED, "connection refused"),
        (DeliveryStatus.FAILED, "connection refused"),
    ]
    assert [d.pk for d in first.paused] == [3]
    assert ([d.pk for d in second.paused], second.results) == ([4], [])


def test_an_answer_resets_the_breakers_count():
    breaker = Breaker(2)
    for outcome in (NO_ANSWER, answer(200, 1000), NO_ANSWER):
        breaker.count(outcome)

    assert breaker.tripped is False


def test_no_retry_after_the_last_attempt(settings):
    last = claimed(1, attempts=settings.PUSH_MAX_ATTEMPTS - 1)

    assert judge(last, answer(503, 3000), retry=True).status == DeliveryStatus.FAILED
    assert judge(claimed(1), answer(503, 3000), retry=True).status == DeliveryStatus.PENDING
    assert judge(claimed(1), answer(503, 3000), retry=False).status == DeliveryStatus.FAILED
