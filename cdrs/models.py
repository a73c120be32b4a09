"""Charge detail records (mod_cdrs.asciidoc): the sealed invoice of a completed session.

A CDR is owned by the CPO party of its session (country_code, party_id) and goes to the eMSP
party that owns its token (the CdrToken's country_code and party_id), which alone may read it.

Immutable: "a CDR … cannot be changed or replaced once sent" and "cannot be deleted. Instead,
they have to be credited" (mod_cdrs, Flow and Lifecycle, Credit CDRs). cdrs.services only
ever INSERTs; `save()` refuses an existing row and `delete()` refuses always, so no code path
(the admin included) can change what a partner was sent. A correction is a credit CDR: a new
row pointing at the original (`original`, at most one per original), then possibly a corrected
CDR with a new id pointing at it (`corrects`, at most one).

Totals are Decimal columns (Price pairs as `<total>_excl_vat` / `<total>_incl_vat`), so the
admin sums and filters them; what is only ever sent as it is (the frozen CdrLocation and
Tariffs, the charging periods, SignedData) is JSON in its OCPI form, numbers exact.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, cast

from django.db import models
from django.db.models import Count, DateField, F, Max, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Length, TruncDate, TruncMonth, Upper
from django.db.models.lookups import LessThanOrEqual

from ocpi.json import exact_json_field
from ocpi.querysets import TokenOwnedQuerySet
from ocpi.routing import PartyRef
from push.models import Change
from sessions.models import MONEY_DIGITS, MONEY_PLACES, AuthMethod, Session
from tokens.models import TokenType

# CDR.id is CiString(39), but a CDR that is no credit CDR SHALL have at most 36 characters:
# the 3 more are for the suffix of a credit CDR.
ID_LENGTH = 36
CREDIT_ID_LENGTH = 39
# Every Price of a CDR, by field name: the total_cost and the cost of each category.
PRICE_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


class ImmutableCdr(Exception):
    """A CDR that exists cannot be changed or deleted (mod_cdrs, Flow and Lifecycle)."""


def _money(**kwargs: Any) -> "models.DecimalField[Any, Any]":
    return models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True, **kwargs
    )


class CiUpper(Upper):
    """UPPER of an OCPI CiString, which is ASCII (OCPI 2.2.1, types, CiString). On PostgreSQL
    in the "C" collation, whose upper case is ASCII-only: the database's locale upper-cases
    through wide characters, 12 of the 82 ms the site ranking's aggregation took at 1,000,000
    CDRs (bench/RESULTS.md). SQLite's UPPER is ASCII-only already."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = 'UPPER(%(expressions)s COLLATE "C")'
        return self.as_sql(compiler, connection, template=template, **extra_context)


# What a report can group by (CdrQuerySet.report): each a set of columns of its rows. Months
# in UTC, by when the session ended; a site is a location of one of our parties, as the CDR
# sealed it (by id); a partner is the eMSP party that owns the token.
REPORT_DIMENSIONS: dict[str, dict[str, Any]] = {
    "month": {"month": TruncMonth("end_date_time", output_field=DateField(), tzinfo=UTC)},
    "site": {
        "site_country_code": CiUpper("country_code"),
        "site_party_id": CiUpper("party_id"),
        "site_id": F("sealed_site_id"),
    },
    "partner": {
        "emsp_country_code": CiUpper("token_country_code"),
        "emsp_party_id": CiUpper("token_party_id"),
    },
}


# CdrQuerySet.report(revenue_in=…)'s column of the revenue excl. VAT in one currency.
REVENUE_IN = "revenue_excl_vat_{}"


# The columns the date-range figures read besides end_date_time (see Meta.indexes, cdr_end):
# the revenue per day and currency and every REPORT_DIMENSIONS column but the month's.
COVERED = [
    "id",  # the test that a CDR was not replaced (CdrQuerySet.report)
    "country_code",
    "party_id",
    "sealed_site_id",
    "sealed_site_name",
    "token_country_code",
    "token_party_id",
    "currency",
    "credit",
    "total_energy",
    "total_cost_excl_vat",
    "total_cost_incl_vat",
]


