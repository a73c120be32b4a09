"""Local authorization lists (1.6 §5.15 SendLocalList, §5.9 GetLocalListVersion; 2.0.1 D01,
D02): the tokens a charge point may accept without asking, built from our tokens cache.

What is listed: every valid token whose eMSP lets it charge without real-time authorization
(whitelist ALWAYS or ALLOWED, mod_tokens WhitelistType), as Accepted with its group
(1.6 parentIdTag, 2.0.1 groupIdToken). A 1.6 idTag holds 20 characters: a longer uid is left
out. Two tokens with one identity on the wire (two eMSPs, or a 1.6 idTag of two types) are
one entry: the first in (country, party, uid, type) order.

What the charge point holds (LocalAuthList) changes only when it accepts an update: its version
and a digest of each entry. `sync` compares that with the list as it should be now and sends
    FULL           the first time, when asked, or after it answered VersionMismatch
    DIFFERENTIAL   only what changed since: added and changed entries with their info, removed
                   ones without (1.6: "no idTagInfo … the entry shall be deleted"; 2.0.1 alike)
at most `chunk` entries a message; the follow-up of an accepted update sends the next part, so
a long list goes out in several versions. One update is in flight per charge point at a time.

Who keeps lists current: the beat task `chargers.sync_local_lists` (every
OCPP_LOCAL_LIST_SECONDS) for each connected charge point that accepted a list once; the admin's
"Send local list" starts one (FULL) and shows the answer.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chargers import calls
from chargers.authorization import ocpp_id_token_type
from chargers.follow_ups import follow_up
from chargers.models import CallState, ChargePoint, ChargePointCall, OcppVersion
from chargers.models_maintenance import ChargePointSetting, LocalAuthList, LocalListUpdate
from tokens.models import Token, WhitelistType

logger = logging.getLogger(__name__)

Entry = dict[str, Any]

LISTED = (WhitelistType.ALWAYS, WhitelistType.ALLOWED)
ID_TAG_MAX_LENGTH = 20  # 1.6 IdToken: CiString20Type
SENT = "chargers.local_list_sent"
VERSION_READ = "chargers.local_list_version_read"
# What the charge point says it takes per message: (component, variable) of its settings.
CHUNK_SETTING = {
    OcppVersion.V16: ("", "SendLocalListMaxLength"),
    OcppVersion.V201: ("LocalAuthListCtrlr", "ItemsPerMessage"),
}


@dataclass(frozen=True)
class Listed:
    """The list as it should be, for one OCPP version: entries by key, each with its digest."""

    entries: dict[str, Entry]
    digests: dict[str, str]

    @property
    def digest(self) -> str:
        return list_digest(self.digests)


def entry_key(version: str, uid: str, id_token_type: str = "") -> str:
    """An entry's identity on the wire, case folded (1.6 idTag and 2.0.1 idToken compare
    case-insensitively): 1.6 the idTag, 2.0.1 "<type> <idToken>"."""
    return uid.upper() if version == OcppVersion.V16 else f"{id_token_type} {uid.upper()}"


def digest_of(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:32]


def list_digest(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def listed(version: str) -> Listed:
    """The entries the list of a charge point of `version` should hold now."""
    entries: dict[str, Entry] = {}
    tokens = (
        Token.objects.filter(valid=True, whitelist__in=LISTED)
        .order_by("country_code", "party_id", "uid", "type", "pk")
        .only("uid", "type", "group_id", "language")
    )
    for token in tokens.iterator(chunk_size=2000):
        entry = _entry(version, token)
        if entry is None:
            continue
        key, value = entry
        entries.setdefault(key, value)
    return Listed(entries, {key: digest_of(value) for key, value in entries.items()})


def _entry(version: str, token: Token) -> tuple[str, Entry] | None:
    if version == OcppVersion.V16:
        if len(token.uid) > ID_TAG_MAX_LENGTH:
            return None
        info: Entry = {"status": "Accepted"}
        if token.group_id and len(token.group_id) <= ID_TAG_MAX_LENGTH:
            info["parentIdTag"] = token.group_id
        return entry_key(version, token.uid), {"idTag": token.uid, "idTagInfo": info}
    id_token_type = ocpp_id_token_type(token.type)
    token_info: Entry = {"status": "Accepted"}
    if token.group_id:
        token_info["groupIdToken"] = {"idToken": token.group_id, "type": "Central"}
    if token.language:
        token_info["language1"] = token.language
    return entry_key(version, token.uid, id_token_type), {
        "idToken": {"idToken": token.uid, "type": id_token_type},
        "idTokenInfo": token_info,
    }


def _removal(version: str, key: str) -> Entry:
    """The entry that deletes `key` from the list: its identity without info."""
    if version == OcppVersion.V16:
        return {"idTag": key}
    id_token_type, uid = key.split(" ", 1)
    return {"idToken": {"idToken": uid, "type": id_token_type}}


@dataclass(frozen=True)
class Update:
    """What one SendLocalList carries, and the list the charge point holds once it accepts."""

    full: bool
    version: int
    entries: list[Entry]
    after: dict[str, str]  # {key: digest}


def plan(
    version: str,
    held: dict[str, str],
    held_version: int,
    wanted: Listed,
    *,
    full: bool,
    chunk: int,
) -> Update | None:
    """The next update from `held` (at `held_version`) towards `wanted`: None when it holds
    that list already. FULL: the first `chunk` entries replace whatever it has; DIFFERENTIAL:
    the first `chunk` differences (removals first: they free room on a full list)."""
    next_version = held_version + 1
    if full:
        keys = sorted(wanted.entries)[:chunk]
        return Update(
            True,
            next_version,
            [wanted.entries[key] for key in keys],
            {key: wanted.digests[key] for key in keys},
        )
    removed = sorted(key for key in held if key not in wanted.digests)
    changed = sorted(key for key, digest in wanted.digests.items() if held.get(key) != digest)
    if not removed and not changed:
        return None
    removed, changed = removed[:chunk], changed[: max(0, chunk - len(removed))]
    after = {key: digest for key, digest in held.items() if key not in removed}
    after.update({key: wanted.digests[key] for key in changed})
    entries = [_removal(version, key) for key in removed]
    entries += [wanted.entries[key] for key in changed]
    return Update(False, next_version, entries, after)


def payload_of(version: str, update: Update) -> dict[str, Any]:
    kind = "Full" if update.full else "Differential"
    if version == OcppVersion.V16:
        payload: dict[str, Any] = {"listVersion": update.version, "updateType": kind}
        if update.entries:
            payload["localAuthorizationList"] = update.entries
        return payload
    payload = {"versionNumber": update.version, "updateType": kind}
    if update.entries:
        payload["localAuthorizationList"] = update.entries
    return payload


def chunk_of(charge_point: ChargePoint, version: str) -> int:
    """OCPP_LOCAL_LIST_CHUNK, or less when the charge point said it takes fewer."""
    chunk = settings.OCPP_LOCAL_LIST_CHUNK
    component, variable = CHUNK_SETTING[OcppVersion(version)]
    value = (
        ChargePointSetting.objects.filter(
            charge_point=charge_point, component=component, variable=variable
        )
        .values_list("value", flat=True)
        .first()
    )
    if value is not None and value.strip().isdigit() and int(value) > 0:
        chunk = min(chunk, int(value))
    return max(1, chunk)


class UpdateInFlight(Exception):
    """An update of this charge point's list is still awaiting its answer: nothing sent."""


