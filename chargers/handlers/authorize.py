"""Authorize, OCPP 1.6 and 2.0.1: a driver's tap, decided and recorded (chargers.authorization)."""

from chargers.authorization import authorize_id_token, id_tag_info, id_token_info
from chargers.handlers import Context, Payload, handles
from chargers.models import OcppVersion


@handles(OcppVersion.V16, "Authorize")
def authorize_16(context: Context, payload: Payload) -> Payload:
    decision = authorize_id_token(context.charge_point, payload["idTag"], "", context.received_at)
    return {"idTagInfo": id_tag_info(decision, context.received_at)}


@handles(OcppVersion.V201, "Authorize")
def authorize_201(context: Context, payload: Payload) -> Payload:
    id_token = payload["idToken"]
    decision = authorize_id_token(
        context.charge_point, id_token["idToken"], id_token["type"], context.received_at
    )
    return {"idTokenInfo": id_token_info(context.charge_point, decision, context.received_at)}
