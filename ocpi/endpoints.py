"""The modules this platform offers, listed in its version details (versions module).

Each module app registers its endpoints in its AppConfig.ready(); the versions view lists
what is registered, so enabling an app publishes its module and nothing else has to know.
"""

from dataclasses import dataclass

from django.conf import settings

from ocpi.enums import InterfaceRole, ModuleID


@dataclass(frozen=True)
class ModuleEndpoint:
    identifier: str
    role: InterfaceRole
    path: str  # below OCPI_BASE_URL, without a trailing slash, e.g. /ocpi/cpo/2.2.1/locations

    @property
    def url(self) -> str:
        return settings.OCPI_BASE_URL + self.path


_registry: dict[tuple[str, str], ModuleEndpoint] = {}


def register(endpoint: ModuleEndpoint) -> None:
    """Offer an endpoint; the same (identifier, role) twice is a programming error."""
    key = (endpoint.identifier, endpoint.role.value)
    existing = _registry.get(key)
    if existing is not None and existing != endpoint:
        raise ValueError(f"endpoint {key} registered twice with different paths")
    _registry[key] = endpoint


def registered() -> list[ModuleEndpoint]:
    """Return the endpoints in a stable order: credentials first, then by identifier and role."""
    return sorted(
        _registry.values(),
        key=lambda e: (e.identifier != ModuleID.CREDENTIALS, e.identifier, e.role),
    )
