"""Registration with the NI Discovery Service, described by a service's ``.serviceconfig``.

Clients find a service by its provided interface and service class; keep those values stable.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ni.measurementlink.discovery.v1.client import DiscoveryClient, ServiceInfo, ServiceLocation

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    """The fields of a ``.serviceconfig`` entry this service uses."""

    display_name: str
    service_class: str
    provided_interfaces: tuple[str, ...]
    version: str
    description_url: str

    @property
    def provided_interface(self) -> str:
        """The interface clients resolve."""
        return self.provided_interfaces[0]

    def service_info(self) -> ServiceInfo:
        """The discovery client's description of this service."""
        return ServiceInfo(
            service_class=self.service_class,
            description_url=self.description_url,
            provided_interfaces=list(self.provided_interfaces),
            display_name=self.display_name,
            versions=[self.version] if self.version else [],
        )


def load_service_config(path: Path) -> ServiceConfig:
    """Read the first service of a ``.serviceconfig`` (NI's list form or the singular form)."""
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    service = document["services"][0]
    interfaces = service.get("providedInterfaces") or [service["providedInterface"]]
    return ServiceConfig(
        display_name=service["displayName"],
        service_class=service["serviceClass"],
        provided_interfaces=tuple(interfaces),
        version=service.get("version", ""),
        description_url=service.get("descriptionUrl", ""),
    )


class DiscoveryRegistration:
    """Registers one service location and unregisters it exactly once."""

    def __init__(self, config: ServiceConfig, *, discovery_client: DiscoveryClient) -> None:
        self._config = config
        self._discovery_client = discovery_client
        self._registration_id = ""

    def register(self, host: str, port: int) -> None:
        """Register ``host:port``; raises when the Discovery Service cannot be reached."""
        location = ServiceLocation(
            location=host, insecure_port=str(port), ssl_authenticated_port=""
        )
        self._registration_id = self._discovery_client.register_service(
            self._config.service_info(), location
        )
        _logger.info(
            "Registered %s (%s) at %s:%s.",
            self._config.provided_interface,
            self._config.service_class,
            host,
            port,
        )

    def unregister(self) -> None:
        """Unregister; failures are logged, never raised (this runs during shutdown)."""
        registration_id, self._registration_id = self._registration_id, ""
        if not registration_id:
            return
        try:
            self._discovery_client.unregister_service(registration_id)
        except Exception:
            _logger.warning("Could not unregister from the Discovery Service.", exc_info=True)
