"""``JsonLoggerClient``: one client session of the JSON Logger Service, used as a context manager.

Entering the context initializes (creates or attaches to) the server session of one log file as
the NI ``SessionInitializationBehavior`` says; leaving it closes the server session exactly when
that behaviour says so, and always closes the client's own channel.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior
from ni_grpc_extensions.channelpool import GrpcChannelPool

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from logger_client.behaviors import closes_on_exit, server_behavior

_logger = logging.getLogger(__name__)

PROVIDED_INTERFACE = "ni.logger.v1.json"
SERVICE_CLASS = "ni.logger.JSONLogService"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_BATCH_SIZE = 256


class JsonLoggerServiceNotFoundError(RuntimeError):
    """The JSON Logger Service could not be located or reached."""


@dataclass(frozen=True)
class MeasurementRecord:
    """One record for :meth:`JsonLoggerClient.log_data_stream`."""

    measurement_name: str
    measurement_configurations: Mapping[str, object] = field(default_factory=dict)
    measurement_outputs: Mapping[str, object] = field(default_factory=dict)
    timestamp: datetime | None = None


def resolve_resource_name(resource_name: str | os.PathLike[str]) -> str:
    """The absolute path sent to the server.

    ``~`` and environment variables are expanded; a relative path is resolved against this
    client process's working directory (the server refuses relative paths).
    """
    expanded = os.path.expandvars(os.path.expanduser(os.fspath(resource_name)))
    return os.path.abspath(expanded) if expanded.strip() else expanded


def to_text(value: object) -> str:
    """Log values are strings on the wire: text as is, anything else as JSON when it can be.

    Plain numbers and booleans take a fast path with the same result as ``json.dumps``.
    """
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or (kind is float and math.isfinite(value)):  # type: ignore[arg-type]
        return repr(value)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _timestamp(moment: datetime | None) -> Timestamp:
    if moment is None:
        seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
        return Timestamp(seconds=seconds, nanos=nanos)
    stamp = Timestamp()
    stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return stamp


def _record_fields(record: MeasurementRecord) -> dict[str, Any]:
    """The wire fields of a record, shared by the unary and the batched messages."""
    return {
        "measurement_name": record.measurement_name,
        "timestamp": _timestamp(record.timestamp),
        "measurement_configurations": {
            key: to_text(value) for key, value in record.measurement_configurations.items()
        },
        "measurement_outputs": {
            key: to_text(value) for key, value in record.measurement_outputs.items()
        },
    }


class JsonLoggerClient:
    """A client session of one log file on the JSON Logger Service."""

    def __init__(
        self,
        resource_name: str | os.PathLike[str],
        *,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Describe the session; nothing is sent until the context is entered.

        Args:
            resource_name: The log file; see :func:`resolve_resource_name`.
            initialization_behavior: One of NI's five behaviours.
            address: ``host:port`` of the service; when omitted it is resolved through the NI
                Discovery Service on first use.
            discovery_client: The discovery client to resolve with (default: a new one).
            timeout: Deadline in seconds of each call.
        """
        self.resource_name = resolve_resource_name(resource_name)
        self.initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self._server_behavior = server_behavior(self.initialization_behavior)
        self._address = address
        self._discovery_client = discovery_client
        self._timeout = timeout
        self._channel: grpc.Channel | None = None
        self._stub: json_logger_pb2_grpc.JsonLoggerStub | None = None
        self.session_id = ""
        self.new_session_initialized = False
        self._open = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> JsonLoggerClient:
        try:
            self.initialize()
        except BaseException:
            self._close_channel()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        failed = exc is not None
        try:
            if self._open and closes_on_exit(
                self.initialization_behavior, created=self.new_session_initialized, failed=failed
            ):
                try:
                    self.close_file()
                except grpc.RpcError:
                    if not failed:
                        raise
                    _logger.warning(
                        "Could not close session %s of %s while handling another error.",
                        self.session_id,
                        self.resource_name,
                        exc_info=True,
                    )
            elif self._open:
                _logger.debug("Leaving session %s open (detached).", self.session_id)
        finally:
            self._close_channel()

    def initialize(self) -> None:
        """Create or attach to the server session (once; entering the context calls this)."""
        if self._open:
            return
        response = self._get_stub().InitializeFile(
            json_logger_pb2.InitializeFileRequest(
                resource_name=self.resource_name,
                session_initialization_behavior=self._server_behavior,
            ),
            timeout=self._timeout,
        )
        self.session_id = response.session_id
        self.new_session_initialized = response.new_session_initialized
        self._open = True
        _logger.debug(
            "%s session %s of %s.",
            "Created" if self.new_session_initialized else "Attached to",
            self.session_id,
            self.resource_name,
        )

    def close_file(self) -> None:
        """Close the server session now, whatever the behaviour (other clients lose it too)."""
        self._require_open()
        self._get_stub().CloseFile(
            json_logger_pb2.CloseFileRequest(session_id=self.session_id), timeout=self._timeout
        )
        self._open = False

    @property
    def is_open(self) -> bool:
        """Whether this client holds an initialized, not yet closed session."""
        return self._open

    # -- logging ---------------------------------------------------------------------------

    def log_data(
        self,
        measurement_name: str,
        measurement_configurations: Mapping[str, object],
        measurement_outputs: Mapping[str, object],
        *,
        timestamp: datetime | None = None,
    ) -> None:
        """Append one record; the timestamp defaults to now (this client's clock, UTC)."""
        self._require_open()
        record = MeasurementRecord(
            measurement_name, measurement_configurations, measurement_outputs, timestamp
        )
        self._get_stub().LogMeasurementData(
            json_logger_pb2.LogMeasurementDataRequest(
                session_id=self.session_id, **_record_fields(record)
            ),
            timeout=self._timeout,
        )

    def log_data_stream(
        self,
        records: Iterable[MeasurementRecord],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: float | None = None,
    ) -> int:
        """Append many records through one streaming call; return how many were written.

        Records travel in batches of ``batch_size``, each written in one append, which is much
        faster than calling :meth:`log_data` in a loop. ``records`` may be a generator (it is
        consumed lazily). ``timeout`` bounds the whole stream (default: none).
        """
        self._require_open()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        response = self._get_stub().StreamMeasurementData(
            self._batches(records, batch_size), timeout=timeout
        )
        return response.records_written

    def _batches(
        self, records: Iterable[MeasurementRecord], batch_size: int
    ) -> Iterator[json_logger_pb2.LogMeasurementDataBatch]:
        iterator = iter(records)
        while batch := list(itertools.islice(iterator, batch_size)):
            yield json_logger_pb2.LogMeasurementDataBatch(
                session_id=self.session_id,
                records=[json_logger_pb2.MeasurementRecord(**_record_fields(r)) for r in batch],
            )

    # -- connection ------------------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError(
                "the logger session is not open: use the client in a `with` block "
                "(or call initialize()) first"
            )

    def _get_stub(self) -> json_logger_pb2_grpc.JsonLoggerStub:
        if self._stub is None:
            self._channel = grpc.insecure_channel(
                self._resolve_address(), options=[("grpc.enable_http_proxy", 0)]
            )
            self._stub = json_logger_pb2_grpc.JsonLoggerStub(self._channel)
        return self._stub

    def _resolve_address(self) -> str:
        if self._address:
            return self._address
        try:
            if self._discovery_client is not None:
                location = self._discovery_client.resolve_service(
                    provided_interface=PROVIDED_INTERFACE, service_class=SERVICE_CLASS
                )
            else:  # a one-off discovery client whose channel is closed right after
                with GrpcChannelPool() as pool:
                    location = DiscoveryClient(grpc_channel_pool=pool).resolve_service(
                        provided_interface=PROVIDED_INTERFACE, service_class=SERVICE_CLASS
                    )
        except grpc.RpcError as error:
            raise JsonLoggerServiceNotFoundError(
                f"the JSON Logger Service ({PROVIDED_INTERFACE}, {SERVICE_CLASS}) could not be "
                f"resolved through the NI Discovery Service: {error.code().name}: "
                f"{(error.details() or '').rstrip('.')}. Start it with `python -m logger_service`."
            ) from error
        self._address = location.insecure_address
        return self._address

    def _close_channel(self) -> None:
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()


def read_records(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """Read every record of an NDJSON log (for examples, notebooks and tests)."""
    with Path(path).open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
