"""One task's window on a partner: up to PUSH_CONCURRENCY requests in flight, chains queued ahead.

The task's thread claims chains (push.claims) and hands them to the sending threads
(push.sending), which never wait for the database: chains wait in the pool's queue while
the task records outcomes (push.outcomes) and claims more. It does so whenever fewer than a
batch of claimed deliveries are outstanding and more may be due (the last claim was full,
or a chain that may have more behind it ended): recording first, so that the queue whose
chain just ended can be claimed again. What is committed meanwhile wakes another task
(push.services.kick). Once the Breaker trips, nothing more is sent and the rest goes back,
to be tried again after a backoff.

Each concern keeps its own state: Endpoints (where each module goes), InFlight (the chains
handed out), Unrecorded (what came back and is not yet in the database), the Breaker.
"""

import logging
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from django.conf import settings

from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient, OcpiClientError
from ocpi.enums import pushed_to
from push import claims, outcomes, problems
from push.claims import Chain, Claimed
from push.sending import Breaker, Outcome, Result, SentChain, backoff, failure, send, send_chain

logger = logging.getLogger(__name__)


class Endpoints:
    """The partner's receiver endpoint per module, looked up and checked once a window
    (ocpi.netsafety: a refused URL fails each request as no answer would)."""

    def __init__(
        self,
        partner: PartnerPlatform,
        client: OcpiClient,
        unsendable: Callable[[list[Claimed], str], None],
    ) -> None:
        self.partner = partner
        self.client = client
        self.unsendable = unsendable  # fails them for good, unsent, and says why
        self.urls: dict[str, str] = {}
        self.refused: dict[str, OcpiClientError] = {}  # per module: why its URL is refused

    def resolve(self, deliveries: list[Claimed]) -> dict[str, str]:
        """Look up the modules not seen yet; fail the deliveries of modules the partner has
        no receiver for. Return the URL of every module that can be sent to. Deliveries to
        an absolute URL need no module endpoint (refuse_urls)."""
        for module in {d.module for d in deliveries if not d.url} - set(self.urls):
            url = self.partner.endpoint_url(module, pushed_to(module))
            if not url:
                unsendable = [d for d in deliveries if d.module == module]
                self.unsendable(unsendable, f"partner has no {module} receiver endpoint")
                continue
            self.urls[module] = url
            try:
                self.client.check(url)
            except OcpiClientError as exc:
                self.refused[module] = exc
        return self.urls

    def refuse_urls(self, deliveries: list[Claimed]) -> set[int]:
        """Fail for good the deliveries to an absolute URL we may not call (the URL, not a
        partner's answer: retrying changes nothing); return their ids."""
        refused: dict[str, list[Claimed]] = {}
        for delivery in deliveries:
            if delivery.url:
                try:
                    self.client.check(delivery.url)
                except OcpiClientError as exc:
                    refused.setdefault(str(exc), []).append(delivery)
        for reason, unsendable in refused.items():
            self.unsendable(unsendable, reason)
        return {d.pk for unsendable in refused.values() for d in unsendable}

    def send(self, delivery: Claimed) -> Outcome:
        """In a sending thread: one request, or the reason its URL is refused."""
        if delivery.url:  # checked by refuse_urls; its host is judged when connecting
            return send(self.client, delivery.url, delivery)
        refused = self.refused.get(delivery.module)
        if refused:
            return failure(refused, time.monotonic())
        return send(self.client, self.urls[delivery.module], delivery)