class CdrQuerySet(TokenOwnedQuerySet["Cdr"]):
    """CDRs of our parties (for_party), seen by the eMSPs of their tokens (for_token_parties)."""

    def ended_in(self, start: datetime | None, end: datetime | None) -> "CdrQuerySet":
        """CDRs whose session ended in [start, end); None leaves that side open."""
        within = self
        if start is not None:
            within = within.filter(end_date_time__gte=start)
        if end is not None:
            within = within.filter(end_date_time__lt=end)
        return within

    def at_site(self, location_id: str) -> "CdrQuerySet":
        """CDRs of sessions at the location of this OCPI id (a CiString), as sealed."""
        return self.filter(cdr_location__id__iexact=location_id)

    def of_session(self, session: Session) -> "CdrQuerySet":
        """The CDR built for `session` (its id is the session's, in the session's party):
        not a credit or a correction of it."""
        return self.for_party(session.party).filter(ocpi_id__ci=session.ocpi_id)

    def report(
        self,
        *,
        by: Sequence[str],
        days_in: tzinfo | None = None,
        revenue_in: Sequence[str] | None = None,
    ) -> "models.QuerySet[Cdr, dict[str, Any]]":
        """Sessions, energy and revenue grouped `by` REPORT_DIMENSIONS names and currency
        (amounts in different currencies are never added up): one row per group, one query;
        per `day` (of the session's end) too with `days_in` a time zone.

        With `revenue_in` (currency codes), the rows are not per currency: each has
        revenue_excl_vat_<CODE> per code given (None: no CDR in it), and sessions and kWh of
        the CDRs of every currency; one group per row where the caller adds up per group anyway
        (REVENUE_IN names the columns).

        Revenue is net: a credit CDR's negated costs take its original's back and a corrected
        CDR adds its own. Sessions and kWh count each charge once: the CDRs that stand, neither
        credit CDRs nor ones a corrected CDR replaced (a credit without a correction refunds
        the money; the energy was still delivered). incl. VAT sums the CDRs that state it.
        """
        columns: dict[str, Any] = {}
        for name in by:
            columns |= REPORT_DIMENSIONS[name]
        if days_in is not None:
            columns["day"] = TruncDate("end_date_time", tzinfo=days_in)
        # One name per site (of those its CDRs sealed, the greatest): a renamed site stays one row.
        named = {"site_name": Max("sealed_site_name")} if "site" in by else {}
        # Not replaced: no corrected CDR points here. The CDRs a correction replaced are few;
        # PostgreSQL hashes their ids once (a hashed NOT IN, found by cdr_corrected_once) and
        # probes that set per CDR, cheaper than a join of every CDR (bench/RESULTS.md). The
        # subquery never yields NULL, so NOT IN means "none of these".
        replaced = Cdr.objects.filter(corrects__isnull=False).values("corrects")
        stands = Q(credit=False) & ~Q(pk__in=replaced)
        # Currencies are stored upper case (cdr_currency_iso4217): no UPPER per CDR.
        if revenue_in is not None:
            revenue = {
                REVENUE_IN.format(code): Sum("total_cost_excl_vat", filter=Q(currency=code))
                for code in revenue_in
            }
        else:
            columns["currency_code"] = F("currency")
            revenue = {
                "revenue_excl_vat": Sum("total_cost_excl_vat"),
                "revenue_incl_vat": Sum("total_cost_incl_vat"),
            }
        rows = (
            self.order_by()
            .values(**columns)
            .annotate(
                sessions=Count("pk", filter=stands),
                energy_kwh=Sum("total_energy", filter=stands),
                **revenue,
                **named,
            )
            .order_by(*columns)
        )
        return cast("models.QuerySet[Cdr, dict[str, Any]]", rows)


