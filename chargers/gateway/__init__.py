"""The OCPP gateway: the websocket server charge points connect to."""
