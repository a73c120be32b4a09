"""Writes of CDRs: the CDR of a completed session, the credit CDR and the corrected CDR.

CDRs are only ever created, never updated or deleted (mod_cdrs, Flow and Lifecycle; the model
refuses both): a correction is a credit CDR, then a corrected CDR with a new id. Each CDR is
POSTed to the eMSP party that owns its token, and only to it (mod_cdrs, Push model; DESIGN.md,
"Who gets what"), through an outbox row written in the same transaction as the CDR
(push.services.push_change); a worker delivers it and keeps the Location header the eMSP
answers with.
"""

import logging
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from cdrs.models import CREDIT_ID_LENGTH, PRICE_FIELDS, Cdr
from cdrs.pricing import PricedSession, price_for_cdr, price_under, priced_fields
from cdrs.serializers import CdrLocationSerializer, CdrSerializer
from ocpi.routing import PartyRef
from ocpi.time import now
from push.services import party_targets, push_change
from sessions.models import Session, SessionStatus
from tariffs.engine import TariffError

logger = logging.getLogger(__name__)

MODULE = "cdrs"
CREDIT_SUFFIX = "-C"  # "the id of the original CDR with something appended like … -C"


class CreditRefused(ValueError):
    """A credit CDR that may not be issued."""


class CreditOfCredit(CreditRefused):
    """A credit CDR itself is never credited: it only cancels its original."""


class AlreadyCredited(CreditRefused):
    """A CDR is credited once; a second credit would cancel it twice."""


def render_cdr(cdr: Cdr) -> dict[str, Any]:
    return dict(CdrSerializer(cdr).data)


def _push(cdr: Cdr) -> None:
    """Queue the POST of the new CDR to the eMSP that owns its token, in this transaction."""
    cdr.push_change = push_change(
        module=MODULE,
        method="POST",
        owner=cdr.party,
        object_key=cdr.object_key,
        path=[],  # POST {cdr_endpoint_url}
        payload=render_cdr(cdr),
        targets=party_targets(MODULE, cdr.token_party),
    )


def _cdr_location(session: Session) -> dict[str, Any]:
    """The CdrLocation the session froze at its start (sessions.freeze), as checked JSON."""
    checked = CdrLocationSerializer(data=session.cdr_location)
    checked.is_valid(raise_exception=True)
    return dict(checked.data)


def cdr_for_session(*, session: Session) -> Cdr | None:
    """The CDR of a completed session: built, priced, stored and POSTed to the eMSP.

    Called in the transaction that completes the session (sessions.signals.session_completed),
    so the session and its CDR are committed together or not at all. Its id is the session's
    (at most 36 characters, as for every CDR that is no credit). An INVALID session gets no
    CDR ("not billed"), nor does one still running. A session that has its CDR already gets
    no second one: the existing CDR is returned, nothing is pushed again. Charging periods
    start on the millisecond, as every DateTime we write (ocpi.time).
    """
    if session.status != SessionStatus.COMPLETED:
        return None
    existing = Cdr.objects.of_session(session).first()
    if existing is not None:
        return existing
    if session.end_date_time is None:
        raise ValueError(f"Session {session} is COMPLETED without an end_date_time")
    priced = price_for_cdr(session)
    with transaction.atomic():
        cdr = Cdr(
            country_code=session.country_code,
            party_id=session.party_id,
            ocpi_id=session.ocpi_id,
            # "or in case of a reservation (before the start of a session) the start of the
            # reservation" (CDR.start_date_time).
            start_date_time=session.reserved_from or session.start_date_time,
            end_date_time=session.end_date_time,
            session_id=session.ocpi_id,
            charging_session=session,
            token_country_code=session.token_country_code,
            token_party_id=session.token_party_id,
            token_uid=session.token_uid,
            token_type=session.token_type,
            contract_id=session.contract_id,
            auth_method=session.auth_method,
            authorization_reference=session.authorization_reference,
            cdr_location=_cdr_location(session),
            meter_id=session.meter_id,
            currency=session.currency,
            last_updated=now(),
            **priced_fields(priced),
        )
        _push(cdr)
        cdr.save(force_insert=True)
    logger.info("CDR %s built for session %s, total %s", cdr, session.pk, cdr.total_cost_excl_vat)
    return cdr


def on_session_completed(sender: object, *, session: Session, **kwargs: object) -> None:
    """sessions.signals.session_completed: the session's CDR, in the same transaction."""
    cdr_for_session(session=session)


def _negated(value: Decimal | None) -> Decimal | None:
    """-value, but 0 for 0: a credit of nothing is 0, not the -0 Decimal keeps a sign for."""
    return None if value is None else -value if value else Decimal(0)


def _credit_id(original: Cdr) -> str:
    """original + "-C"; a normal CDR that happens to have that id moves it to -C2, -C3…"""
    taken = set(
        Cdr.objects.for_party(original.party)
        .filter(ocpi_id__istartswith=original.ocpi_id + CREDIT_SUFFIX)
        .values_list("ocpi_id", flat=True)
    )
    taken = {cdr_id.upper() for cdr_id in taken}
    for number in ("", *map(str, range(2, 10))):
        candidate = f"{original.ocpi_id}{CREDIT_SUFFIX}{number}"
        if len(candidate) <= CREDIT_ID_LENGTH and candidate.upper() not in taken:
            return candidate
    raise CreditRefused(f"No free credit CDR id for {original}")


_NOT_COPIED = frozenset(
    {
        "id",
        "ocpi_id",
        "credit",
        "credit_reference_id",
        "original",
        "corrects",
        "remark",
        "cost_lines",
        "push_change",
        "last_updated",
        "created_at",
    }
)


