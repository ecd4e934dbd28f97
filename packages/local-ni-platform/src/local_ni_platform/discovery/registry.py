"""In-memory registry of the local Discovery Service: registration, enumeration and resolution.

It implements the rules of NI's ``DiscoveryService`` protocol without any gRPC type, so it can be
tested and reused directly; ``servicer.py`` maps requests, responses and errors onto the wire.
All methods are thread-safe (one lock; gRPC calls them from a thread pool).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from local_ni_platform.discovery.errors import (
    AmbiguousServiceError,
    InvalidRequestError,
    ServiceNotFoundError,
)
from local_ni_platform.discovery.versions import (
    parse_version,
    registered_version,
    version_key,
)

_logger = logging.getLogger(__name__)

_PORT_PATTERN = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class ServiceDescription:
    """What a service says about itself (NI's ``ServiceDescriptor``)."""

    display_name: str
    service_class: str
    provided_interfaces: tuple[str, ...]
    description_url: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)
    versions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy keeps registered records immutable even if the caller's dict changes.
        object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))


@dataclass(frozen=True)
class ServiceEndpoint:
    """Where a service listens (NI's ``ServiceLocation``); ports are strings, as on the wire."""

    location: str
    insecure_port: str = ""
    ssl_authenticated_port: str = ""


@dataclass(frozen=True)
class Registration:
    """One registered service instance; ``description.versions`` holds its version, if any."""

    registration_id: str
    description: ServiceDescription
    endpoint: ServiceEndpoint

    @property
    def version(self) -> str:
        """The registered version, or "" for a service registered without one."""
        return self.description.versions[0] if self.description.versions else ""


@dataclass(frozen=True)
class ComputeNode:
    """A deployment target (NI's ``ComputeNodeDescriptor``)."""

    url: str
    is_local: bool


class ServiceRegistry:
    """The registered services of one local Discovery Service."""

    def __init__(self, *, local_node_url: str) -> None:
        """Create an empty registry whose only compute node is ``local_node_url``."""
        self._local_node_url = local_node_url
        self._lock = threading.Lock()
        self._registrations: dict[str, Registration] = {}

    @property
    def local_node_url(self) -> str:
        """URL of the local compute node, the one deployment target besides ""."""
        return self._local_node_url

    def compute_nodes(self) -> list[ComputeNode]:
        """The compute nodes: only the local one.

        With no remote node, NI's Pin Map and Session Management clients resolve with
        ``deployment_target=""``.
        """
        return [ComputeNode(url=self._local_node_url, is_local=True)]

    def register(self, description: ServiceDescription, endpoint: ServiceEndpoint) -> Registration:
        """Validate and add a service; return its registration.

        A registration with the same service class and version as an existing one replaces it,
        so a restarted service never makes resolution ambiguous.

        Raises:
            InvalidRequestError: a required field is empty or a port or version is malformed.
        """
        _validate_description(description)
        _validate_endpoint(endpoint)
        version = registered_version(description.versions)
        registration = Registration(
            registration_id=uuid.uuid4().hex,
            description=replace(description, versions=(version,) if version else ()),
            endpoint=endpoint,
        )
        with self._lock:
            replaced = [
                existing
                for existing in self._registrations.values()
                if existing.description.service_class == description.service_class
                and existing.version == version
            ]
            for existing in replaced:
                del self._registrations[existing.registration_id]
            self._registrations[registration.registration_id] = registration
        for existing in replaced:
            _logger.info(
                "Registration %s of %s replaces %s.",
                registration.registration_id,
                description.service_class,
                existing.registration_id,
            )
        _logger.info(
            "Registered %s (version %s) at %s, id %s.",
            description.service_class,
            version or "none",
            _describe_endpoint(endpoint),
            registration.registration_id,
        )
        return registration

    def unregister(self, registration_id: str) -> bool:
        """Remove a registration; return whether it existed (unknown ids are harmless)."""
        with self._lock:
            removed = self._registrations.pop(registration_id, None)
        if removed is None:
            _logger.debug("Unregister of unknown id %r ignored.", registration_id)
            return False
        _logger.info("Unregistered %s, id %s.", removed.description.service_class, registration_id)
        return True

    def active_services(
        self, *, provided_interface: str = "", service_class: str = ""
    ) -> list[Registration]:
        """Every matching registration, one per instance, in registration order."""
        with self._lock:
            registrations = list(self._registrations.values())
        return [
            registration
            for registration in registrations
            if _matches(registration, provided_interface, service_class)
        ]

    def services(
        self, *, provided_interface: str = "", service_class: str = ""
    ) -> list[ServiceDescription]:
        """Matching services, one per service class, listing all its registered versions.

        Each entry describes the class's latest version; classes are sorted by name.
        """
        by_class: dict[str, list[Registration]] = {}
        for registration in self.active_services(
            provided_interface=provided_interface, service_class=service_class
        ):
            by_class.setdefault(registration.description.service_class, []).append(registration)
        services = []
        for name in sorted(by_class):
            instances = sorted(by_class[name], key=lambda item: version_key(item.version))
            versions = tuple(dict.fromkeys(item.version for item in instances if item.version))
            services.append(replace(instances[-1].description, versions=versions))
        return services

    def resolve(
        self,
        *,
        provided_interface: str,
        service_class: str = "",
        deployment_target: str = "",
        version: str = "",
    ) -> Registration:
        """Find the one service a client should talk to.

        ``service_class`` "" matches any class, ``deployment_target`` "" means the local node,
        ``version`` "" means the latest version of the matching class.

        Raises:
            InvalidRequestError: ``provided_interface`` is empty.
            ServiceNotFoundError: nothing matches (or the deployment target is unknown).
            AmbiguousServiceError: services of more than one class match.
        """
        if not provided_interface:
            raise InvalidRequestError("provided_interface is required")
        wanted = _describe_request(provided_interface, service_class, version)
        if deployment_target and deployment_target.rstrip("/") != self._local_node_url:
            raise ServiceNotFoundError(
                f"No service {wanted} on deployment target {deployment_target!r}: the local "
                f'discovery only knows its own node {self._local_node_url!r} (or "" for local).'
            )
        candidates = self.active_services(
            provided_interface=provided_interface, service_class=service_class
        )
        if version:
            requested = parse_version(version)
            candidates = [
                candidate
                for candidate in candidates
                if requested is not None and version_key(candidate.version) == requested
            ]
        if not candidates:
            raise ServiceNotFoundError(f"No registered service {wanted}.")
        latest_by_class: dict[str, Registration] = {}
        for candidate in candidates:
            name = candidate.description.service_class
            best = latest_by_class.get(name)
            if best is None or version_key(candidate.version) > version_key(best.version):
                latest_by_class[name] = candidate
        if len(latest_by_class) > 1:
            classes = ", ".join(sorted(latest_by_class))
            raise AmbiguousServiceError(
                f"{len(latest_by_class)} registered services match {wanted} "
                f"(service classes: {classes}); pass a service_class to choose one."
            )
        (resolved,) = latest_by_class.values()
        return resolved


