"""A measurement plug-in client for any plug-in: the measurement v2 gRPC API, as InstrumentStudio
and TestStand call it, driven by the plug-in's own metadata.

NI's client generator writes one typed client per plug-in from the same metadata; this client
reads the metadata at run time instead, so tests, notebooks and the headless TestStand runner can
call any plug-in by its service class::

    with MeasurementClient("ni.examples.session_sharing.NIDmmWithLogger_Python") as client:
        outputs = client.measure(PinMapContext(pin_map_id, sites=[0]), range=10.0)

Serialisation uses the SDK's ``measurement.client_support`` (what generated clients use).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from enum import Enum
from types import TracebackType
from typing import Any, cast

from google.protobuf import any_pb2, descriptor_pool
from google.protobuf.type_pb2 import Field
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.measurement.v2 import measurement_service_pb2 as v2
from ni.measurementlink.measurement.v2 import measurement_service_pb2_grpc as v2_grpc
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext
from ni_grpc_extensions.channelpool import GrpcChannelPool
from ni_measurement_plugin_sdk_service.measurement.client_support import (
    ParameterMetadata,
    create_file_descriptor,
    deserialize_parameters,
    serialize_parameters,
)

V2_MEASUREMENT_SERVICE = "ni.measurementlink.measurement.v2.MeasurementService"
_TYPE_URL_PREFIX = "type.googleapis.com/"
_ENUM_VALUES_KEY = "ni/enum.values"


class MeasurementClient:
    """Calls one measurement plug-in through the measurement v2 API."""

    def __init__(
        self,
        service_class: str,
        *,
        discovery_client: DiscoveryClient | None = None,
        address: str | None = None,
        timeout: float | None = 60.0,
    ) -> None:
        """Describe the plug-in to call; nothing is sent until the first call.

        Args:
            service_class: The plug-in's service class (its ``.serviceconfig``).
            discovery_client: Resolves the plug-in (default: one of this client's own).
            address: ``host:port`` of the plug-in, skipping discovery.
            timeout: Deadline in seconds of each call (None: no deadline).
        """
        self.service_class = service_class
        self._discovery_client = discovery_client
        self._address = address
        self._timeout = timeout
        self._lock = threading.Lock()
        self._channel_pool: GrpcChannelPool | None = None
        self._stub: v2_grpc.MeasurementServiceStub | None = None
        self._signature: _Signature | None = None

    def __enter__(self) -> MeasurementClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channels this client opened."""
        with self._lock:
            pool, self._channel_pool, self._stub = self._channel_pool, None, None
        if pool is not None:
            pool.close()

    def get_metadata(self) -> v2.GetMetadataResponse:
        """The plug-in's metadata: display name, configurations, outputs, UI files."""
        response: v2.GetMetadataResponse = self._get_stub().GetMetadata(
            v2.GetMetadataRequest(), timeout=self._timeout
        )
        return response

    def configuration_defaults(self) -> dict[str, Any]:
        """The plug-in's default configuration values, by name."""
        signature = self._get_signature()
        return dict(zip(signature.configuration_names, signature.defaults, strict=True))

    def measure(self, pin_map_context: PinMapContext, **configurations: Any) -> dict[str, Any]:
        """Run the measurement once; return its outputs by name.

        Configurations not given keep the plug-in's defaults. Enum configurations take a member
        name, its number, or any ``Enum`` member with that name or number.
        """
        signature = self._get_signature()
        unknown = set(configurations) - set(signature.configuration_names)
        if unknown:
            known = ", ".join(signature.configuration_names)
            raise TypeError(
                f"unknown configurations {sorted(unknown)}; {self.service_class} has {known}"
            )
        values = [
            signature.coerce(index, configurations.get(name, default))
            for index, (name, default) in enumerate(
                zip(signature.configuration_names, signature.defaults, strict=True), start=1
            )
        ]
        request = v2.MeasureRequest(
            configuration_parameters=any_pb2.Any(
                type_url=_TYPE_URL_PREFIX + signature.configurations_message,
                value=serialize_parameters(
                    signature.configurations, values, signature.configurations_message
                ),
            ),
            pin_map_context=pin_map_context._to_grpc(),
        )
        last: v2.MeasureResponse | None = None
        for response in self._get_stub().Measure(request, timeout=self._timeout):
            last = response  # a streaming measurement sends updates; the last one is final
        if last is None:
            return {}
        decoded = deserialize_parameters(
            signature.outputs, last.outputs.value, signature.outputs_message
        )
        return dict(zip(signature.output_names, decoded, strict=True))

    def _get_stub(self) -> v2_grpc.MeasurementServiceStub:
        with self._lock:
            if self._stub is None:
                if self._channel_pool is None:
                    self._channel_pool = GrpcChannelPool()
                address = self._address or self._resolve(self._channel_pool)
                self._stub = v2_grpc.MeasurementServiceStub(self._channel_pool.get_channel(address))
            return self._stub

    def _resolve(self, pool: GrpcChannelPool) -> str:
        discovery_client = self._discovery_client or DiscoveryClient(grpc_channel_pool=pool)
        location = discovery_client.resolve_service(
            provided_interface=V2_MEASUREMENT_SERVICE, service_class=self.service_class
        )
        return location.insecure_address

    def _get_signature(self) -> _Signature:
        if self._signature is None:
            self._signature = _Signature(
                self.get_metadata().measurement_signature, self.service_class
            )
        return self._signature


class _Signature:
    """Parameter metadata of one plug-in, as the SDK's serializer needs it."""

    def __init__(self, signature: v2.MeasurementSignature, service_class: str) -> None:
        self.configurations_message = signature.configuration_parameters_message_type
        self.outputs_message = signature.outputs_message_type
        self.configuration_names = [p.name for p in signature.configuration_parameters]
        self.output_names = [p.name for p in signature.outputs]
        self.configurations, self.enum_types = _metadata_by_id(signature.configuration_parameters)
        self.outputs, _ = _metadata_by_id(signature.outputs)
        create_file_descriptor(
            input_metadata=list(self.configurations.values()),
            output_metadata=list(self.outputs.values()),
            service_name=service_class,
            pool=descriptor_pool.Default(),
        )
        self.defaults = list(
            deserialize_parameters(
                self.configurations,
                signature.configuration_defaults.value,
                self.configurations_message,
                convert_paths=False,
            )
        )

    def coerce(self, index: int, value: Any) -> Any:
        """Turn a user's enum value (name, number or foreign member) into the client's enum."""
        enum_type = self.enum_types.get(index)
        if enum_type is None or isinstance(value, enum_type):
            return value
        if isinstance(value, Enum):
            value = value.name if value.name in enum_type.__members__ else value.value
        if isinstance(value, str):
            return enum_type[_enum_member_name(value)]
        return enum_type(value)


def _metadata_by_id(
    parameters: Iterable[v2.ConfigurationParameter | v2.Output],
) -> tuple[dict[int, ParameterMetadata], dict[int, type[Enum]]]:
    """The SDK's metadata by field number, and a Python enum for each enum parameter."""
    metadata: dict[int, ParameterMetadata] = {}
    enum_types: dict[int, type[Enum]] = {}
    for parameter in parameters:
        annotations = dict(sorted(parameter.annotations.items()))
        enum_type: type[Enum] | None = None
        if parameter.type == Field.TYPE_ENUM:
            members = {
                _enum_member_name(k): v
                for k, v in json.loads(annotations[_ENUM_VALUES_KEY]).items()
            }
            annotations[_ENUM_VALUES_KEY] = json.dumps(members)
            # Enum's functional API builds a class; mypy types the call as an instance.
            enum_type = cast(type[Enum], Enum(_enum_class_name(parameter.name), members))
            enum_types[parameter.field_number] = enum_type
        metadata[parameter.field_number] = ParameterMetadata.initialize(
            display_name=parameter.name,
            type=parameter.type,
            repeated=parameter.repeated,
            default_value=None,
            annotations=annotations,
            message_type=parameter.message_type,
            enum_type=enum_type,
        )
    return metadata, enum_types


def _enum_member_name(name: str) -> str:
    member = re.sub(r"\W+", "_", name)
    return f"k_{member}" if member[:1].isdigit() else member


def _enum_class_name(parameter_name: str) -> str:
    return (
        "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", parameter_name) if part)
        or "Enum"
    )
