"""`python manage.py price_cdr --tariff TARIFF.json --cdr CDR.json [--time-zone ZONE]`."""

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocpi import json
from tariffs.engine import (
    TariffError,
    TimelineError,
    price_session,
    tariff_from_ocpi,
    timeline_from_ocpi,
)


class Command(BaseCommand):
    help = (
        "Price a CDR or session with a tariff and print the CDR totals as JSON (total_cost, "
        "total_fixed_cost, total_energy, total_energy_cost, total_time, total_time_cost, "
        "total_parking_time, total_parking_cost, total_reservation_cost). The charging periods "
        "may be all the CDR has: without end_date_time the session ends with its last period. "
        "Local times (tariff restrictions) are read in --time-zone, else the cdr_location's "
        "time_zone if it carries one, else UTC. Money is computed exactly and each total "
        "rounded once to 4 decimals, half up (OCPI number); no per-line or cent rounding."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tariff", required=True, help="A Tariff object (JSON file).")
        parser.add_argument("--cdr", required=True, help="A CDR or Session object (JSON file).")
        parser.add_argument(
            "--time-zone", help="The location's IANA time zone, e.g. Europe/Berlin."
        )
        parser.add_argument(
            "--periods",
            action="store_true",
            help="Also print the charging periods split at every price-component change.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tariff_json = _object(_read(options["tariff"], "tariff"), options["tariff"])
        cdr_json = _object(_read(options["cdr"], "CDR"), options["cdr"])
        try:
            tariff = tariff_from_ocpi(tariff_json)
        except TariffError as exc:
            raise CommandError(f"Invalid tariff in {options['tariff']}: {exc}") from exc
        try:
            timeline = timeline_from_ocpi(cdr_json)
        except TimelineError as exc:
            raise CommandError(f"Invalid CDR in {options['cdr']}: {exc}") from exc
        currency = cdr_json.get("currency")
        if currency is not None and currency != tariff.currency:
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: the CDR is in {currency}, the tariff in {tariff.currency}."
                )
            )
        try:
            cost = price_session(tariff, timeline, self._zone(options["time_zone"], cdr_json))
        except TimelineError as exc:
            raise CommandError(f"Cannot price {options['cdr']}: {exc}") from exc
        output: dict[str, Any] = {"currency": cost.currency, **cost.totals()}
        if options["periods"]:
            output["charging_periods"] = [
                {
                    "start_date_time": p.start_date_time,
                    "dimensions": [
                        {"type": d.type.value, "volume": d.volume} for d in p.dimensions
                    ],
                    "tariff_id": p.tariff_id,
                }
                for p in cost.charging_periods
            ]
        self.stdout.write(json.dumps(output))

    def _zone(self, name: str | None, cdr: dict[str, Any]) -> ZoneInfo:
        location = cdr.get("cdr_location")
        carried = location.get("time_zone") if isinstance(location, dict) else None
        chosen = name or carried
        if not chosen:
            self.stderr.write(
                self.style.WARNING(
                    "Warning: no --time-zone and the CDR's cdr_location has no time_zone; "
                    "reading the tariff's local times as UTC."
                )
            )
            chosen = "UTC"
        try:
            return ZoneInfo(chosen)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"Unknown time zone {chosen!r}.") from exc


def _read(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} file {path}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"The {what} file {path} is not UTF-8 text.") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"The {what} file {path} is not valid JSON: {exc}") from exc


def _object(value: Any, path: str) -> dict[str, Any]:
    """The object itself, or the `data` of an OCPI response saved from a GET."""
    if isinstance(value, dict) and "status_code" in value and isinstance(value.get("data"), dict):
        value = value["data"]
    if not isinstance(value, dict):
        raise CommandError(f"{path} must hold one JSON object.")
    return value
