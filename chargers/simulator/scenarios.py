"""The misbehaviours of real charge points, scriptable (`simulate_chargers --scenario`).

What central systems' users report most (issue 12): transactions replayed after an offline
period, twice, out of order; clocks at 1970; Wh labelled kWh; a reboot that forgets a running
transaction; every charge point of a site reconnecting at once.
"""

from dataclasses import dataclass
from enum import StrEnum


class Scenario(StrEnum):
    NORMAL = "normal"
    OFFLINE_REPLAY = "offline-replay"  # offline mid-transaction; queued messages replayed
    DUPLICATES = "duplicates"  # every transaction message sent twice
    OUT_OF_ORDER = "out-of-order"  # offline mid-transaction; the queue replayed shuffled
    CLOCK_1970 = "clock-1970"  # timestamps from the epoch: the clock was never set
    WH_AS_KWH = "wh-as-kwh"  # energy in Wh, labelled kWh
    REBOOT = "reboot"  # BootNotification mid-transaction; the transaction never stopped
    RECONNECT_STORM = "reconnect-storm"  # all charge points drop and reconnect at once
    REMOTE_REFUSED = "remote-refused"  # remote start, remote stop and unlock refused


# Meter samples into a transaction before the charge point goes offline or reboots, and how
# many meter intervals it stays offline.
SAMPLES_BEFORE_MISHAP = 2
OFFLINE_INTERVALS = 3


@dataclass(frozen=True)
class Behaviour:
    offline_after_samples: int | None = None
    offline_intervals: int = OFFLINE_INTERVALS
    shuffle_replay: bool = False
    send_twice: bool = False
    clock_never_set: bool = False
    wh_labelled_kwh: bool = False
    reboot_after_samples: int | None = None
    storm: bool = False
    # Remote start/stop and unlock answered Rejected (unlock: UnlockFailed) whatever the state.
    refuse_remote: bool = False
    # AuthorizeRemoteTxRequests (1.6) / AuthorizeRemoteStart (2.0.1): a remote start asks
    # Authorize first; off, the transaction starts at once with the token it was sent.
    authorize_remote_start: bool = True

    @classmethod
    def of(cls, scenario: Scenario) -> "Behaviour":
        return {
            Scenario.NORMAL: cls(),
            Scenario.OFFLINE_REPLAY: cls(offline_after_samples=SAMPLES_BEFORE_MISHAP),
            Scenario.DUPLICATES: cls(send_twice=True),
            Scenario.OUT_OF_ORDER: cls(
                offline_after_samples=SAMPLES_BEFORE_MISHAP, shuffle_replay=True
            ),
            Scenario.CLOCK_1970: cls(clock_never_set=True),
            Scenario.WH_AS_KWH: cls(wh_labelled_kwh=True),
            Scenario.REBOOT: cls(reboot_after_samples=SAMPLES_BEFORE_MISHAP),
            Scenario.RECONNECT_STORM: cls(storm=True),
            Scenario.REMOTE_REFUSED: cls(refuse_remote=True),
        }[scenario]
