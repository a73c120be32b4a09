"""TransactionEvent, OCPP 2.0.1 (chargers.transactions), and MeterValues outside transactions.

Always answered: a transaction message refused would be retried for ever or its data dropped
by the charge point. idTokenInfo answers an idToken sent: by the decision recorded for the
transaction's own token (or a repeated message), else by the one taken now (the Authorize
decision when recent: chargers.authorization). An Ended answers totalCost, the session's
final cost incl. VAT, once it is known: its CDR's, priced as the CDR was (1.6 has no such
field).
"""

from cdrs.models import Cdr
from chargers import transactions
from chargers.authorization import decision_for, id_token_info, recorded_decision
from chargers.handlers import Context, Payload, handles
from chargers.mapping import evse_of
from chargers.models import ChargerTransaction, OcppVersion


@handles(OcppVersion.V201, "TransactionEvent")
def transaction_event(context: Context, payload: Payload) -> Payload:
    charge_point = context.charge_point
    seq_no = payload["seqNo"]
    found = transactions.transaction_201(
        charge_point, payload["transactionInfo"]["transactionId"], context.received_at
    )
    id_token = payload.get("idToken")
    decision = None
    if id_token is not None:
        token, kind = id_token["idToken"], id_token["type"]
        own = (token, kind) == (found.id_token, found.id_token_type)
        if own or transactions.seen(found, seq_no):
            decision = recorded_decision(charge_point, token, kind)
        if decision is None:  # decided before the message is applied: its session starts from it
            decision = decision_for(charge_point, token, kind, context.received_at)
    recorded = transactions.record(
        found, payload["eventType"], payload, context.received_at, seq_no
    )
    answer: Payload = {}
    if payload["eventType"] == "Ended":
        cost = final_cost(recorded)
        if cost is not None:
            answer["totalCost"] = cost
    if decision is None:
        return answer
    evse = evse_of(charge_point, recorded.ocpp_evse_id) if recorded.ocpp_evse_id else None
    info = id_token_info(charge_point, decision, context.received_at, evse.uid if evse else None)
    return {**answer, "idTokenInfo": info}


def final_cost(recorded: ChargerTransaction) -> float | None:
    """The ended transaction's cost incl. VAT: the total of its session's CDR, built with the
    session's completion (0 when no tariff applied: what the CDR bills). None while the end
    is not applied (a message before it missing) or without a CDR (no session: a refused
    token; one never active: not billed). A JSON number, as OCPP's totalCost is: the CDR's
    4 decimals stay exact in a float's text."""
    if recorded.ended_at is None or recorded.session is None:
        return None
    cdr = Cdr.objects.of_session(recorded.session).only("total_cost_incl_vat").first()
    if cdr is None or cdr.total_cost_incl_vat is None:
        return None
    return float(cdr.total_cost_incl_vat)


@handles(OcppVersion.V201, "MeterValues")
def meter_values(context: Context, payload: Payload) -> Payload:
    """2.0.1 sends a transaction's values in its TransactionEvents; MeterValues carry an EVSE's
    values outside transactions (e.g. clock-aligned), which no session needs: acknowledged."""
    return {}
