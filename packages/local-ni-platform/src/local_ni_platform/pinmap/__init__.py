"""Local stand-in for NI's Pin Map Service (``ni.measurementlink.pinmap.v1``).

- ``parser`` and ``model``: pin-map XML into an immutable, typed model.
- ``resources``: queries on a pin map, including how pins turn into instrument sessions.
- ``store``: the registered pin maps, shared with Session Management.
- ``servicer`` and ``part``: the gRPC service and its place on the local platform.
"""

from local_ni_platform.pinmap.errors import (
    InvalidPinMapError,
    InvalidPinMapIdError,
    PinMapAlreadyExistsError,
    PinMapError,
    PinMapNotFoundError,
    UnknownPinOrRelayError,
    UnknownSiteError,
)
from local_ni_platform.pinmap.model import SYSTEM_SITE, PinMap
from local_ni_platform.pinmap.parser import NAMESPACE, parse_pin_map
from local_ni_platform.pinmap.part import PinMapPart
from local_ni_platform.pinmap.resources import (
    ChannelMapping,
    MultiplexerAccess,
    ResourceAccess,
    ResourceAccessResult,
    query_pins,
    query_resource_access,
)
from local_ni_platform.pinmap.servicer import SERVICE_NAME, PinMapServicer
from local_ni_platform.pinmap.store import PinMapStore

__all__ = [
    "NAMESPACE",
    "SERVICE_NAME",
    "SYSTEM_SITE",
    "ChannelMapping",
    "InvalidPinMapError",
    "InvalidPinMapIdError",
    "MultiplexerAccess",
    "PinMap",
    "PinMapAlreadyExistsError",
    "PinMapError",
    "PinMapNotFoundError",
    "PinMapPart",
    "PinMapServicer",
    "PinMapStore",
    "ResourceAccess",
    "ResourceAccessResult",
    "UnknownPinOrRelayError",
    "UnknownSiteError",
    "parse_pin_map",
    "query_pins",
    "query_resource_access",
]
