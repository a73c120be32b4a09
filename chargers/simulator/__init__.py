"""Simulated charge points (`manage.py simulate_chargers`), on the ocpp library's client side.

    station.py    what every simulated charge point does, whatever its OCPP version: connect
                  (and reconnect), boot, heartbeat, report status, queue transaction messages
                  while offline and replay them, charge, answer the central system's calls
    v16.py        OCPP 1.6J: its messages and its answers to the central system
    v201.py       OCPP 2.0.1: the same
    meter.py      the energy register of each EVSE and the car on its cable
    clock.py      the charge point's clock (right, or never set: 1970)
    scenarios.py  the misbehaviours of real charge points, scriptable
    fleet.py      N charge points at once: the reconnect storm, a clean stop, one line per event
    provision.py  the charge points to simulate, provisioned on our free EVSEs

Only provision.py touches the database: the rest is plain asyncio, so it also runs against
any central system (`--url`).
"""
