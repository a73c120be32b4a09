"""The admin's dashboard with a large estate: server time and queries per page.

    python bench/dashboard.py [--locations 2000] [--evses 5] [--sessions 100000] [--rounds 15]

Seeds a fresh PostgreSQL database `ocpi_bench` (BENCH_DATABASE to name another) with
locations of `--evses` EVSEs in mixed statuses, charge points, `--sessions` sessions spread
over the last `--days` days with a CDR for each completed one, partners with push deliveries
(mostly delivered, some open and failed) and token pulls. Then answers GET /admin/ for a
superuser with the admin's index view, in this process (the view and its rendering: no network,
no middleware), and with Django's own index of the same site (the model list without the
overview) in the same run, alternating; each figure is the median of `--rounds`. Targets
(issue 14): the dashboard under 300 ms at 20,000 locations / 100,000 EVSEs / 1,000,000
sessions, and the same number of queries whatever the size; the same for the main lists
(MAIN_LISTS: each list's first page as the admin opens it).
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

STATUSES = ["AVAILABLE"] * 6 + ["CHARGING"] * 3 + ["OUTOFORDER", "UNKNOWN", "REMOVED"]
BATCH = 5000
PARTNERS = 20
# The CdrToken's owner and kind on every session and CDR.
DRIVER = {"token_country_code": "DE", "token_party_id": "MSP", "token_type": "RFID"}


def seed(locations: int, evses: int, sessions: int, days: int) -> dict[str, int]:
    from django.db import connection, transaction

    from cdrs.models import Cdr
    from chargers.models import ChargePoint
    from locations.models import EVSE, Location
    from ocpi.time import now
    from push.models import Change, Delivery, DeliveryStatus
    from sessions.models import Session
    from tests.cdrs.conftest import cdr_location
    from tests.partners import only_local_party
    from tokens.models import PullStatus, TokenPull

    only_local_party("NL", "TNM")
    harness.seed_locations(0, locations, evses=evses, batch=1000)
    with connection.cursor() as cursor:  # mixed statuses, by pk
        for index, status in enumerate(STATUSES):
            cursor.execute(
                "UPDATE locations_evse SET status = %s WHERE id %% %s = %s",
                [status, len(STATUSES), index],
            )
    ChargePoint.objects.bulk_create(
        ChargePoint(identity=f"CP-{n}", gateway="gw-1" if n % 10 else "") for n in range(locations)
    )
    moment = now()
    evse_rows = list(EVSE.objects.order_by("pk").values_list("pk", "location_id"))
    # Each session's CdrLocation names its own site, so the per-site ranking ranks the estate's
    # sites (one CdrLocation for all made it a ranking of one).
    sites = dict(Location.objects.values_list("pk", "ocpi_id"))
    frozen = {pk: cdr_location(id=ocpi_id, name=f"Site {ocpi_id}") for pk, ocpi_id in sites.items()}
    for first in range(0, sessions, BATCH):
        with transaction.atomic():
            rows = []
            for n in range(first, min(first + BATCH, sessions)):
                evse_id, location_id = evse_rows[n % len(evse_rows)]
                start = moment - timedelta(minutes=(n * 37) % (days * 24 * 60))
                active = n % 200 == 0
                rows.append(
                    Session(
                        country_code="NL",
                        party_id="TNM",
                        ocpi_id=f"S{n}",
                        start_date_time=start,
                        end_date_time=None if active else start + timedelta(minutes=40),
                        kwh=Decimal(5 + n % 40) + Decimal("0.25"),
                        **DRIVER,
                        token_uid=f"T{n % 5000}",
                        contract_id=f"DE-C-{n % 5000}",
                        auth_method="WHITELIST",
                        location_id=location_id,
                        evse_id=evse_id,
                        currency="EUR",
                        status="ACTIVE" if active else "COMPLETED",
                        last_updated=start,
                        cdr_location=frozen[location_id],
                        time_zone="Europe/Amsterdam",
                    )
                )
            created = Session.objects.bulk_create(rows)
            Cdr.objects.bulk_create(
                Cdr(
                    country_code="NL",
                    party_id="TNM",
                    ocpi_id=f"C{s.ocpi_id}",
                    start_date_time=s.start_date_time,
                    end_date_time=s.end_date_time,
                    session_id=s.ocpi_id,
                    charging_session_id=s.pk,
                    **DRIVER,
                    token_uid=s.token_uid,
                    contract_id=s.contract_id,
                    auth_method="WHITELIST",
                    cdr_location=s.cdr_location,
                    currency="EUR" if s.pk % 10 else "CHF",
                    charging_periods=[],
                    total_cost_excl_vat=s.kwh * Decimal("0.35"),
                    total_energy=s.kwh,
                    total_time=Decimal("0.67"),
                    last_updated=s.end_date_time,
                )
                for s in created
                if s.end_date_time is not None
            )
    deliveries = 0
    for p in range(PARTNERS):
        partner = harness.make_partner(f"Partner {p:02}", f"bench-token-{p}", party=f"P{p:02}")
        with transaction.atomic():
            changes = Change.objects.bulk_create(
                Change(
                    module="locations",
                    method="PATCH",
                    object_key=f"k{p}-{n}",
                    path=["NL", "TNM", f"BENCH-{n}"],
                    payload={"status": "AVAILABLE"},
                    owner_country_code="NL",
                    owner_party_id="TNM",
                )
                for n in range(BATCH)
            )
            Delivery.objects.bulk_create(
                Delivery(
                    change=change,
                    partner=partner,
                    to_country_code="DE",
                    to_party_id=f"P{p:02}",
                    queue_key=change.object_key,
                    status=(
                        DeliveryStatus.PENDING
                        if n % 100 == 0
                        else DeliveryStatus.FAILED
                        if n % 250 == 1
                        else DeliveryStatus.DELIVERED
                    ),
                    next_attempt_at=moment,
                    last_error="HTTP 503" if n % 250 == 1 else "",
                )
                for n, change in enumerate(changes)
            )
            deliveries += len(changes)
            TokenPull.objects.bulk_create(
                TokenPull(
                    partner=partner,
                    full=n % 24 == 0,
                    status=PullStatus.FAILED if n % 50 == 7 else PullStatus.SUCCEEDED,
                    started_at=moment - timedelta(hours=n),
                    finished_at=moment - timedelta(hours=n) + timedelta(seconds=20),
                    error="HTTP 500" if n % 50 == 7 else "",
                )
                for n in range(24 * 30)
            )
    # The steady state autovacuum keeps a live database in: statistics, and the visibility map
    # that lets a count read an index alone (after bulk inserts, counts read every row).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return sizes()


def sizes() -> dict[str, int]:
    from cdrs.models import Cdr
    from locations.models import EVSE, Location
    from push.models import Delivery
    from sessions.models import Session
    from tokens.models import TokenPull

    return {
        "locations": Location.objects.count(),
        "evses": EVSE.objects.count(),
        "sessions": Session.objects.count(),
        "cdrs": Cdr.objects.count(),
        "deliveries": Delivery.objects.count(),
        "token_pulls": TokenPull.objects.count(),
    }


def timed(view: Any, request: Any) -> tuple[float, int]:
    """Milliseconds to answer and render `request` with `view`, and the queries it made."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the captured queries are a slice of a bounded log
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = view(request)
        response.render()
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed * 1000, len(queries)