def cdr_credit(*, cdr: Cdr, remark: str = "") -> Cdr:
    """Issue the credit CDR of `cdr` and POST it to the eMSP (mod_cdrs, Credit CDRs).

    "The Credit CDR will contain all the data of the original CDR", with "-C" appended to its
    id, credit = true and credit_reference_id = the original's id; every cost total (and each
    cost line) is negated, quantities are not, so that the two CDRs sum to nothing. Its POST
    waits in the original's push queue, so the eMSP never gets a credit before its original.
    A CDR is credited at most once, and a credit CDR never.
    """
    if len(remark) > 255:
        raise CreditRefused("The remark has more than 255 characters")
    with transaction.atomic():
        original = Cdr.objects.select_for_update().get(pk=cdr.pk)
        if original.credit:
            raise CreditOfCredit(f"{original} is a credit CDR; it cannot be credited")
        if Cdr.objects.filter(original=original).exists():
            raise AlreadyCredited(f"{original} has been credited already")
        values = {
            field.attname: getattr(original, field.attname)
            for field in Cdr._meta.concrete_fields
            if field.name not in _NOT_COPIED
        }
        for name in PRICE_FIELDS:
            for part in ("excl_vat", "incl_vat"):
                values[f"{name}_{part}"] = _negated(values[f"{name}_{part}"])
        credit = Cdr(
            **values,
            ocpi_id=_credit_id(original),
            credit=True,
            credit_reference_id=original.ocpi_id,
            original=original,
            remark=remark,
            cost_lines=[
                {
                    **line,
                    "excl_vat": _negated(line["excl_vat"]),
                    "incl_vat": _negated(line["incl_vat"]),
                }
                for line in original.cost_lines
            ],
            last_updated=now(),
        )
        _push(credit)
        credit.save(force_insert=True)
    logger.info("Credit CDR %s issued for %s", credit, original)
    return credit


class CorrectionRefused(ValueError):
    """A corrected CDR that may not be issued: nothing was written."""


def _correction_id(original: Cdr) -> str:
    """A fresh id of at most 36 characters, unused by the party (ids compare case-insensitively)."""
    for _ in range(3):
        candidate = str(uuid.uuid4())
        if not Cdr.objects.for_party(original.party).filter(ocpi_id__ci=candidate).exists():
            return candidate
    raise CorrectionRefused(f"No free id for the corrected CDR of {original}")


def _repriced(*, cdr: Cdr, tariff: dict[str, Any] | None, remark: str) -> PricedSession:
    """The session of `cdr` priced under `tariff`, refused when the correction cannot be made:
    a credit CDR, a tariff of another party or currency, no ended session, an unusable tariff."""
    if len(remark) > 255:
        raise CorrectionRefused("The remark has more than 255 characters")
    if cdr.credit:
        raise CorrectionRefused(f"{cdr} is a credit CDR; it cannot be corrected")
    if tariff is not None:
        if tariff.get("currency") != cdr.currency:
            raise CorrectionRefused(
                f"The tariff is in {tariff.get('currency')}, the CDR {cdr} in {cdr.currency}"
            )
        owner = PartyRef.of(str(tariff.get("country_code")), str(tariff.get("party_id")))
        if owner != cdr.party:
            raise CorrectionRefused(f"The tariff belongs to {owner}, not to {cdr.party}")
    session = cdr.charging_session
    if session is None or session.end_date_time is None:
        raise CorrectionRefused(f"{cdr} has no ended session to reprice")
    try:
        return price_under(session, tariff)
    except TariffError as exc:
        raise CorrectionRefused(f"The tariff cannot price the session: {exc}") from exc


def _corrected_copy(original: Cdr, priced: PricedSession, remark: str) -> Cdr:
    """The corrected CDR, not saved yet: the original's session, token, location and
    authorization under a new id, with the new prices."""
    kept = {
        field.attname: getattr(original, field.attname)
        for field in Cdr._meta.concrete_fields
        if field.name not in _NOT_COPIED and field.name != "invoice_reference_id"
    }
    return Cdr(
        **{**kept, **priced_fields(priced)},
        ocpi_id=_correction_id(original),
        corrects=original,
        remark=remark,
        last_updated=now(),
    )


def cdr_correct(*, cdr: Cdr, tariff: dict[str, Any] | None, remark: str = "") -> tuple[Cdr, Cdr]:
    """Credit `cdr` and issue its corrected CDR, both POSTed to the eMSP: (credit, corrected).

    mod_cdrs, Credit CDRs: a CDR that was wrong is credited, then a new CDR with the right
    data is sent. The corrected CDR has a new id and the original's session, token, location
    and authorization, repriced from the session's charging periods under `tariff` (a Tariff
    object of the CDR's party and currency) or, with None, free of charge. A credit the CDR
    has already is reused; a CDR is corrected once, a credit CDR never. One transaction, so a
    refusal leaves nothing; the corrected CDR's POST queues behind the credit's, in the
    original's queue (Cdr.object_key).
    """
    priced = _repriced(cdr=cdr, tariff=tariff, remark=remark)
    with transaction.atomic():
        original = Cdr.objects.select_for_update().get(pk=cdr.pk)
        if Cdr.objects.filter(corrects=original).exists():
            raise CorrectionRefused(f"{original} has been corrected already")
        credit = Cdr.objects.filter(original=original).first()
        if credit is None:
            try:
                credit = cdr_credit(cdr=original, remark=remark)
            except CreditRefused as exc:
                raise CorrectionRefused(str(exc)) from exc
        corrected = _corrected_copy(original, priced, remark)
        _push(corrected)
        corrected.save(force_insert=True)
    logger.info(
        "Corrected CDR %s issued for %s after %s, total %s",
        corrected,
        original,
        credit,
        corrected.total_cost_excl_vat,
    )
    return credit, corrected
