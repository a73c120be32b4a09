"""Which models keep an audit trail (django-auditlog), and the rule that only an operator's
change is kept.

Only what operators edit in the admin is registered. Rows written by protocol traffic
(sessions, CDRs, push deliveries, transaction events, calls, messages, tokens from partners)
are not: each is already its own record, and their churn would bury the operators' changes.

A registered model is also written by protocol traffic (an EVSE's status from a
StatusNotification, a location's last_updated after a push). auditlog records every save(),
so its receivers run only when the save happens inside operator_changes(): around an admin
request (audit.middleware), or around code an operator runs by other means. Outside, they
return at once: auditlog's update receiver reads the row back before every save (one query
per save, two of an EVSE status change's fifteen), which the protocol's hot paths must not
pay for entries nobody keeps. Queryset .update() never reaches auditlog.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

# Sealed tokens, digests and password hashes never go into the log, not even masked.
_SECRETS = {
    "credentials.PartnerPlatform": [
        "incoming_token_digest",
        "incoming_token_sealed",
        "next_incoming_token_digest",
        "next_incoming_token_sealed",
        "outgoing_token_sealed",
    ],
    "credentials.Invitation": ["token_digest", "token_sealed"],
    "chargers.ChargePoint": ["password_hash"],
}

# Timestamps every save bumps: a change of only these is no change.
_BOOKKEEPING = ["last_updated", "updated_at"]

AUDITED_MODELS = (
    "locations.Location",
    "locations.EVSE",
    "locations.Connector",
    "tariffs.Tariff",
    "tariffs.TariffElement",
    "tariffs.PriceComponent",
    "chargers.ChargePoint",
    "chargers.ChargePointEvse",
    "credentials.LocalParty",
    "credentials.PartnerPlatform",
    "credentials.Invitation",
    "chargingprofiles.GridLimit",
)


# Rows edited inline on their parent's page, by the foreign key to it: their entries are shown
# in the parent's history too. The key is stored with each entry (auditlog's serialized data)
# so that a deleted row's entries still find their parent.
INLINE_CHILDREN = {
    "locations.Connector": "evse",
    "tariffs.TariffElement": "tariff",
    "tariffs.PriceComponent": "element",
    "chargers.ChargePointEvse": "charge_point",
}


def register_audited_models() -> None:
    _receivers_only_in_operator_scope()
    for label in AUDITED_MODELS:
        parent_key = INLINE_CHILDREN.get(label)
        auditlog.register(
            apps.get_model(label),
            exclude_fields=[*_BOOKKEEPING, *_SECRETS.get(label, [])],
            serialize_data=parent_key is not None,
            serialize_kwargs={"fields": [parent_key]} if parent_key else None,
        )


def _receivers_only_in_operator_scope() -> None:
    """Wrap the receivers auditlog's registry connects for each model it registers.

    An override of auditlog's internals: `_signals` (signal → receiver), which its register()
    connects, has no public setter on the shared registry that the log entries, diffs and
    history read. Worth two queries per EVSE status change (bench/overrides.py audit);
    tests/audit/test_audit.py::test_auditlog_connects_the_receivers_its_registry_holds
    fails when an upgrade changes what it relies on.
    """
    signals: dict[Any, Any] = auditlog._signals
    for signal, receiver in signals.items():
        if not getattr(receiver, "only_in_operator_scope", False):
            signals[signal] = _only_in_operator_scope(receiver)


def _only_in_operator_scope(receiver: Any) -> Any:
    @wraps(receiver)
    def guarded(*args: Any, **kwargs: Any) -> None:
        if _operator.get():
            receiver(*args, **kwargs)

    guarded.only_in_operator_scope = True  # type: ignore[attr-defined]
    return guarded


# Ours, not auditlog's: auditlog leaves its actor behind in the context after the request
# (a worker thread's next, protocol, request would still see it); this one is reset on exit.
_operator: ContextVar[bool] = ContextVar("audit_operator", default=False)


@contextmanager
def operator_scope() -> Iterator[None]:
    """What is saved inside is kept; the actor is set apart (auditlog's middleware or
    set_actor: operator_changes)."""
    token = _operator.set(True)
    try:
        yield
    finally:
        _operator.reset(token)


@contextmanager
def operator_changes(user: AbstractBaseUser) -> Iterator[None]:
    """What is saved inside is the operator's change, with `user` as its actor."""
    with operator_scope(), set_actor(user):
        yield


def operator_context_active() -> bool:
    return _operator.get()


def entries_of(instance: Model) -> QuerySet[LogEntry]:
    """The entries of `instance` and of the rows edited inline on its page, newest first."""
    wanted = Q(content_type=ContentType.objects.get_for_model(instance), object_pk=str(instance.pk))
    for label, parent_key in INLINE_CHILDREN.items():
        child = apps.get_model(label)
        if child._meta.get_field(parent_key).related_model is type(instance):
            wanted |= Q(
                content_type=ContentType.objects.get_for_model(child),
                **{f"serialized_data__fields__{parent_key}": instance.pk},
            )
    entries: QuerySet[LogEntry] = LogEntry.objects.filter(wanted)
    return entries.select_related("actor").order_by("-timestamp", "-pk")
