"""A transaction's steps → its Session, each change through sessions.services.

The session (mod_sessions) of a transaction:
- starts when its token is known and accepted and its EVSE is ours, at the moment of the
  message that completed that (1.6: StartTransaction's timestamp; 2.0.1: the event that
  brought the accepted idToken, or the EVSE): ACTIVE when an EV is connected (always in
  1.6), else PENDING, becoming ACTIVE when one is (a chargingState other than Idle, a
  CablePluggedIn or EVDetected trigger, or energy flowing). A 2.0.1 transaction may begin
  with the cable before the token: the time before its session is nobody's to pay;
- counts its energy from the transaction's baseline (chargers.metering.Register), so that the
  CDR's total_energy is the meter's difference (DESIGN.md);
- gets a new charging period only where the price or the charging state changes:
  the state is the 2.0.1 chargingState (chargers.transaction_steps.REQUESTING_POWER), else
  (1.6) energy flowing or power drawn between two readings; the price changes where the
  tariff engine splits the open period (another price component: a time of day, a weekday,
  a duration, an energy step), cut at the moment the engine names with the energy
  interpolated between the readings either side. In between, session_progress PATCHes kwh
  and total_cost (at most every OCPP_SESSION_PROGRESS_SECONDS of the charge point's time),
  once for the steps applied together (save());
- is the session of the reservation its token held on that EVSE, if it held one
  (chargers.reservations.use: RESERVATION → ACTIVE at the start);
- completes at the end of the transaction with the last reading (session_stop: the CDR
  follows), or becomes INVALID if it never became active (never billed).

A token refused has no session at all, not an INVALID one: an unknown token names no eMSP
to send it to, and a refused driver did not charge on anyone's account; the transaction and
its readings stay with the charge point's records.

Readings older than the open period change nothing but the register (a later reading already
counts their energy); a state change older than the last reading starts no period. A session
service that refuses a step (sessions.errors.SessionError) is logged and the step goes on:
a transaction message is never refused for it.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from chargers import remote, reservations
from chargers.authorization import ACCEPTED, recorded_decision, status_of
from chargers.mapping import connector_of
from chargers.metering import KILO, UNKNOWN_MAX_POWER_KW, Register, Sample, max_power_kw
from chargers.models import ChargerTransaction, OcppVersion, RemoteStart
from chargers.transaction_steps import REQUESTING_POWER, START_TRANSACTION, STARTED, Step
from sessions import services
from sessions.errors import InvalidPeriods, SessionError
from sessions.metering import Reading, meter_period, metered_kwh, volume
from sessions.models import AuthMethod, Session, SessionStatus
from sessions.pricing import price, pricing_tariff, stored_periods

logger = logging.getLogger(__name__)

# Below this, a charger draws no power for the EV (its own consumption, measurement noise).
IDLE_POWER_KW = Decimal("0.1")
# Price changes cut per reading at most (a long offline gap may cross several).
MAX_CUTS = 48
KEPT_WARNINGS = 20


class PriceCheckDeferred(Exception):
    """A Charging that checks for price changes only at its last reading (`batch`) met what
    a per-reading check would have decided differently: its steps are to be applied again,
    one check per reading (chargers.transactions.apply_stored)."""


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def quiet_until(transaction: ChargerTransaction) -> datetime | None:
    """Until when (the charge point's time) the meter samples of `transaction`, as it was
    last saved, change nothing anyone reads before their session's next progress PATCH: its
    session is ACTIVE, its next PATCH due OCPP_SESSION_PROGRESS_SECONDS after the last one.
    A sample before that moment only moves the register and the open period (what the PATCH
    and a stop then read, periods cut at the same moments applied later as at once), so a
    gateway may apply it later (chargers.gateway.meters). None: apply at once (no session
    yet or not ACTIVE, ended, rebooted, no progress interval)."""
    session = transaction.session
    every = settings.OCPP_SESSION_PROGRESS_SECONDS
    progress_at = _moment(transaction.state.get("progress_at"))
    if (
        every <= 0
        or progress_at is None
        or session is None
        or session.status != SessionStatus.ACTIVE
        or transaction.ended_at is not None
        or transaction.rebooted_at is not None
    ):
        return None
    return progress_at + timedelta(seconds=every)


class Charging:
    """One locked transaction while steps are applied to it; save() writes it back.

    `batch`: many readings applied together check for a price change once, at the last one
    (save()): the tariff engine prices the open period once rather than at every reading.
    Where the price did not change by the last reading it did not change at an earlier one
    either (the moments where the engine splits, a time of day, a duration, an energy step,
    lie in the longer period too); where it did, or a period ends for another reason after
    readings not checked, PriceCheckDeferred is raised and the caller applies the steps again
    with a check at every reading, as one by one.
    """

    def __init__(
        self, transaction: ChargerTransaction, *, batch: bool = False, progress_later: bool = False
    ) -> None:
        self.tx = transaction
        self.batch = batch
        # `progress_later`: save() leaves the progress PATCH due in `progress` for the caller,
        # who sends many together (chargers.transactions.apply_stored) and calls progressed().
        self.progress_later = progress_later
        self.progress: services.Progress | None = None
        # The last reading not checked for a price change: (the one before, it, the open
        # period as it stood before it was folded in).
        self.unchecked: tuple[tuple[Decimal, datetime], Sample, dict[str, Any]] | None = None
        self.session: Session | None = transaction.session
        state = transaction.state
        saved = state.get("register", {})
        self.register = Register(
            baseline_wh=transaction.meter_start_wh,
            baseline_at=_moment(saved.get("baseline_at")),
            baseline_given=saved.get("baseline_given", False),
            baseline_labelled_kwh=saved.get("baseline_labelled_kwh", False),
            last_wh=transaction.meter_last_wh,
            last_at=transaction.meter_last_at,
            last_labelled_kwh=saved.get("last_labelled_kwh", False),
            kwh_means_wh=saved.get("kwh_means_wh", False),
            suspect=saved.get("suspect", 0),
        )
        self.period: dict[str, Any] = dict(state.get("period", {}))
        self.connected: bool = state.get("connected", False)
        self.progress_at = _moment(state.get("progress_at"))
        self.max_power = _decimal(state.get("max_power_kw"))
        self.seen_at = _moment(state.get("seen_at"))
        self.version: str = OcppVersion.V201
        self.progress_due = False  # steps applied since the last progress: save() sends it

    # --- the whole step ---------------------------------------------------------------------

    def apply(self, step: Step) -> None:
        if self.tx.ended_at is not None:
            self._after_end(step)
            return
        self.version = step.version
        self._when(step)
        if step.ocpp_evse_id is not None and self.tx.ocpp_evse_id is None:
            self.tx.ocpp_evse_id, self.tx.connector_id = step.ocpp_evse_id, step.connector_id
            connector = connector_of(self.tx.charge_point, step.ocpp_evse_id, step.connector_id)
            self.max_power = max_power_kw(connector)
        if step.may_start_session and self.session is None:
            self._token(step)
        if self.session is None and "remote_start" not in self.tx.state:
            self._tie_remote_start(step)
        if step.meter_start_wh is not None:
            self.register.start(step.meter_start_wh, step.at)
        # What is measured at a change of state belongs to the state it changes to.
        after = [s for s in step.samples if step.charging_state and s.at >= step.at]
        for sample in step.samples:
            self._sample(sample, fold=sample not in after)
        self._state(step)
        for sample in after:
            self._fold(sample)
        if self.session is None:
            self._start_session(step.at)
        if self._status() == SessionStatus.PENDING and self.connected:
            self._activate(step.at)
        if step.ends:
            self.end(step.at, step.stop_reason)
        else:
            self.progress_due = True

    def end(self, at: datetime, reason: str) -> None:
        """The transaction is over at `at`: its session completes with the last reading."""
        self._unchecked_stop()
        session = self.session
        if session is not None and session.status == SessionStatus.ACTIVE:
            assert session.metered_until is not None
            end = max(at, session.metered_until)
            reading = self._reading(self.register.last_wh) if end > session.metered_until else None
            stopped = self._service(services.session_stop, session=session, at=end, reading=reading)
            if stopped is None and reading is not None:  # a bad last reading ends it all the same
                stopped = self._service(services.session_stop, session=session, at=end)
            self.session = stopped or self.session
        elif session is not None and session.status == SessionStatus.PENDING:
            self.session = self._service(services.session_invalidate, session=session) or session
        self.tx.ended_at = at
        self.tx.stop_reason = reason[:40]
        self.tx.state["closed_wh"] = _text(self.register.last_wh)

    def last_moment(self) -> datetime:
        """The latest moment the transaction is known to have been going (by its charge
        point's clock; if nothing of it was applied, when we last heard of it)."""
        known = [self.tx.started_at, self.seen_at, self.register.last_at, self.period_start]
        moments = [moment for moment in known if moment is not None]
        return max(moments) if moments else self.tx.last_message_at or self.tx.created_at

    def _when(self, step: Step) -> None:
        """Its start: the 1.6 StartTransaction or 2.0.1 Started, else its first message."""
        if self.tx.started_at is None or step.kind in (START_TRANSACTION, STARTED):
            self.tx.started_at = step.at
        self.seen_at = step.at if self.seen_at is None else max(self.seen_at, step.at)

    def save(self) -> None:
        """Write the transaction back, after the progress PATCH of the steps applied since
        the last one: one for all the samples applied together (a batch, a message that
        applied the ones stored before it), not one per sample."""
        self._check_last()
        if self.progress_due and self.tx.ended_at is None:
            self._progress()
        self.progress_due = False
        register = self.register
        tx = self.tx
        tx.session = self.session
        tx.meter_start_wh, tx.meter_last_wh = register.baseline_wh, register.last_wh
        tx.meter_last_at = register.last_at
        tx.state["register"] = {
            "baseline_at": register.baseline_at.isoformat() if register.baseline_at else None,
            "baseline_given": register.baseline_given,
            "baseline_labelled_kwh": register.baseline_labelled_kwh,
            "last_labelled_kwh": register.last_labelled_kwh,
            "kwh_means_wh": register.kwh_means_wh,
            "suspect": register.suspect,
        }
        tx.state["period"] = self.period
        tx.state["connected"] = self.connected
        tx.state["progress_at"] = self.progress_at.isoformat() if self.progress_at else None
        tx.state["max_power_kw"] = _text(self.max_power)
        tx.state["seen_at"] = self.seen_at.isoformat() if self.seen_at else None
        tx.save()

    # --- token and session --------------------------------------------------------------------

    def _token(self, step: Step) -> None:
        """The token a driver presented: the transaction's (a refused one is replaced by the
        next one presented), with what it was answered."""
        if (step.id_token, step.id_token_type) == (self.tx.id_token, self.tx.id_token_type):
            return
        decision = recorded_decision(self.tx.charge_point, step.id_token, step.id_token_type)
        if decision is None:
            self._warn(f"no decision recorded for token {step.id_token}: not authorized")
            status = "Invalid"
        else:
            status = status_of(decision, self.version)
        if self.tx.authorization_status == ACCEPTED and status != ACCEPTED:
            return  # another token refused later does not undo the accepted one
        self.tx.id_token, self.tx.id_token_type = step.id_token, step.id_token_type
        self.tx.authorization_status = status

    def _tie_remote_start(self, step: Step) -> None:
        """The remote start this transaction follows, if any (chargers.remote.tie): looked
        for once, when its first message naming a remoteStartId or a token comes."""
        if step.remote_start_id is None and not step.may_start_session:
            return
        found = remote.tie(
            self.tx,
            remote_start_id=step.remote_start_id,
            id_token=step.id_token,
            ocpp_evse_id=self.tx.ocpp_evse_id,
        )
        self.tx.state["remote_start"] = None if found is None else found.pk

    def _start_remote(self, remote_start_id: int, at: datetime) -> None:
        """The session of a remote start: its token and authorization_reference, COMMAND (or
        the session of the token's reservation there, chargers.reservations.use). One that
        started after the start was reported refused is stopped instead (remote.late)."""
        tx = self.tx
        started = RemoteStart.objects.get(pk=remote_start_id)
        refusal = remote.late(started)
        if refusal is not None:
            if tx.state.get("late_start") is None:
                tx.state["late_start"] = refusal
                self._warn(refusal)
                remote.stop_late(started, tx)
            return
        connector = connector_of(tx.charge_point, tx.ocpp_evse_id or 0, tx.connector_id)
        if connector is None:
            self._warn(f"no connector of ours at OCPP EVSE {tx.ocpp_evse_id}: no session")
            return
        reserved = reservations.use(
            charge_point=tx.charge_point,
            connector=connector,
            ocpp_evse_id=tx.ocpp_evse_id or 0,
            id_token=started.id_token,
            at=at,
        )
        if reserved is not None:  # started on the token's reservation: its session goes on
            self.session = reserved
            tx.authorization_status = ACCEPTED
            self._new_period()
            return
        self.session = self._service(
            services.session_start,
            connector=connector,
            token=started.token,
            auth_method=AuthMethod.COMMAND,
            authorization_reference=started.authorization_reference,
            at=at,
            status=SessionStatus.ACTIVE if self.connected else SessionStatus.PENDING,
        )
        if self.session is not None:
            tx.authorization_status = ACCEPTED
            self._new_period()

    def _start_session(self, at: datetime) -> None:
        tx = self.tx
        remote_start_id = tx.state.get("remote_start")
        if remote_start_id is not None and tx.ocpp_evse_id is not None:
            self._start_remote(remote_start_id, at)
            return
        if tx.authorization_status != ACCEPTED or tx.ocpp_evse_id is None:
            return
        connector = connector_of(tx.charge_point, tx.ocpp_evse_id, tx.connector_id)
        decision = recorded_decision(tx.charge_point, tx.id_token, tx.id_token_type)
        if connector is None or decision is None:
            self._warn(f"no connector of ours at OCPP EVSE {tx.ocpp_evse_id}: no session")
            return
        reserved = reservations.use(
            charge_point=tx.charge_point,
            connector=connector,
            ocpp_evse_id=tx.ocpp_evse_id,
            id_token=tx.id_token,
            at=at,
        )
        if reserved is not None:  # its reservation's session goes on as the charge
            self.session = reserved
            self._reported(at)
            return
        status = SessionStatus.ACTIVE if self.connected else SessionStatus.PENDING
        self.session = self._service(
            services.session_start_authorized,
            connector=connector,
            decision=decision,
            at=at,
            status=status,
        )
        if self.session is None:  # refused (another EVSE, no token to bill): said so
            tx.authorization_status = status_of(decision, self.version, connector.evse.uid)
            return
        self._reported(at)

    def _activate(self, at: datetime) -> None:
        assert self.session is not None
        at = max(at, self.session.start_date_time)
        self.session = self._service(services.session_activate, session=self.session, at=at) or (
            self.session
        )
        self._reported(at)

    def _reported(self, at: datetime) -> None:
        """The session was just sent as it stands at `at` (its PUT, the PATCH of its start):
        its first progress PATCH is due OCPP_SESSION_PROGRESS_SECONDS later, not at the
        first sample. A new period opens."""
        self.progress_at = at
        self._new_period()

    def _status(self) -> str | None:
        return None if self.session is None else self.session.status

    # --- periods ------------------------------------------------------------------------------

    @property
    def period_start(self) -> datetime | None:
        return None if self.session is None else self.session.metered_until

    def _sample(self, sample: Sample, *, fold: bool = True) -> None:
        previous = self.register.read(sample, self.max_power or UNKNOWN_MAX_POWER_KW)
        for warning in self.register.warnings:
            self._warn(warning)
        self.register.warnings.clear()
        pending = self._status() == SessionStatus.PENDING
        if previous is not None and pending and self._flowing(previous[0], sample):
            self.connected = True
            self._activate(previous[1])
        start = self.period_start
        if self._status() != SessionStatus.ACTIVE or start is None or sample.at < start:
            return
        if previous is not None:
            self._charging_between(previous, sample)
            self._cut_at_price_changes(previous, sample)
        if fold:
            self._fold(sample)

    def _flowing(self, previous_wh: Decimal, sample: Sample) -> bool:
        wh = self.register.last_wh
        drawn = sample.power_kw is not None and sample.power_kw > IDLE_POWER_KW
        return drawn or (wh is not None and wh > previous_wh)

    def _charging_between(self, previous: tuple[Decimal, datetime], sample: Sample) -> None:
        """1.6 (no chargingState): energy or power since the previous reading is the state."""
        if self.period.get("explicit"):
            return
        flowing = self._flowing(previous[0], sample)
        charging = self.period.get("charging")
        if charging is not None and charging != flowing:
            self._close_period(previous[1], previous[0])
        self.period["charging"] = flowing

    def _state(self, step: Step) -> None:
        """2.0.1: chargingState says the state; a change ends the open period."""
        if step.connected is not None:
            self.connected = step.connected
        if not step.charging_state:
            return
        state_at = _moment(self.period.get("state_at"))
        if state_at is not None and step.at < state_at:
            return
        charging = step.charging_state in REQUESTING_POWER
        last_at = self.register.last_at
        if (
            self.period.get("charging") not in (None, charging)
            and self._status() == SessionStatus.ACTIVE
            and (last_at is None or last_at <= step.at)
        ):
            self._close_period(step.at, self.register.last_wh)
        self.period.update(charging=charging, explicit=True, state_at=step.at.isoformat())

    def _cut_at_price_changes(self, previous: tuple[Decimal, datetime], sample: Sample) -> None:
        """Where the tariff engine splits the open period up to `sample`, another price
        component became active: the period ends there (sessions.freeze: its tariff)."""
        if self.batch:
            self.unchecked = (previous, sample, dict(self.period))
            return
        for _ in range(MAX_CUTS):
            cut = self._price_change(sample)
            if cut is None:
                return
            previous_wh, previous_at = previous
            cut = max(cut, previous_at)
            assert self.register.last_wh is not None
            share = (cut - previous_at) / max(sample.at - previous_at, timedelta(microseconds=1))
            wh = previous_wh + (self.register.last_wh - previous_wh) * Decimal(share)
            self._close_period(cut, wh)
            previous = (wh, cut)

    def _price_change(self, sample: Sample) -> datetime | None:
        session = self.session
        start = self.period_start
        if session is None or start is None or sample.at <= start:
            return None
        tariff = pricing_tariff(session)
        if tariff is None or not any(e.get("restrictions") for e in tariff["elements"]):
            return None  # one price component for each dimension throughout
        stored = stored_periods(session)
        reading = self._reading(self.register.last_wh)
        try:
            open_period = meter_period(session, sample.at, reading, metered_kwh(session, stored))
        except InvalidPeriods:
            return None
        open_period["tariff_id"] = session.tariff_id
        cost = price(session, sample.at, [*stored, open_period])
        if cost is None:
            return None
        inside = [p.start_date_time for p in cost.charging_periods]
        return min((moment for moment in inside if start < moment < sample.at), default=None)

    def _check_last(self) -> None:
        """`batch`: the check at the last reading, with the open period as it stood then."""
        if self.unchecked is None:
            return
        previous, sample, period = self.unchecked
        folded, self.period = self.period, period
        try:
            cut = self._price_change(sample)
        finally:
            self.period = folded
        self.unchecked = None
        if cut is not None:
            raise PriceCheckDeferred(f"the price changes at {cut}")

    def _unchecked_stop(self) -> None:
        """A period ends (or begins) while readings wait for their check: one by one."""
        if self.unchecked is not None:
            raise PriceCheckDeferred("a period ends after readings not checked")

    def _close_period(self, at: datetime, wh: Decimal | None) -> None:
        """The open period ends at `at`, the meter at `wh`; the next one starts there."""
        self._unchecked_stop()
        session = self.session
        assert session is not None
        assert session.metered_until is not None
        if at > session.metered_until:
            reading = self._reading(wh)
            metered = self._service(services.session_meter, session=session, at=at, reading=reading)
            self.session = metered or session
        self._new_period()

    def _new_period(self) -> None:
        self._unchecked_stop()
        kept = {k: v for k, v in self.period.items() if k in ("charging", "explicit", "state_at")}
        self.period = kept

    def _fold(self, sample: Sample) -> None:
        period = self.period
        if sample.power_kw is not None:
            power = sample.power_kw
            high, low = _decimal(period.get("max_power")), _decimal(period.get("min_power"))
            period["max_power"] = str(power if high is None else max(high, power))
            period["min_power"] = str(power if low is None else min(low, power))
        if sample.current_a is not None:
            period["current_sum"] = str(Decimal(period.get("current_sum", 0)) + sample.current_a)
            period["current_count"] = period.get("current_count", 0) + 1
        if sample.soc is not None:
            period["soc"] = str(sample.soc)

    def _reading(self, wh: Decimal | None) -> Reading:
        """The open period as a reading with the meter at `wh`."""
        period = self.period
        baseline = self.register.baseline_wh
        kwh = None
        if wh is not None and baseline is not None:
            kwh = volume(max(wh - baseline, Decimal(0)) / KILO)
        count = period.get("current_count", 0)
        return Reading(
            kwh=kwh,
            max_power=_decimal(period.get("max_power")),
            min_power=_decimal(period.get("min_power")),
            current=Decimal(period["current_sum"]) / count if count else None,
            state_of_charge=_decimal(period.get("soc")),
            charging=period.get("charging"),
        )

    def _progress(self) -> None:
        session, last_at = self.session, self.register.last_at
        if session is None or session.status != SessionStatus.ACTIVE or last_at is None:
            return
        assert session.metered_until is not None
        if last_at <= session.metered_until:
            return
        every = timedelta(seconds=settings.OCPP_SESSION_PROGRESS_SECONDS)
        if self.progress_at is not None and last_at < self.progress_at + every:
            return
        reading = self._reading(self.register.last_wh)
        self.progress_at = last_at
        if self.progress_later:
            self.progress = services.Progress(session, last_at, reading)
            return
        progressed = self._service(
            services.session_progress, session=session, at=last_at, reading=reading
        )
        self.session = progressed or session

    def progressed(self, result: Session | SessionError) -> None:
        """The outcome of `progress`, sent by the caller after save(): a refusal is kept on
        the transaction as _service keeps it (saved again)."""
        self.progress = None
        if isinstance(result, Session):
            self.session = result
            return
        self._warn(f"session_progress refused: {result}")
        self.tx.save(update_fields=["state"])

    # --- after the end ------------------------------------------------------------------------

    def _after_end(self, step: Step) -> None:
        """A message after the transaction was closed: its session is final (and its CDR sent).
        One that ends it later or with more energy than it was closed with is kept on the
        transaction and logged: an operator credits the CDR (cdrs admin) if it must change."""
        if not step.ends:
            return
        means_wh = self.register.kwh_means_wh
        registers = [
            s.register_wh / KILO if s.labelled_kwh and means_wh else s.register_wh
            for s in step.samples
            if s.register_wh is not None
        ]
        closed_wh = _decimal(self.tx.state.get("closed_wh"))
        meter = max(registers, default=None)
        assert self.tx.ended_at is not None
        more = meter is not None and closed_wh is not None and meter > closed_wh
        if step.at <= self.tx.ended_at and not more:
            return
        self.tx.state["late_end"] = {"at": step.at.isoformat(), "meter_wh": _text(meter)}
        self._warn(
            f"ended at {step.at} with the meter at {meter} Wh after it was closed "
            f"({self.tx.stop_reason}) at {self.tx.ended_at} with {closed_wh} Wh: the CDR stands"
        )

    # --- plumbing -----------------------------------------------------------------------------

    def _service(self, service: Any, **kwargs: Any) -> Session | None:
        """A session service, its refusal logged (a transaction message is never refused)."""
        try:
            result: Session = service(**kwargs)
        except SessionError as exc:
            self._warn(f"{service.__name__} refused: {exc}")
            return None
        return result

    def _warn(self, text: str) -> None:
        logger.warning("Charge point %s transaction %s: %s", self.tx.charge_point, self.tx, text)
        warnings = [*self.tx.state.get("warnings", []), text][-KEPT_WARNINGS:]
        self.tx.state["warnings"] = warnings
