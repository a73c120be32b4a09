"""What a /metrics scrape, an alert check and the reports cost on a large history.

    python bench/monitoring_scrape.py [--deliveries 500000] [--cdrs 200000]

Seeds PostgreSQL (the bench database, recreated) with 20 partners, `--deliveries` deliveries
spread over 30 days (all delivered but 5,000 open), 100 EVSEs, and `--cdrs` CDRs over 12
months, 2,000 sites and the 20 eMSP parties, each a copy of one CDR made with the ORM, by SQL.
Then times, median of 5 runs in this process: monitoring.metrics.exposition() (the scrape
without HTTP), monitoring.services.alerts_evaluate(), CdrQuerySet.report() by month and by
month, site and partner, and the streamed CSV of the latter read to the end.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

PARTNERS = 20
OPEN = 5000


def timed(run: Callable[[], Any], times: int = 5) -> float:
    """Median milliseconds of `times` runs."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def seed(deliveries: int, cdrs: int) -> None:
    from django.db import connection

    from cdrs.models import Cdr
    from credentials.models import PartnerPlatform
    from ocpi.time import now
    from push.models import Change

    for index in range(PARTNERS):
        harness.make_partner(f"eMSP {index}", f"token-{index}", party=f"M{index:02d}")
    harness.seed_locations(0, 20, evses=5)
    change = Change.objects.create(
        module="locations",
        method="PUT",
        object_key="locations:x",
        path=["DE", "CPO", "x"],
        owner_country_code="DE",
        owner_party_id="CPO",
    )
    first_partner = PartnerPlatform.objects.order_by("pk").values_list("pk", flat=True)[0]
    moment = now()
    with connection.cursor() as cursor:
        # Delivered over the last 30 days, 0-120 s after creation; the newest OPEN still open.
        cursor.execute(
            """
            INSERT INTO push_delivery (change_id, partner_id, to_country_code, to_party_id,
                queue_key, status, attempts, next_attempt_at, claimed_at, delivered_at,
                last_http_status, last_ocpi_status, last_error, response_location, created_at)
            SELECT %s, %s + (n %% %s), 'DE', 'M00', 'locations:' || (n %% 1000),
                CASE WHEN n > %s THEN 'PENDING' ELSE 'DELIVERED' END, 1,
                %s - make_interval(secs => (%s - n) * 2592000.0 / %s), NULL,
                CASE WHEN n > %s THEN NULL
                     ELSE %s - make_interval(secs => (%s - n) * 2592000.0 / %s - (n %% 120)) END,
                200, 1000, '', '', %s - make_interval(secs => (%s - n) * 2592000.0 / %s)
            FROM generate_series(1, %s) AS n
            """,
            (change.pk, first_partner, PARTNERS, deliveries - OPEN)
            + (moment, deliveries, deliveries, deliveries - OPEN)
            + (moment, deliveries, deliveries, moment, deliveries, deliveries, deliveries),
        )
    # A CdrToken's fields (no secrets: ruff's S106 reads "token" as one).
    cdr_token = dict(
        zip(
            ["token_country_code", "token_party_id", "token_uid", "token_type"],
            ["DE", "M00", "u", "RFID"],
            strict=True,
        )
    )
    template = Cdr.objects.create(
        **cdr_token,
        country_code="DE",
        party_id="CPO",
        ocpi_id="TEMPLATE",
        start_date_time=moment,
        end_date_time=moment,
        contract_id="c",
        auth_method="WHITELIST",
        cdr_location={"id": "SITE0", "name": "Site"},
        currency="EUR",
        charging_periods=[],
        total_cost_excl_vat=Decimal("10.5"),
        total_cost_incl_vat=Decimal("12.5"),
        total_energy=Decimal("20.25"),
        total_time=Decimal("1"),
        last_updated=moment,
    )
    fields = [
        str(f.column)
        for f in Cdr._meta.concrete_fields
        if f.column
        not in {
            "id",
            "ocpi_id",
            "start_date_time",
            "end_date_time",
            "token_party_id",
            "cdr_location",
        }
    ]
    columns = ", ".join(fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO cdrs_cdr ({columns}, ocpi_id, start_date_time, end_date_time,
                token_party_id, cdr_location)
            SELECT {columns}, 'C' || n, %s - make_interval(days => n %% 365, hours => 1),
                %s - make_interval(days => n %% 365), 'M' || lpad((n %% 20)::text, 2, '0'),
                jsonb_build_object('id', 'SITE' || (n %% 2000), 'name', 'Site ' || (n %% 2000))
            FROM cdrs_cdr, generate_series(1, %s) AS n WHERE cdrs_cdr.id = %s
            """,  # noqa: S608 (column names from the model)
            [moment, moment, cdrs, template.pk],
        )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=500_000)
    parser.add_argument("--cdrs", type=int, default=200_000)
    args = parser.parse_args()
    harness.recreate_database()
    harness.setup_django()
    seed(args.deliveries, args.cdrs)

    from cdrs.admin_reports import columns, report_lines
    from cdrs.models import Cdr
    from monitoring.metrics import exposition
    from monitoring.services import alerts_evaluate
    from ocpi.time import now

    every = ["month", "site", "partner"]
    rows = Cdr.objects.report(by=every).count()
    print(f"{args.deliveries} deliveries ({OPEN} open), {args.cdrs} CDRs, {rows} report rows")
    print(f"/metrics exposition: {timed(exposition):.1f} ms")
    print(f"alerts_evaluate: {timed(lambda: alerts_evaluate(moment=now())):.1f} ms")
    print(f"report by month: {timed(lambda: list(Cdr.objects.report(by=['month']))):.1f} ms")
    print(
        "report by month, site, partner: "
        f"{timed(lambda: list(Cdr.objects.report(by=every))):.1f} ms"
    )

    def stream() -> None:
        rows = Cdr.objects.report(by=every).iterator(chunk_size=2000)
        for _ in report_lines(rows, columns(dimensions=every)):
            pass

    print(f"CSV by month, site, partner, streamed to the end: {timed(stream, 3):.1f} ms")


if __name__ == "__main__":
    main()
