"""Enumerations of the transport and configuration layer, values verbatim from the spec."""

from django.db import models


class VersionNumber(models.TextChoices):
    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"


SUPPORTED_VERSION = VersionNumber.V2_2_1


class InterfaceRole(models.TextChoices):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ModuleID(models.TextChoices):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


CONFIGURATION_MODULES = frozenset(
    {"versions", ModuleID.CREDENTIALS.value, ModuleID.HUB_CLIENT_INFO.value}
)


def pushed_to(module: str) -> str:
    """The role of the partner's endpoint that takes our pushes of `module`: its Receiver
    interface, except chargingprofiles, whose eMSP (SCSP) side is the Sender interface and
    takes the CPO's ActiveChargingProfile PUT (mod_charging_profiles, eMSP PUT method)."""
    if module == ModuleID.CHARGING_PROFILES:
        return InterfaceRole.SENDER.value
    return InterfaceRole.RECEIVER.value


class Role(models.TextChoices):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ImageCategory(models.TextChoices):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class EnergySourceCategory(models.TextChoices):
    """EnergySource.source (mod_locations, EnergySourceCategory), for locations and tariffs."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(models.TextChoices):
    """EnvironmentalImpact.category (mod_locations, EnvironmentalImpactCategory)."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"
