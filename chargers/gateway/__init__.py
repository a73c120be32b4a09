"""The OCPP-J gateway (`python manage.py ocpp_gateway`): charge points' websockets, admission,
framing and validation, the dispatch of their CALLs to chargers.handlers, the message log."""