def sync(
    charge_point: ChargePoint,
    *,
    full: bool = False,
    wanted: Listed | None = None,
    requested_by: str = "",
) -> ChargePointCall | None:
    """Send the charge point the next update of its list (None: it holds the list already).
    Raises calls.ChargePointOffline, UpdateInFlight."""
    version = calls.version_of(charge_point)
    wanted = wanted if wanted is not None else listed(version)
    with transaction.atomic():
        state, _ = LocalAuthList.objects.select_for_update().get_or_create(
            charge_point=charge_point
        )
        if LocalListUpdate.objects.filter(
            charge_point=charge_point, call__state__in=(CallState.PENDING, CallState.SENT)
        ).exists():
            raise UpdateInFlight(f"An update of {charge_point.identity}'s list awaits its answer")
        update = plan(
            version,
            state.entries,
            state.version,
            wanted,
            full=full or state.version == 0,
            chunk=chunk_of(charge_point, version),
        )
        if update is None:
            return None
        sent = calls.send(
            charge_point,
            "SendLocalList",
            payload_of(version, update),
            follow_up=SENT,
            requested_by=requested_by,
        )
        LocalListUpdate.objects.create(
            call=sent,
            charge_point=charge_point,
            version=update.version,
            full=update.full,
            entries=update.after,
            changes=len(update.entries),
        )
    return sent


