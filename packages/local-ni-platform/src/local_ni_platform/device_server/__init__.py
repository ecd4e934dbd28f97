"""Simulated NI gRPC Device Server for ``nidcpower_grpc.NiDCPower`` and ``nidmm_grpc.NiDmm``.

NI's unchanged ``nidcpower``/``nidmm`` clients and the measurement-plugin SDK's session helpers
talk to it over real gRPC. Layers, as in :mod:`local_ni_platform.discovery`:

- ``repository``: named sessions and NI's init/attach rules, free of gRPC.
- ``dcpower`` and ``dmm``: the instrument simulations, free of gRPC, each with its ``*_models``
  (per-model numbers) and helpers (``dcpower_channels``, ``dcpower_sequences``, ``dcpower_lcr``;
  ``dmm_measurement``, ``dmm_acquisition``, ``dmm_attributes``).
- ``catalog`` (every attribute NI's clients declare), ``attributes``, ``configuration``
  (attribute export/import), ``instrument`` and ``errors``: what both simulations share.
- ``servicers`` (shared, with the table-driven RPC rows), ``dcpower_servicer`` and
  ``dmm_servicer``: the gRPC translation; ``part``: the platform part that hosts them.
"""

from local_ni_platform.device_server.dcpower import LOAD_RESISTANCE_OHMS, DCPowerSession
from local_ni_platform.device_server.dcpower_servicer import DCPOWER_SERVICE_NAME, DCPowerServicer
from local_ni_platform.device_server.dmm import DmmSession, resolution_absolute
from local_ni_platform.device_server.dmm_servicer import DMM_SERVICE_NAME, DmmServicer
from local_ni_platform.device_server.errors import (
    DeviceServerError,
    DriverError,
    SessionExistsError,
    SessionNameConflictError,
    SessionNotInitializedError,
    SessionRequestError,
)
from local_ni_platform.device_server.part import SERVICE_CLASS, DeviceServerPart
from local_ni_platform.device_server.repository import OpenedSession, SessionRepository

__all__ = [
    "DCPOWER_SERVICE_NAME",
    "DMM_SERVICE_NAME",
    "LOAD_RESISTANCE_OHMS",
    "SERVICE_CLASS",
    "DCPowerServicer",
    "DCPowerSession",
    "DeviceServerError",
    "DeviceServerPart",
    "DmmServicer",
    "DmmSession",
    "DriverError",
    "OpenedSession",
    "SessionExistsError",
    "SessionNameConflictError",
    "SessionNotInitializedError",
    "SessionRepository",
    "SessionRequestError",
    "resolution_absolute",
]