class Cdr(models.Model):
    # The CPO party that owns the CDR (the session's owner).
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=CREDIT_ID_LENGTH)
    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField()
    # The OCPI id of the session, sent as session_id; and the session itself, for the admin.
    session_id = models.CharField(max_length=36, blank=True)
    charging_session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="cdrs"
    )
    # CdrToken: its owner is the one eMSP that receives and may read the CDR.
    token_country_code = models.CharField(max_length=2)
    token_party_id = models.CharField(max_length=3)
    token_uid = models.CharField(max_length=36)
    token_type = models.CharField(max_length=11, choices=TokenType.choices)
    contract_id = models.CharField(max_length=36)
    auth_method = models.CharField(max_length=12, choices=AuthMethod.choices)
    authorization_reference = models.CharField(max_length=36, blank=True)
    cdr_location = exact_json_field(help_text="CdrLocation as at the session's start.")
    # The sealed site's id and name as columns the database derives from cdr_location: the
    # reports group by them, and the covering index `cdr_end` carries them, so the figures
    # of a date range read that index alone instead of every CDR's JSON (PostgreSQL cannot
    # answer an expression on cdr_location from an index without the whole column).
    sealed_site_id = models.GeneratedField(
        expression=KeyTextTransform("id", "cdr_location"),
        output_field=models.TextField(),
        db_persist=True,
    )
    sealed_site_name = models.GeneratedField(
        expression=KeyTextTransform("name", "cdr_location"),
        output_field=models.TextField(),
        db_persist=True,
    )
    meter_id = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    tariffs = exact_json_field(
        default=list, blank=True, help_text="The Tariff objects that priced it."
    )
    charging_periods = exact_json_field(
        help_text="ChargingPeriod list, split at every price change."
    )
    signed_data = exact_json_field(null=True, blank=True, help_text="SignedData (calibration law).")
    total_cost_excl_vat = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    total_cost_incl_vat = _money()
    total_fixed_cost_excl_vat = _money()
    total_fixed_cost_incl_vat = _money()
    total_energy = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="kWh."
    )
    total_energy_cost_excl_vat = _money()
    total_energy_cost_incl_vat = _money()
    total_time = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="Hours, parking included."
    )
    total_time_cost_excl_vat = _money()
    total_time_cost_incl_vat = _money()
    total_parking_time = _money(help_text="Hours.")
    total_parking_cost_excl_vat = _money()
    total_parking_cost_incl_vat = _money()
    total_reservation_cost_excl_vat = _money()
    total_reservation_cost_incl_vat = _money()
    remark = models.CharField(max_length=255, blank=True)
    invoice_reference_id = models.CharField(max_length=CREDIT_ID_LENGTH, blank=True)
    credit = models.BooleanField(default=False)
    credit_reference_id = models.CharField(
        max_length=CREDIT_ID_LENGTH, blank=True, help_text="The id of the CDR this one credits."
    )
    # The CDR a credit CDR credits: one credit per original at most.
    original = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_cdr"
    )
    # The CDR a corrected CDR replaces (credited first): cdrs.services.cdr_correct.
    # Indexed by the unique constraint cdr_corrected_once (on PostgreSQL and SQLite alike):
    # the foreign key's own index would be a second copy of it.
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        db_index=False,
    )
    home_charging_compensation = models.BooleanField(null=True, blank=True)
    last_updated = models.DateTimeField(help_text="When it was created: CDRs never change.")

    # Operator-side, not OCPI fields.
    cost_lines = exact_json_field(
        default=list,
        blank=True,
        help_text="What each price component billed (the tariff engine's CostLines).",
    )
    push_change = models.ForeignKey(
        Change,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The outbox change that POSTed it to the eMSP (none: no eMSP to send to).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CdrQuerySet.as_manager()

    class Meta:
        verbose_name = "CDR"
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"),
                Upper("party_id"),
                Upper("ocpi_id"),
                name="cdr_unique_id_per_party",
                violation_error_message="A CDR with this id already exists for the party.",
            ),
            models.CheckConstraint(
                condition=Q(credit=True) | Q(LessThanOrEqual(Length("ocpi_id"), ID_LENGTH)),
                name="cdr_id_36_unless_credit",
            ),
            models.CheckConstraint(
                condition=Q(credit=True, original__isnull=False) & ~Q(credit_reference_id="")
                | Q(credit=False, original__isnull=True, credit_reference_id=""),
                name="cdr_credit_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(credit=False) | Q(corrects__isnull=True),
                name="cdr_credit_corrects_nothing",
            ),
            # Each CDR is credited once, so it is corrected once.
            models.UniqueConstraint(fields=["corrects"], name="cdr_corrected_once"),
            models.CheckConstraint(
                condition=~Q(ocpi_id="") & ~Q(country_code="") & ~Q(party_id=""),
                name="cdr_ids_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(auth_method__in=AuthMethod.values), name="cdr_auth_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(token_type__in=TokenType.values), name="cdr_token_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="cdr_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(end_date_time__gte=models.F("start_date_time")),
                name="cdr_ends_after_it_starts",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{price}_incl_vat__isnull": True})
                    | Q(**{f"{price}_excl_vat__isnull": False}),
                    name=f"cdr_{price}_incl_needs_excl",
                )
                for price in PRICE_FIELDS[1:]
            ),
        ]
        indexes = [
            models.Index(fields=["last_updated"], name="cdr_last_updated"),
            # The operator's figures of a date range (cdrs.selectors, CdrQuerySet.report): on
            # PostgreSQL the index covers every column they read, so they scan the index alone
            # (an index-only scan) instead of fetching wide CDR rows; SQLite gets the plain index.
            models.Index(fields=["end_date_time"], include=COVERED, name="cdr_end"),
            models.Index(
                Upper("token_country_code"), Upper("token_party_id"), name="cdr_token_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.ocpi_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableCdr(f"CDR {self} was sent and cannot be changed; credit it instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableCdr(f"CDR {self} cannot be deleted; credit it instead")

    @property
    def party(self) -> PartyRef:
        return PartyRef.of(self.country_code, self.party_id)

    @property
    def token_party(self) -> PartyRef:
        return PartyRef.of(self.token_country_code, self.token_party_id)

    @property
    def object_key(self) -> str:
        """The push queue: shared by a CDR, its credit and its corrected CDR (and theirs), so
        the eMSP gets the original, then the credit, then the correction."""
        root = self
        while root.original_id is not None or root.corrects_id is not None:
            parent = root.original if root.original_id is not None else root.corrects
            assert parent is not None
            root = parent
        party = root.party
        return f"cdrs:{party.country_code}:{party.party_id}:{root.ocpi_id.upper()}"


class CdrDayFigures(models.Model):
    """What the CDRs of sessions that ended on `day` (in settings.TIME_ZONE) add up to per
    eMSP party and currency, by CdrQuerySet.report's rules; kept by ocpi.daily_figures
    (cdrs.daily)."""

    day = models.DateField()
    emsp_country_code = models.CharField(max_length=2)
    emsp_party_id = models.CharField(max_length=3)
    currency = models.CharField(max_length=3)
    sessions = models.PositiveIntegerField()
    kwh = models.DecimalField(max_digits=24, decimal_places=MONEY_PLACES)
    revenue_excl_vat = models.DecimalField(max_digits=24, decimal_places=MONEY_PLACES)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "emsp_country_code", "emsp_party_id", "currency"],
                name="cdr_day_figures_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.emsp_country_code}*{self.emsp_party_id} {self.currency}"
