"""The figures /metrics exposes, in Prometheus' text format.

Two kinds, so that any web process may answer a scrape:
- Read from the database at scrape time (queue depth, delivery latency, charge points, EVSE
  statuses, firing alerts): the same whichever process answers. A few grouped queries, a
  constant number whatever the estate's size.
- Counted in the process that served the request (OCPI requests by module and status):
  per process, unless PROMETHEUS_MULTIPROC_DIR names a directory shared by the web processes
  (prometheus-client's multiprocess mode), which then adds them up across processes.
"""

import os
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from chargers.fleet import charge_point_presence
from credentials.models import PartnerPlatform
from locations.models import Status
from locations.selectors import evse_status_counts
from monitoring.models import Alert, AlertRule
from ocpi.enums import ModuleID
from ocpi.time import now
from push.models import OPEN_STATUSES, Delivery, DeliveryStatus

# Upper bounds (seconds) of the delivery latency buckets: from a push sent at once to one
# that waited out retries for an hour.
# Floats: str() of each is the label Prometheus clients write (le="30.0").
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

# The counters of this process. In multiprocess mode these are never exposed from here:
# MultiProcessCollector reads every process's files instead.
PROCESS_REGISTRY = CollectorRegistry()
OCPI_REQUESTS = Counter(
    "ocpi_requests",
    "OCPI requests answered, by module and HTTP status.",
    ["module", "status"],
    registry=PROCESS_REGISTRY,
)

# Module labels we count under their own name; anything else is "other", so that a caller
# inventing paths cannot grow the label set.
_MODULES = frozenset(module.value for module in ModuleID)


def ocpi_module(path: str) -> str:
    """The module an /ocpi/ path belongs to: /ocpi/cpo/2.2.1/locations/… is "locations";
    /ocpi/versions and /ocpi/2.2.1 are "versions"; /ocpi/2.2.1/credentials "credentials"."""
    parts = path.split("/", 5)  # "", "ocpi", role or version, …
    if len(parts) < 3:
        return "other"
    if parts[2] in {"cpo", "emsp"} and len(parts) > 4:
        return parts[4] if parts[4] in _MODULES else "other"
    if parts[2] == "versions" or (parts[2] == "2.2.1" and len(parts) == 3):
        return "versions"
    if parts[2] == "2.2.1" and parts[3] == "credentials":
        return "credentials"
    return "other"


def count_request(path: str, status: int) -> None:
    OCPI_REQUESTS.labels(ocpi_module(path), str(status)).inc()


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped."""

    def collect(self) -> Iterator[Metric]:
        yield self._queue_depth()
        yield self._latency()
        yield from self._charge_points()
        yield self._evses()
        yield self._alerts()

    @staticmethod
    def _queue_depth() -> Metric:
        family = GaugeMetricFamily(
            "ocpi_push_queue_depth",
            "Open deliveries to a partner, by state (PENDING: waiting; IN_FLIGHT: claimed).",
            labels=["partner_id", "partner", "status"],
        )
        depth = {
            (row["partner"], row["status"]): row["n"]
            for row in Delivery.objects.filter(status__in=OPEN_STATUSES)
            .values("partner", "status")
            .annotate(n=Count("pk"))
            .order_by()
        }
        # Every partner, zeros included: a series that vanishes is no series at 0.
        for partner_id, name in PartnerPlatform.objects.values_list("pk", "name"):
            for status in OPEN_STATUSES:
                value = depth.get((partner_id, status.value), 0)
                family.add_metric([str(partner_id), name, status.value], value)
        return family

    @staticmethod
    def _latency() -> Metric:
        """Created → delivered of the deliveries delivered in the last window: a gauge
        histogram (the window's distribution, recomputed each scrape), in one query."""
        window = settings.METRICS_LATENCY_WINDOW_SECONDS
        latency = ExpressionWrapper(F("delivered_at") - F("created_at"), DurationField())
        buckets = {
            f"le_{index}": Count("pk", filter=Q(latency__lte=timedelta(seconds=bound)))
            for index, bound in enumerate(LATENCY_BUCKETS)
        }
        figures = (
            Delivery.objects.filter(
                status=DeliveryStatus.DELIVERED,
                delivered_at__gte=now() - timedelta(seconds=window),
            )
            .annotate(latency=latency)
            .aggregate(total=Count("pk"), seconds=Sum("latency"), **buckets)
        )
        total_seconds = figures["seconds"].total_seconds() if figures["seconds"] else 0.0
        return GaugeHistogramMetricFamily(
            "ocpi_push_delivery_latency_seconds",
            f"From a delivery's creation to its delivery, of those delivered in the last "
            f"{window} s.",
            buckets=[
                *((str(bound), figures[f"le_{i}"]) for i, bound in enumerate(LATENCY_BUCKETS)),
                ("+Inf", figures["total"]),
            ],
            gsum_value=total_seconds,
        )

    @staticmethod
    def _charge_points() -> Iterator[Metric]:
        presence = charge_point_presence()
        yield GaugeMetricFamily(
            "ocpi_charge_points_connected",
            "OCPP charge points with an open websocket to a gateway.",
            value=presence.online,
        )
        yield GaugeMetricFamily(
            "ocpi_charge_points",
            "OCPP charge points provisioned.",
            value=presence.online + presence.offline,
        )

    @staticmethod
    def _evses() -> Metric:
        family = GaugeMetricFamily("ocpi_evses", "EVSEs by OCPI status.", labels=["status"])
        counts = evse_status_counts()
        for status in Status:
            family.add_metric([status.value], counts.get(status.value, 0))
        return family

    @staticmethod
    def _alerts() -> Metric:
        family = GaugeMetricFamily(
            "ocpi_alerts_firing", "Open alerts (monitoring), by rule.", labels=["rule"]
        )
        counts = dict(
            Alert.objects.open().values("rule").annotate(n=Count("pk")).values_list("rule", "n")
        )
        for rule in AlertRule:
            family.add_metric([rule.value], counts.get(rule.value, 0))
        return family


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """The text a scrape receives."""
    registry = CollectorRegistry()
    if multiprocess():
        # Registers itself; it reads every process's files (untyped upstream).
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessCounters())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _ProcessCounters(Collector):
    """This process's counters, for a registry assembled per scrape."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS_REGISTRY.collect()
