"""Charger models of the demo estate: the connectors each EVSE of a model carries.

AC voltages are line to neutral, as the spec defines max_voltage for AC_3_PHASE, so a
three-phase 32 A socket is 230 V, 32 A, 22 080 W. DC chargers are limited by power before
voltage times current, so their max_electric_power is below that product.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Plug:
    standard: str
    format: str
    power_type: str
    max_voltage: int
    max_amperage: int
    max_electric_power: int

    @property
    def is_dc(self) -> bool:
        return self.power_type == "DC"


T2_11 = Plug("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 16, 11_040)
T2_22 = Plug("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32, 22_080)
T2_22_CABLE = Plug("IEC_62196_T2", "CABLE", "AC_3_PHASE", 230, 32, 22_080)
T2_7_SINGLE = Plug("IEC_62196_T2", "SOCKET", "AC_1_PHASE", 230, 32, 7_360)
SCHUKO = Plug("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 16, 3_680)
T2_43_CABLE = Plug("IEC_62196_T2", "CABLE", "AC_3_PHASE", 230, 63, 43_470)
CCS_50 = Plug("IEC_62196_T2_COMBO", "CABLE", "DC", 500, 125, 50_000)
CHADEMO_50 = Plug("CHADEMO", "CABLE", "DC", 500, 125, 50_000)
CCS_150 = Plug("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 200, 150_000)
CCS_300 = Plug("IEC_62196_T2_COMBO", "CABLE", "DC", 1000, 500, 300_000)


@dataclass(frozen=True)
class Model:
    """A charger model. Its code is part of the EVSE uid: connectors are never deleted, so an
    EVSE whose connectors change (another seed) is a new EVSE replacing a REMOVED one."""

    code: str
    plugs: tuple[Plug, ...]
    capabilities: tuple[str, ...]
    image: str  # file name under IMAGES

    @property
    def is_dc(self) -> bool:
        return any(plug.is_dc for plug in self.plugs)


_AC = ("RFID_READER", "REMOTE_START_STOP_CAPABLE", "UNLOCK_CAPABLE", "CHARGING_PROFILE_CAPABLE")
_DC = (
    "RFID_READER",
    "REMOTE_START_STOP_CAPABLE",
    "CHARGING_PROFILE_CAPABLE",
    "CREDIT_CARD_PAYABLE",
    "DEBIT_CARD_PAYABLE",
    "CONTACTLESS_CARD_SUPPORT",
    "PED_TERMINAL",
)

AC11 = Model("AC11", (T2_11,), _AC, "wallbox-11kw.png")
AC22 = Model("AC22", (T2_22,), _AC, "post-22kw.png")
AC22_CABLE = Model("AC22C", (T2_22_CABLE,), _AC, "post-22kw-cable.png")
AC7_SCHUKO = Model("AC7F", (T2_7_SINGLE, SCHUKO), _AC[:2], "wallbox-7kw-schuko.png")
DC50 = Model("DC50", (CCS_50, CHADEMO_50, T2_43_CABLE), _DC, "triple-50kw.png")
DC150 = Model("DC150", (CCS_150,), _DC, "fast-150kw.png")
DC300 = Model("DC300", (CCS_300,), _DC, "hpc-300kw.png")