def get_version(charge_point: ChargePoint, **options: Any) -> ChargePointCall:
    """GetLocalListVersion; the answer is kept (LocalAuthList.reported_version)."""
    return calls.send(charge_point, "GetLocalListVersion", {}, follow_up=VERSION_READ, **options)


@follow_up(SENT)
def sent(call: ChargePointCall) -> None:
    """Accepted: the charge point holds the update's list now, and the next part is sent if
    there is more. VersionMismatch: a FULL list. Anything else: kept as the status."""
    update = LocalListUpdate.objects.select_related("charge_point").get(call=call)
    state = LocalAuthList.objects.select_for_update().get(charge_point=update.charge_point)
    if call.state == CallState.ANSWERED and call.response:
        status = str(call.response["status"])
    else:
        status = {CallState.FAILED: call.error_code or "Failed"}.get(
            CallState(call.state), "No answer"
        )
    update.status = status[:20]
    update.save(update_fields=["status"])
    state.status = status[:30]
    if status == "Accepted":
        state.version = update.version
        state.entries = update.entries
        state.digest = list_digest(update.entries)
        state.updated_at = call.finished_at or timezone.now()
    state.save()
    if status == "Accepted" or (status == "VersionMismatch" and not update.full):
        _next(update.charge_point, full=status == "VersionMismatch")


def _next(charge_point: ChargePoint, *, full: bool) -> None:
    try:
        sync(charge_point, full=full, requested_by="local list")
    except (calls.ChargePointOffline, UpdateInFlight) as exc:
        logger.info("Local list of %s not continued: %s", charge_point.identity, exc)


@follow_up(VERSION_READ)
def version_read(call: ChargePointCall) -> None:
    if call.state != CallState.ANSWERED or not call.response:
        return
    LocalAuthList.objects.update_or_create(
        charge_point_id=call.charge_point_id,
        defaults={
            "reported_version": call.response["listVersion"]
            if "listVersion" in call.response
            else call.response["versionNumber"],
            "reported_at": call.finished_at or timezone.now(),
        },
    )


def sync_all() -> int:
    """Bring up to date the lists of connected charge points that accepted one before (an
    operator started them, chargers.admin_maintenance): one computation per OCPP version.
    Returns how many updates were sent."""
    held = LocalAuthList.objects.filter(version__gt=0).exclude(charge_point__gateway="")
    wanted: dict[str, Listed] = {}
    count = 0
    for state in held.select_related("charge_point").iterator():
        charge_point = state.charge_point
        version = calls.version_of(charge_point)
        if version not in wanted:
            wanted[version] = listed(version)
        if state.digest == wanted[version].digest:
            continue
        try:
            if sync(charge_point, wanted=wanted[version], requested_by="local list") is not None:
                count += 1
        except (calls.ChargePointOffline, UpdateInFlight) as exc:
            logger.info("Local list of %s not brought up to date: %s", charge_point.identity, exc)
    return count