def _matches(registration: Registration, provided_interface: str, service_class: str) -> bool:
    """Whether a registration passes the optional interface and class filters."""
    description = registration.description
    if provided_interface and provided_interface not in description.provided_interfaces:
        return False
    return not service_class or description.service_class == service_class


def _describe_request(provided_interface: str, service_class: str, version: str) -> str:
    """Human-readable description of a resolve request, for error messages."""
    text = f"providing interface {provided_interface!r}"
    if service_class:
        text += f" with service class {service_class!r}"
    else:
        text += " (any service class)"
    if version:
        text += f" at version {version!r}"
    return text


def _describe_endpoint(endpoint: ServiceEndpoint) -> str:
    """``location:port`` for log messages."""
    port = endpoint.insecure_port or endpoint.ssl_authenticated_port
    return f"{endpoint.location}:{port}"


def _validate_description(description: ServiceDescription) -> None:
    """Reject what NI's service rejects with INVALID_ARGUMENT (the descriptor part)."""
    if not description.display_name.strip():
        raise InvalidRequestError("service_description.display_name is required")
    if not description.provided_interfaces:
        raise InvalidRequestError("service_description.provided_interfaces is required")
    if any(not interface.strip() for interface in description.provided_interfaces):
        raise InvalidRequestError(
            "service_description.provided_interfaces must not contain an empty name"
        )
    if not description.service_class.strip():
        raise InvalidRequestError("service_description.service_class is required")


def _validate_endpoint(endpoint: ServiceEndpoint) -> None:
    """Reject what NI's service rejects with INVALID_ARGUMENT (the location part)."""
    if not endpoint.location.strip():
        raise InvalidRequestError("location.location is required")
    if not endpoint.insecure_port and not endpoint.ssl_authenticated_port:
        raise InvalidRequestError(
            "location needs an insecure_port or an ssl_authenticated_port (both are empty)"
        )
    for name, port in (
        ("insecure_port", endpoint.insecure_port),
        ("ssl_authenticated_port", endpoint.ssl_authenticated_port),
    ):
        if port and not (_PORT_PATTERN.fullmatch(port) and 0 < int(port) < 65536):
            raise InvalidRequestError(f"location.{name} {port!r} is not a port number (1-65535)")
