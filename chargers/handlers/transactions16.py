"""StartTransaction, MeterValues and StopTransaction, OCPP 1.6 (chargers.transactions).

Always answered: a transaction message refused would be retried for ever or its data dropped
by the charge point. A refused token is answered so (the charge point stops charging), and its
transaction is still kept, without a session: nobody is billed for it.
"""

from typing import Any

from chargers import transactions
from chargers.authorization import decision_for, id_tag_info, recorded_decision
from chargers.handlers import Context, Payload, handles
from chargers.mapping import evse_of
from chargers.metering import moment
from chargers.models import ChargerTransaction, OcppVersion
from chargers.transaction_steps import METER_VALUES, STOP_TRANSACTION


@handles(OcppVersion.V16, "StartTransaction")
def start_transaction(context: Context, payload: Payload) -> Payload:
    """Our transactionId (the same for the same StartTransaction again) and its idTagInfo;
    the token's decision is the Authorize one when recent (chargers.authorization)."""
    charge_point = context.charge_point
    id_tag = payload["idTag"]
    repeated = transactions.repeated_start(charge_point, payload)
    decision = recorded_decision(charge_point, id_tag, "") if repeated else None
    if decision is None:
        decision = decision_for(charge_point, id_tag, "", context.received_at)
    started = repeated or transactions.start_transaction_16(
        charge_point, payload, context.received_at
    )
    evse = evse_of(charge_point, payload["connectorId"])
    return {
        "transactionId": int(started.transaction_id),
        "idTagInfo": id_tag_info(decision, context.received_at, evse.uid if evse else None),
    }


@handles(OcppVersion.V16, "MeterValues")
def meter_values(context: Context, payload: Payload) -> Payload:
    """Values of a transaction (named, else the one running at the connector then); values
    of no transaction (connector 0, an idle connector) are not kept."""
    charge_point = context.charge_point
    transaction_id = payload.get("transactionId")
    if transaction_id is not None:
        recorded = transactions.record_of(
            charge_point, str(transaction_id), METER_VALUES, payload, context.received_at
        )
        if recorded is None:
            _unknown(context, transaction_id)
        return {}
    first = min(mv["timestamp"] for mv in payload["meterValue"])
    at = moment(charge_point, first, context.received_at)
    found = transactions.open_transaction_at(charge_point, payload["connectorId"], at)
    if found is not None:
        transactions.record(found, METER_VALUES, payload, context.received_at)
    return {}


@handles(OcppVersion.V16, "StopTransaction")
def stop_transaction(context: Context, payload: Payload) -> Payload:
    """The transaction ends (or is known to have ended, if it was closed meanwhile); a token
    that stopped it is answered by its recorded decision if it is the transaction's, else by
    the recent one or a new one."""
    found = _transaction(context, payload["transactionId"])
    answer: Payload = {}
    id_tag = payload.get("idTag")
    if id_tag:
        decision = recorded_decision(context.charge_point, id_tag, "")
        if decision is None or found is None or found.id_token != id_tag:
            decision = decision_for(context.charge_point, id_tag, "", context.received_at)
        answer["idTagInfo"] = id_tag_info(decision, context.received_at)
    if found is not None:
        transactions.record(found, STOP_TRANSACTION, payload, context.received_at)
    return answer


def _transaction(context: Context, transaction_id: Any) -> ChargerTransaction | None:
    found = transactions.transaction_of(context.charge_point, str(transaction_id))
    if found is None:
        _unknown(context, transaction_id)
    return found


def _unknown(context: Context, transaction_id: Any) -> None:
    transactions.logger.warning(
        "Charge point %s sent a message of transaction %s, which we never started",
        context.charge_point,
        transaction_id,
    )
