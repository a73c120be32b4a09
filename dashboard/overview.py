"""What the operator's first page shows: the fleet, EVSE statuses, sessions, energy and
revenue, each partner's health (its push queue, last token pull, last error and the alerts
firing for it) and the latest failures.

Every figure comes from the owning app's selectors, each one query whatever the size of the
estate; the per-day charts, the eMSP party ranking and the today/this-month tiles from the
figures the sessions and CDR apps keep per day (ocpi.daily_figures), brought up to date on
each view. A section is computed only for a user who may view its model, so a viewer sees the
figures of what the admin lets them see. "Today" and "this month" are in the admin's time
zone (settings.TIME_ZONE), which the page names.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.urls import reverse
from django.utils import timezone

from cdrs.daily import kept_cdr_figures
from cdrs.selectors import Figures, Revenue, RevenueDay, cdr_top_sites
from chargers.fleet import Presence, charge_point_presence
from credentials.models import PartnerPlatform
from dashboard.charts import BarChart, Ranking, daily_bars, ranked_bars
from locations.models import Status
from locations.selectors import evse_status_counts
from monitoring.models import Alert, AlertRule
from ocpi.time import now
from push.backlog import recent_failed_deliveries, with_delivery_health
from push.breaker import with_breaker_state
from push.models import OPEN_STATUSES, Delivery, DeliveryStatus
from sessions.daily import kept_session_figures
from sessions.models import SessionStatus
from sessions.selectors import SessionDay, SessionTotals, active_session_count
from tokens.models import TokenPull
from tokens.selectors import recent_failed_pulls, with_last_token_pull

DAYS = 30  # the charts' span
RECENT_FAILURES = 10
TOP = 10  # sites and eMSP parties per ranking


def changelist(model: str, **filters: str) -> str:
    """The admin list of `model` ("app_label_modelname"), filtered by `filters`."""
    return filtered(reverse(f"admin:{model}_changelist"), **filters)


def filtered(url: str, **filters: str) -> str:
    """`url` (a list's) filtered by `filters`: reverse once, filter per row."""
    return f"{url}?{urlencode(filters)}" if filters else url


@dataclass(frozen=True)
class Tile:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class PartnerHealth:
    partner: PartnerPlatform
    backlog: int
    failed: int
    oldest_open_at: datetime | None
    last_token_pull_at: datetime | None
    breaker_open_since: datetime | None  # None: closed (push.breaker)
    backlog_url: str
    failed_url: str
    alerts: list[str] | None  # the rules firing for it (None: the user may not view alerts)
    alerts_url: str


@dataclass
class Overview:
    moment: datetime
    zone: str
    presence: Presence | None = None
    evse_statuses: list[Tile] | None = None
    active_sessions: Tile | None = None
    session_totals: SessionTotals | None = None
    revenue: list[Revenue] | None = None
    charts: list[BarChart] | None = None
    rankings: list[Ranking] | None = None
    ranking_top: int = TOP
    partners: list[PartnerHealth] | None = None
    failed_deliveries: list[Delivery] | None = None
    failed_pulls: list[TokenPull] | None = None
    urls: dict[str, str] | None = None


def overview(user: PermissionsMixin | AnonymousUser, moment: datetime | None = None) -> Overview:
    """The figures `user` may see at `moment` (now)."""
    local = timezone.localtime(moment or now())
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    days = [today.date() - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    since = today - timedelta(days=DAYS - 1)
    page = Overview(moment=local, zone=str(local.tzinfo))
    may = user.has_perm
    charts: list[BarChart] = []
    if may("chargers.view_chargepoint"):
        page.presence = charge_point_presence()
        page.urls = {
            "online": changelist("chargers_chargepoint", online="yes"),
            "offline": changelist("chargers_chargepoint", online="no"),
        }
    if may("locations.view_evse"):
        counts, evses = evse_status_counts(), changelist("locations_evse")
        page.evse_statuses = [
            Tile(status, counts.get(status, 0), filtered(evses, status__exact=status))
            for status in Status.values
        ]
    if may("charging_sessions.view_session"):
        page.active_sessions = Tile(
            "active sessions",
            active_session_count(),
            changelist("charging_sessions_session", status__exact=SessionStatus.ACTIVE),
        )
        page.session_totals, per_day = kept_session_figures(
            today=today.date(), month=month.date(), since=since.date()
        )
        charts += _session_charts(days, per_day)
    if may("cdrs.view_cdr"):
        page.revenue, revenue_per_day, partners = kept_cdr_figures(
            today=today.date(), month=month.date(), since=since.date()
        )
        charts += _revenue_charts(days, revenue_per_day)
        page.rankings = _rankings(since, partners)
    page.charts = charts
    if may("credentials.view_partnerplatform"):
        page.partners = _partner_health(alerts=may("monitoring.view_alert"))
    if may("push.view_delivery"):
        page.failed_deliveries = list(recent_failed_deliveries(RECENT_FAILURES))
    if may("tokens.view_tokenpull"):
        page.failed_pulls = list(recent_failed_pulls(RECENT_FAILURES))
    return page


def _sessions(count: Decimal | int) -> str:
    return f"{count} session" if count == 1 else f"{count} sessions"


def _kwh(value: Decimal | int) -> str:
    return f"{value:.1f} kWh"


def _money(currency: str) -> Callable[[Decimal | int], str]:
    return lambda amount: f"{amount:.2f} {currency}"


def _session_charts(days: list[date], per_day: list[SessionDay]) -> list[BarChart]:
    sessions = {row.day: row.sessions for row in per_day}
    energy = {row.day: row.kwh for row in per_day}
    return [
        daily_bars("Sessions per day", days, sessions, _sessions),
        daily_bars("Energy per day", days, energy, _kwh),
    ]


def _revenue_charts(days: list[date], per_day: list[RevenueDay]) -> list[BarChart]:
    per_currency: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for row in per_day:
        per_currency[row.currency][row.day] = row.amount
    return [
        daily_bars(
            f"Revenue per day, {currency} excl. VAT",
            days,
            amounts,
            _money(currency),
        )
        for currency, amounts in sorted(per_currency.items())
    ]


def _named(figures: list[Figures]) -> dict[str, Figures]:
    """Each one under its label; a label two share gets its key too (two sites "Centre")."""
    shared = Counter(one.label for one in figures)  # not list.count: 20,000 sites squared
    return {
        one.label if shared[one.label] == 1 else f"{one.label} ({one.key})": one for one in figures
    }


def _rankings(since: datetime, partners: list[Figures]) -> list[Ranking]:
    """Energy, sessions and revenue (per currency) of the top sites and eMSP parties since
    `since`: the sites' a query whatever their number (20,000 sites hardly add up per day,
    so they are not kept per day; the database hands over only the sites a ranking can
    show, so a label two sites share gets its key when both are among them), the parties'
    kept per day (`partners`)."""
    rankings = []
    # The currencies of the period, as the kept figures found them (one column each).
    currencies = {code for one in partners for code in one.revenue}
    per_site = cdr_top_sites(since=since, top=TOP, currencies=sorted(currencies))
    for figures, what in ((per_site, "site"), (partners, "eMSP party")):
        named = _named(figures)
        kwh = {name: one.kwh for name, one in named.items()}
        sessions = {name: one.sessions for name, one in named.items()}
        rankings += [
            ranked_bars(f"Energy per {what}", kwh, _kwh, TOP),
            ranked_bars(f"Sessions per {what}", sessions, _sessions, TOP),
        ]
        for currency in sorted({code for one in named.values() for code in one.revenue}):
            revenue = {name: one.revenue.get(currency, Decimal(0)) for name, one in named.items()}
            title = f"Revenue per {what}, {currency} excl. VAT"
            rankings.append(ranked_bars(title, revenue, _money(currency), TOP))
    return rankings


def _firing() -> dict[int, list[str]]:
    """The labels of the alert rules firing now, per partner: one query."""
    labels = dict(AlertRule.choices)
    firing: dict[int, list[str]] = defaultdict(list)
    for partner_id, rule in Alert.objects.open().order_by("rule").values_list("partner", "rule"):
        firing[partner_id].append(labels[rule])
    return firing


def _partner_health(*, alerts: bool) -> list[PartnerHealth]:
    partners = with_last_token_pull(
        with_breaker_state(with_delivery_health(PartnerPlatform.objects.order_by("name")))
    )
    firing = _firing() if alerts else None
    deliveries, alerts_list = changelist("push_delivery"), changelist("monitoring_alert")
    health = []
    for partner in partners:
        figures: Any = partner  # the annotations
        health.append(
            PartnerHealth(
                partner=partner,
                backlog=figures.delivery_backlog,
                failed=figures.deliveries_failed,
                oldest_open_at=figures.oldest_open_delivery_at,
                last_token_pull_at=figures.last_token_pull_at,
                breaker_open_since=figures.breaker_open_since,
                backlog_url=filtered(
                    deliveries,
                    partner__id__exact=str(partner.pk),
                    status__in=",".join(OPEN_STATUSES),
                ),
                failed_url=filtered(
                    deliveries,
                    partner__id__exact=str(partner.pk),
                    status__exact=DeliveryStatus.FAILED.value,
                ),
                alerts=None if firing is None else firing.get(partner.pk, []),
                alerts_url=filtered(alerts_list, state="open", partner__id__exact=str(partner.pk)),
            )
        )
    return health
