"""``JsonLoggerClient``: one client session of the JSON Logger Service, used as a context manager.

Entering the context initializes (creates or attaches to) the server session of one log file as
the NI ``SessionInitializationBehavior`` says; leaving it closes the server session exactly when
that behaviour says so, and always closes the client's own channel (the rules live in
:class:`session_core.client.SessionClient`; this module adds the logger's calls).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from session_core import message_size
from session_core.behaviors import InitializationBehavior
from session_core.client import SessionClient
from session_core.client_errors import ServiceNotFoundError
from session_core.paths import resolve_local_path
from session_core.timestamps import to_timestamp

_logger = logging.getLogger(__name__)

PROVIDED_INTERFACE = "ni.logger.v1.json"
SERVICE_CLASS = "ni.logger.JSONLogService"
DEFAULT_BATCH_SIZE = 256


class JsonLoggerServiceNotFoundError(ServiceNotFoundError):
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
    return resolve_local_path(resource_name)


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


def _record_fields(record: MeasurementRecord) -> dict[str, Any]:
    """The wire fields of a record, shared by the unary and the batched messages."""
    return {
        "measurement_name": record.measurement_name,
        "timestamp": to_timestamp(record.timestamp),
        "measurement_configurations": {
            key: to_text(value) for key, value in record.measurement_configurations.items()
        },
        "measurement_outputs": {
            key: to_text(value) for key, value in record.measurement_outputs.items()
        },
    }


class JsonLoggerClient(SessionClient[json_logger_pb2_grpc.JsonLoggerStub]):
    """A client session of one log file on the JSON Logger Service."""

    PROVIDED_INTERFACE = PROVIDED_INTERFACE
    SERVICE_CLASS = SERVICE_CLASS
    SERVICE_DISPLAY_NAME = "JSON Logger Service"
    SERVICE_MODULE = "logger_service"
    RESOURCE_KIND = "log file"
    INSTRUMENT_TYPE_ID = "JsonLoggerService"
    NOT_FOUND_ERROR = JsonLoggerServiceNotFoundError
    resolve_resource_name = staticmethod(resolve_resource_name)

    def _create_stub(self, channel: grpc.Channel) -> json_logger_pb2_grpc.JsonLoggerStub:
        return json_logger_pb2_grpc.JsonLoggerStub(channel)

    def _initialize_session(
        self, stub: json_logger_pb2_grpc.JsonLoggerStub, behavior: InitializationBehavior
    ) -> tuple[str, bool]:
        response = stub.InitializeFile(
            json_logger_pb2.InitializeFileRequest(
                resource_name=self.resource_name,
                session_initialization_behavior=int(behavior),  # type: ignore[arg-type]
            ),
            timeout=self._timeout,
        )
        return response.session_id, response.new_session_initialized

    def _close_session(self, stub: json_logger_pb2_grpc.JsonLoggerStub) -> None:
        stub.CloseFile(
            json_logger_pb2.CloseFileRequest(session_id=self.session_id), timeout=self._timeout
        )

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
        with self._calling("write the measurement record to"):
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

        Records travel in batches of ``batch_size`` (and at most 3 MiB, under gRPC's 4 MiB limit),
        each written in one append, which is much
        faster than calling :meth:`log_data` in a loop. ``records`` may be a generator (it is
        consumed lazily). ``timeout`` bounds the whole stream (default: none).
        """
        self._require_open()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        with self._calling("write the measurement records to"):
            response = self._get_stub().StreamMeasurementData(
                self._batches(records, batch_size), timeout=timeout
            )
        return response.records_written

    def _batches(
        self, records: Iterable[MeasurementRecord], batch_size: int
    ) -> Iterator[json_logger_pb2.LogMeasurementDataBatch]:
        messages = (json_logger_pb2.MeasurementRecord(**_record_fields(r)) for r in records)
        for batch in message_size.batches(messages, max_items=batch_size):  # and at most 3 MiB
            yield json_logger_pb2.LogMeasurementDataBatch(session_id=self.session_id, records=batch)


def read_records(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """Read every record of an NDJSON log (for examples, notebooks and tests)."""
    with Path(path).open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
