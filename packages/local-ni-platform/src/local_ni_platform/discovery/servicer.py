"""gRPC face of the local Discovery Service (``ni.measurementlink.discovery.v1.DiscoveryService``).

Only translates: protobuf requests into registry calls, registry results into protobuf responses,
and registry errors into the status codes NI's proto documents. The rules live in
``registry.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from ni.measurementlink.discovery.v1 import discovery_service_pb2 as pb2
from ni.measurementlink.discovery.v1 import discovery_service_pb2_grpc as pb2_grpc

from local_ni_platform.discovery.errors import (
    AmbiguousServiceError,
    InvalidRequestError,
    ServiceNotFoundError,
)
from local_ni_platform.discovery.registry import (
    Registration,
    ServiceDescription,
    ServiceEndpoint,
    ServiceRegistry,
)
from local_ni_platform.status import StatusByError, call_with_status

_logger = logging.getLogger(__name__)

SERVICE_NAME: str = pb2.DESCRIPTOR.services_by_name["DiscoveryService"].full_name
"""Full gRPC name of the service, for health checking and reflection."""

_STATUS_BY_ERROR: StatusByError = {
    InvalidRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    ServiceNotFoundError: grpc.StatusCode.NOT_FOUND,
    AmbiguousServiceError: grpc.StatusCode.FAILED_PRECONDITION,
}

_T = TypeVar("_T")


class DiscoveryServicer(pb2_grpc.DiscoveryServiceServicer):
    """Serves a :class:`ServiceRegistry` over NI's Discovery Service protocol."""

    def __init__(self, registry: ServiceRegistry) -> None:
        """Serve ``registry``."""
        self._registry = registry

    def RegisterService(  # noqa: N802 - gRPC method name
        self, request: pb2.RegisterServiceRequest, context: grpc.ServicerContext
    ) -> pb2.RegisterServiceResponse:
        """Register a service instance; INVALID_ARGUMENT names the missing or bad field."""
        if not request.HasField("service_description"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "service_description is required")
        if not request.HasField("location"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "location is required")
        description = _description_from_proto(request.service_description)
        endpoint = _endpoint_from_proto(request.location)
        registration = _call(context, lambda: self._registry.register(description, endpoint))
        return pb2.RegisterServiceResponse(registration_id=registration.registration_id)

    def UnregisterService(  # noqa: N802 - gRPC method name
        self, request: pb2.UnregisterServiceRequest, context: grpc.ServicerContext
    ) -> pb2.UnregisterServiceResponse:
        """Unregister a service instance; an unknown id is not an error."""
        self._registry.unregister(request.registration_id)
        return pb2.UnregisterServiceResponse()

    def EnumerateServices(  # noqa: N802 - gRPC method name
        self, request: pb2.EnumerateServicesRequest, context: grpc.ServicerContext
    ) -> pb2.EnumerateServicesResponse:
        """List services, one entry per service class with all its versions."""
        services = self._registry.services(
            provided_interface=request.provided_interface, service_class=request.service_class
        )
        return pb2.EnumerateServicesResponse(
            available_services=[_description_to_proto(service) for service in services]
        )

    def ResolveService(  # noqa: N802 - gRPC method name
        self, request: pb2.ResolveServiceRequest, context: grpc.ServicerContext
    ) -> pb2.ServiceLocation:
        """Return the location of the one matching service (NOT_FOUND / FAILED_PRECONDITION)."""
        registration = self._resolve(request, context)
        return _endpoint_to_proto(registration.endpoint)

    def ResolveServiceWithInformation(  # noqa: N802 - gRPC method name
        self, request: pb2.ResolveServiceWithInformationRequest, context: grpc.ServicerContext
    ) -> pb2.ResolveServiceWithInformationResponse:
        """Like ResolveService, plus the descriptor (whose versions hold the resolved one)."""
        registration = self._resolve(request, context)
        return pb2.ResolveServiceWithInformationResponse(
            service_location=_endpoint_to_proto(registration.endpoint),
            service_descriptor=_description_to_proto(registration.description),
        )

    def EnumerateComputeNodes(  # noqa: N802 - gRPC method name
        self, request: pb2.EnumerateComputeNodesRequest, context: grpc.ServicerContext
    ) -> pb2.EnumerateComputeNodesResponse:
        """Return the local node only, so NI's clients resolve with deployment_target ""."""
        return pb2.EnumerateComputeNodesResponse(
            compute_nodes=[
                pb2.ComputeNodeDescriptor(url=node.url, is_local=node.is_local)
                for node in self._registry.compute_nodes()
            ]
        )

    def EnumerateActiveServices(  # noqa: N802 - gRPC method name
        self, request: pb2.EnumerateActiveServicesRequest, context: grpc.ServicerContext
    ) -> pb2.EnumerateActiveServicesResponse:
        """List every registered instance with its location (diagnostics)."""
        registrations = self._registry.active_services(
            provided_interface=request.provided_interface, service_class=request.service_class
        )
        return pb2.EnumerateActiveServicesResponse(
            active_services=[
                pb2.ActiveServiceInformation(
                    service_descriptor=_description_to_proto(registration.description),
                    service_location=_endpoint_to_proto(registration.endpoint),
                )
                for registration in registrations
            ]
        )

    def _resolve(
        self,
        request: pb2.ResolveServiceRequest | pb2.ResolveServiceWithInformationRequest,
        context: grpc.ServicerContext,
    ) -> Registration:
        """Resolve a request of either resolve RPC through the registry."""
        return _call(
            context,
            lambda: self._registry.resolve(
                provided_interface=request.provided_interface,
                service_class=request.service_class,
                deployment_target=request.deployment_target,
                version=request.version,
            ),
        )


def _call(context: grpc.ServicerContext, action: Callable[[], _T]) -> _T:
    """Run a registry call; turn its request errors into the documented status codes."""
    return call_with_status(context, _STATUS_BY_ERROR, action)


def _description_from_proto(message: pb2.ServiceDescriptor) -> ServiceDescription:
    """Registry view of a protobuf ``ServiceDescriptor``."""
    return ServiceDescription(
        display_name=message.display_name,
        service_class=message.service_class,
        provided_interfaces=tuple(message.provided_interfaces),
        description_url=message.description_url,
        annotations=dict(message.annotations),
        versions=tuple(message.versions),
    )


def _description_to_proto(description: ServiceDescription) -> pb2.ServiceDescriptor:
    """Protobuf ``ServiceDescriptor`` of a registry description."""
    return pb2.ServiceDescriptor(
        display_name=description.display_name,
        description_url=description.description_url,
        provided_interfaces=description.provided_interfaces,
        service_class=description.service_class,
        annotations=description.annotations,
        versions=description.versions,
    )


def _endpoint_from_proto(message: pb2.ServiceLocation) -> ServiceEndpoint:
    """Registry view of a protobuf ``ServiceLocation``."""
    return ServiceEndpoint(
        location=message.location,
        insecure_port=message.insecure_port,
        ssl_authenticated_port=message.ssl_authenticated_port,
    )


def _endpoint_to_proto(endpoint: ServiceEndpoint) -> pb2.ServiceLocation:
    """Protobuf ``ServiceLocation`` of a registry endpoint."""
    return pb2.ServiceLocation(
        location=endpoint.location,
        insecure_port=endpoint.insecure_port,
        ssl_authenticated_port=endpoint.ssl_authenticated_port,
    )
