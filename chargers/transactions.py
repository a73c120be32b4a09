"""Transactions of charge points (replaced at merge by the transactions branch).

Only what the boot handler calls exists here: the transactions branch owns this module and
decides what a reboot does to the transactions it left open.
"""

from datetime import datetime

from chargers.models import ChargePoint


def after_boot(charge_point: ChargePoint, at: datetime) -> None:
    """`charge_point` rebooted at `at` (our clock): settle the transactions it left open.

    Nothing here: replaced at merge by the transactions branch's rule.
    """
