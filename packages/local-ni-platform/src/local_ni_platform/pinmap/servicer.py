"""gRPC face of the local Pin Map Service (``ni.measurementlink.pinmap.v1.PinMapService``).

Only translates protobuf requests into :class:`PinMapStore` and query calls, and errors into the
status codes NI's proto documents. The rules live in ``parser.py`` and ``resources.py``.
"""

from __future__ import annotations

import grpc
from ni.measurementlink.pinmap.v1 import pin_map_service_pb2 as pb2
from ni.measurementlink.pinmap.v1 import pin_map_service_pb2_grpc as pb2_grpc

from local_ni_platform.pinmap.errors import (
    InvalidPinMapError,
    InvalidPinMapIdError,
    PinMapAlreadyExistsError,
    PinMapNotFoundError,
    UnknownPinOrRelayError,
    UnknownSiteError,
)
from local_ni_platform.pinmap.resources import (
    ResourceAccessResult,
    query_pins,
    query_relays,
    query_resource_access,
)
from local_ni_platform.pinmap.store import PinMapStore
from local_ni_platform.status import StatusByError, call_with_status

SERVICE_NAME: str = pb2.DESCRIPTOR.services_by_name["PinMapService"].full_name
"""Full gRPC name of the service; also the interface and class NI's client resolves."""

_STATUS_BY_ERROR: StatusByError = {
    InvalidPinMapError: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidPinMapIdError: grpc.StatusCode.INVALID_ARGUMENT,
    PinMapAlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    PinMapNotFoundError: grpc.StatusCode.NOT_FOUND,
    # The Pin Map proto documents NOT_FOUND for a site out of range (Session Management says
    # INVALID_ARGUMENT for the same problem).
    UnknownSiteError: grpc.StatusCode.NOT_FOUND,
    UnknownPinOrRelayError: grpc.StatusCode.INVALID_ARGUMENT,
}


class PinMapServicer(pb2_grpc.PinMapServiceServicer):
    """Serves a :class:`PinMapStore` over NI's Pin Map Service protocol."""

    def __init__(self, store: PinMapStore) -> None:
        """Serve ``store``."""
        self._store = store

    def CreatePinMapFromXml(  # noqa: N802 - gRPC method name
        self, request: pb2.CreatePinMapFromXmlRequest, context: grpc.ServicerContext
    ) -> pb2.PinMap:
        """Register a new pin map (ALREADY_EXISTS if the id is taken)."""
        call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: self._store.create_from_xml(request.pin_map_id, request.pin_map_xml),
        )
        return pb2.PinMap(pin_map_id=request.pin_map_id)

    def UpdatePinMapFromXml(  # noqa: N802 - gRPC method name
        self, request: pb2.UpdatePinMapFromXmlRequest, context: grpc.ServicerContext
    ) -> pb2.PinMap:
        """Register or replace a pin map; the id is echoed unchanged (callers rely on it)."""
        call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: self._store.update_from_xml(request.pin_map_id, request.pin_map_xml),
        )
        return pb2.PinMap(pin_map_id=request.pin_map_id)

    def GetPinMap(  # noqa: N802 - gRPC method name
        self, request: pb2.GetPinMapRequest, context: grpc.ServicerContext
    ) -> pb2.PinMap:
        """Return the pin map resource (NOT_FOUND if unknown)."""
        call_with_status(context, _STATUS_BY_ERROR, lambda: self._store.get(request.pin_map_id))
        return pb2.PinMap(pin_map_id=request.pin_map_id)

    def QueryPins(  # noqa: N802 - gRPC method name
        self, request: pb2.QueryPinsRequest, context: grpc.ServicerContext
    ) -> pb2.QueryPinsResponse:
        """List pins and pin groups, optionally only those wired to one instrument type."""
        result = call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: query_pins(self._store.get(request.pin_map_id), request.instrument_type_id),
        )
        return pb2.QueryPinsResponse(
            pins=[
                pb2.PinDefinition(display_name=pin.name, is_system_pin=pin.is_system)
                for pin in result.pins
            ],
            pin_groups=[
                pb2.PinGroupDefinition(
                    display_name=group.name,
                    pin_or_group_references=group.references,
                    resolved_pins=group.resolved,
                )
                for group in result.pin_groups
            ],
        )

    def QueryRelays(  # noqa: N802 - gRPC method name
        self, request: pb2.QueryRelaysRequest, context: grpc.ServicerContext
    ) -> pb2.QueryRelaysResponse:
        """List relays and relay groups."""
        relays, groups = call_with_status(
            context, _STATUS_BY_ERROR, lambda: query_relays(self._store.get(request.pin_map_id))
        )
        return pb2.QueryRelaysResponse(
            relays=[
                pb2.RelayDefinition(display_name=relay.name, is_system_relay=relay.is_system)
                for relay in relays
            ],
            relay_groups=[
                pb2.RelayGroupDefinition(
                    display_name=group.name,
                    relay_or_group_references=group.references,
                    resolved_relays=group.resolved,
                )
                for group in groups
            ],
        )

    def QueryResourceAccessInformation(  # noqa: N802 - gRPC method name
        self, request: pb2.QueryResourceAccessInformationRequest, context: grpc.ServicerContext
    ) -> pb2.QueryResourceAccessInformationResponse:
        """Resources, channels and mappings for pins/relays on sites (the sessions to reserve)."""
        result = call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: query_resource_access(
                self._store.get(request.pin_map_id),
                sites=request.sites,
                pin_or_relay_names=list(request.pin_or_relay_names),
                instrument_type_id=request.instrument_type_id,
            ),
        )
        return _resource_access_to_proto(result)


def _resource_access_to_proto(
    result: ResourceAccessResult,
) -> pb2.QueryResourceAccessInformationResponse:
    return pb2.QueryResourceAccessInformationResponse(
        resource_access_information=[
            pb2.ResourceAccessInformation(
                resource_name=resource.resource_name,
                channel_list=resource.channel_list,
                instrument_type_id=resource.instrument_type_id,
                channel_mappings=[
                    pb2.ChannelMapping(
                        pin_or_relay_name=mapping.pin_or_relay_name,
                        site=mapping.site,
                        channel=mapping.channel,
                        multiplexer_resource_name=mapping.multiplexer_resource_name,
                        multiplexer_route=mapping.multiplexer_route,
                        multiplexer_type_id=mapping.multiplexer_type_id,
                    )
                    for mapping in resource.channel_mappings
                ],
            )
            for resource in result.resources
        ],
        group_mappings={
            name: pb2.ResolvedPinsOrRelays(pin_or_relay_names=members)
            for name, members in result.group_mappings.items()
        },
    )