class InFlight:
    """The chains handed to the sending threads and not yet come back."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._back: queue.SimpleQueue[tuple[Chain, SentChain]] = queue.SimpleQueue()
        self.chains = 0
        self.outstanding = 0  # deliveries in those chains
        self.more_due = True  # whether more of the partner's deliveries may be due now

    def submit(self, chain: Chain, send: Callable[[list[Claimed]], SentChain]) -> None:
        self.chains += 1
        self.outstanding += len(chain.deliveries)
        self._pool.submit(self._send, chain, send)

    def _send(self, chain: Chain, send: Callable[[list[Claimed]], SentChain]) -> None:
        try:
            sent = send(chain.deliveries)
        except BaseException as exc:  # noqa: BLE001 (raised again in the task's thread)
            sent = SentChain(error=exc)
        self._back.put((chain, sent))

    def come_back(self) -> Iterator[SentChain]:
        """Wait for a chain to come back, then take every other one that has."""
        chain, sent = self._back.get()
        while True:
            if sent.error is not None:
                raise sent.error
            self.chains -= 1
            self.outstanding -= len(chain.deliveries)
            self.more_due = self.more_due or chain.continues
            yield sent
            if self._back.empty():
                return
            chain, sent = self._back.get()


class Unrecorded:
    """What the chains that came back did, not yet recorded."""

    def __init__(self, partner_id: int) -> None:
        self.partner_id = partner_id
        self.results: list[Result] = []
        self.held: list[Claimed] = []
        self.paused: list[Claimed] = []
        self.unsent: list[str] = []  # `request: error` of those failed before sending
        self.attempted = 0

    def add(self, sent: SentChain) -> None:
        self.results.extend(sent.results)
        self.held.extend(sent.held)
        self.paused.extend(sent.paused)
        self.attempted += len(sent.results)

    def fail_unsent(self, deliveries: list[Claimed], reason: str) -> None:
        """Fail for good deliveries that nothing could send; the partner's last error says
        so with the others at the next record()."""
        outcomes.fail(deliveries, reason)
        self.unsent.extend(f"{d.request}: {reason}" for d in deliveries)

    def record(self) -> None:
        """Record the outcomes, and put back what a retry holds (paused ones stay claimed
        until the window ends: the breaker stops all claims)."""
        outcomes.save(self.results)
        problems.report(self.partner_id, self.results, self.unsent)
        outcomes.release(self.held, None)
        self.results, self.held, self.unsent = [], [], []


class Window:
    """Send every due delivery of one partner (the module docstring says how)."""

    def __init__(self, partner: PartnerPlatform, client: OcpiClient, pool: ThreadPoolExecutor):
        self.partner = partner
        self.unrecorded = Unrecorded(partner.pk)
        self.endpoints = Endpoints(partner, client, self.unrecorded.fail_unsent)
        self.breaker = Breaker(settings.PUSH_BREAKER_FAILURES)
        self.in_flight = InFlight(pool)
        self.floor = 0  # no open delivery of the partner below it (push.claims)
        self.send = partial(
            send_chain,
            send=self.endpoints.send,
            breaker=self.breaker,
            retry=partner.retry_pushes,
        )

    def run(self) -> int:
        """Claim, send and record until nothing more is due; return how many were attempted."""
        while True:
            if self.wants_more():
                self.unrecorded.record()
                self.claim()
            if self.in_flight.chains:
                for sent in self.in_flight.come_back():
                    self.unrecorded.add(sent)
            elif not self.wants_more():
                break
        self.unrecorded.record()
        if self.unrecorded.paused:
            outcomes.release(self.unrecorded.paused, backoff(2))
            logger.warning("Partner %s unreachable; its pushes pause for a while", self.partner.pk)
        return self.unrecorded.attempted

    def wants_more(self) -> bool:
        """Room for another batch, more may be due, and the partner still answers."""
        return (
            self.in_flight.outstanding < settings.PUSH_BATCH_SIZE
            and self.in_flight.more_due
            and not self.breaker.tripped
        )

    def claim(self) -> None:
        claim = claims.claim(self.partner, settings.PUSH_BATCH_SIZE, self.floor)
        self.floor = claim.floor
        self.in_flight.more_due = claim.full
        for broken, reason in claim.broken:
            self.unrecorded.fail_unsent([broken], reason)
        modules = self.endpoints.resolve(claim.deliveries)
        refused = self.endpoints.refuse_urls(claim.deliveries)
        for chain in claim.chains(modules, refused):
            self.in_flight.submit(chain, self.send)