# The lists an operator opens most, as the admin opens them (its default filters applied).
MAIN_LISTS = (
    "locations.Location",
    "locations.EVSE",
    "charging_sessions.Session",
    "cdrs.Cdr",
    "push.Delivery",
    "chargers.ChargePoint",
)


def main_lists(site: Any, user: Any, rounds: int) -> list[tuple[str, str]]:
    """Median time and the queries of each list's first page, the admin's view as routed."""
    from django.apps import apps
    from django.test import RequestFactory

    rows = []
    for label in MAIN_LISTS:
        model = apps.get_model(label)
        model_admin = site._registry[model]
        request = RequestFactory().get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        request.user = user
        view = site.admin_view(model_admin.changelist_view)
        timed(view, request)  # warm-up
        runs = [timed(view, request) for _ in range(rounds)]
        median = statistics.median(ms for ms, _ in runs)
        queries = ", ".join(sorted({str(q) for _, q in runs}))
        verdict = harness.verdict(median, 300, at_least=False)
        rows.append((f"list {label}", f"{median:.1f} ms, {queries} queries, {verdict}"))
    return rows


def plain_index(site: Any) -> Any:
    """Django's own index on `site`: the same model list, without the overview."""
    from django.contrib.admin import AdminSite

    def index(request: Any, extra_context: Any = None) -> Any:
        site.index_template = "admin/index.html"
        try:
            return AdminSite.index(site, request, extra_context)
        finally:
            del site.index_template

    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locations", type=int, default=2000)
    parser.add_argument("--evses", type=int, default=5, help="EVSEs per location")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365, help="the sessions' span, to now")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the estate a previous run seeded"
    )
    args = parser.parse_args()
    load_before = harness.load_average()

    if not args.reuse:
        harness.recreate_database()
    harness.setup_django(DJANGO_ALLOWED_HOSTS="testserver")
    started = time.perf_counter()
    estate = sizes() if args.reuse else seed(args.locations, args.evses, args.sessions, args.days)
    seeded = time.perf_counter() - started

    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    # Both views as the admin's URLs wrap them, called in turn on the same request.
    request = RequestFactory().get("/admin/")
    users = get_user_model().objects
    request.user = users.filter(username="bench").first() or users.create_superuser(
        "bench", "b@b.test", "x"
    )
    dashboard = admin.site.admin_view(admin.site.index)
    django_index = admin.site.admin_view(plain_index(admin.site))
    timed(dashboard, request)  # warm-up: templates compiled, connection open
    timed(django_index, request)

    ours: list[tuple[float, int]] = []
    plain: list[tuple[float, int]] = []
    for _ in range(args.rounds):
        ours.append(timed(dashboard, request))
        plain.append(timed(django_index, request))
    ours_ms = statistics.median(ms for ms, _ in ours)
    plain_ms = statistics.median(ms for ms, _ in plain)
    harness.report(
        "Dashboard (/admin/) with a large estate: the view and its rendering, PostgreSQL",
        [
            *((name, f"{count:,}") for name, count in estate.items()),
            ("seeding", f"{seeded:.0f} s"),
            ("dashboard, median", f"{ours_ms:.1f} ms"),
            ("dashboard, queries", ", ".join(sorted({str(q) for _, q in ours}))),
            ("plain admin index, median", f"{plain_ms:.1f} ms"),
            ("plain admin index, queries", ", ".join(sorted({str(q) for _, q in plain}))),
            ("ratio dashboard / plain", f"{ours_ms / plain_ms:.1f}×"),
            ("dashboard target", harness.verdict(ours_ms, 300, at_least=False)),
            *main_lists(admin.site, request.user, args.rounds),
            ("load average before / after", f"{load_before} / {harness.load_average()}"),
        ],
    )


if __name__ == "__main__":
    main()
