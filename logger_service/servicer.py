"""The JsonLogger servicer: maps requests to the session core and the NDJSON resource, and errors to
gRPC status codes (``session_core.errors.reports_errors``). It holds no behaviour logic of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import grpc

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from logger_service.ndjson_log import (
    DEFAULT_MAX_RECORD_BYTES,
    MAX_RECORD_BYTES_LIMIT,
    NdjsonLog,
    format_record,
    normalize_path,
    session_key,
)
from session_core import paths
from session_core.behaviors import InitializationBehavior
from session_core.errors import InvalidArgumentError, ServiceError, excerpt, reports_errors
from session_core.registry import SessionRegistry
from session_core.timestamps import from_timestamp, to_timestamp

_logger = logging.getLogger(__name__)

SERVICE_NAME = json_logger_pb2.DESCRIPTOR.services_by_name["JsonLogger"].full_name

Record = json_logger_pb2.LogMeasurementDataRequest | json_logger_pb2.MeasurementRecord


def _timestamp(request: Record) -> datetime:
    """The client's timestamp when set, else now; always UTC."""
    if not request.HasField("timestamp"):
        return datetime.now(timezone.utc)
    return from_timestamp(request.timestamp)


def _record(request: Record, session_id: str) -> bytes:
    return format_record(
        timestamp=_timestamp(request),
        measurement_name=request.measurement_name,
        measurement_configurations=request.measurement_configurations,
        measurement_outputs=request.measurement_outputs,
        session_id=session_id,
    )


class JsonLoggerServicer(json_logger_pb2_grpc.JsonLoggerServicer):
    """Serves one session per log file to any number of clients."""

    def __init__(
        self,
        *,
        fsync: bool = False,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        allowed_dirs: Sequence[Path] = (),
    ) -> None:
        """``max_record_bytes``: the longest record (one JSON line) accepted, at most
        :data:`~logger_service.ndjson_log.MAX_RECORD_BYTES_LIMIT`. ``allowed_dirs``: the only
        folders log files may be in, resolved (empty: anywhere the service user can write).
        """
        if not 0 < max_record_bytes <= MAX_RECORD_BYTES_LIMIT:
            raise ValueError(
                f"max_record_bytes must be 1 to {MAX_RECORD_BYTES_LIMIT} (a longer line could "
                f"not be reopened), got {max_record_bytes}"
            )
        self.registry: SessionRegistry[NdjsonLog] = SessionRegistry(resource_kind="log file")
        self._fsync = fsync
        self._max_record_bytes = max_record_bytes
        self._allowed_dirs = tuple(allowed_dirs)

    def _line(self, request: Record, session_id: str, where: str = "the record") -> bytes:
        """The record as one line, refused when longer than the limit (nothing is written)."""
        line = _record(request, session_id)
        if len(line) > self._max_record_bytes:
            raise InvalidArgumentError(
                f"{where} ('{excerpt(request.measurement_name)}') is {len(line)} bytes as a JSON "
                f"line, more than the {self._max_record_bytes} bytes this service accepts "
                "(--max-record-bytes); nothing was written"
            )
        return line

    @reports_errors
    def InitializeFile(  # noqa: N802 - gRPC method name
        self, request: json_logger_pb2.InitializeFileRequest, context: grpc.ServicerContext
    ) -> json_logger_pb2.InitializeFileResponse:
        """Create or attach to the session of a file, as the behaviour says."""
        behavior = InitializationBehavior.from_wire(request.session_initialization_behavior)
        path = normalize_path(request.resource_name)
        paths.check_allowed(path, self._allowed_dirs, kind="log file")
        session, created = self.registry.initialize(
            session_key(path),
            behavior,
            lambda: NdjsonLog.open(path, fsync=self._fsync),
            display_name=str(path),
        )
        return json_logger_pb2.InitializeFileResponse(
            session_id=session.session_id,
            new_session_initialized=created,
            resource_name=str(session.resource.path),
        )

    @reports_errors
    def LogMeasurementData(  # noqa: N802 - gRPC method name
        self, request: json_logger_pb2.LogMeasurementDataRequest, context: grpc.ServicerContext
    ) -> json_logger_pb2.LogMeasurementDataResponse:
        """Append one record."""
        line = self._line(request, request.session_id)
        with self.registry.use(request.session_id) as log:
            log.append([line])
        return json_logger_pb2.LogMeasurementDataResponse()

    @reports_errors
    def StreamMeasurementData(  # noqa: N802 - gRPC method name
        self,
        request_iterator: Iterator[json_logger_pb2.LogMeasurementDataBatch],
        context: grpc.ServicerContext,
    ) -> json_logger_pb2.StreamMeasurementDataResponse:
        """Append every streamed batch, each in one all-or-nothing write."""
        session_id = ""
        written = 0
        try:
            for batch in request_iterator:
                if not session_id:
                    self.registry.get(batch.session_id)  # fail fast on an unknown session
                    session_id = batch.session_id
                elif batch.session_id and batch.session_id != session_id:
                    raise InvalidArgumentError(
                        f"a stream writes to one session: got '{excerpt(batch.session_id)}' after "
                        f"'{session_id}'"
                    )
                lines = [
                    self._line(record, session_id, f"records[{index}] of the batch")
                    for index, record in enumerate(batch.records)
                ]
                with self.registry.use(session_id) as log:
                    log.append(lines)
                written += len(lines)
        except ServiceError as error:
            error.message += f" ({written} records of this stream were written before the error)"
            raise
        return json_logger_pb2.StreamMeasurementDataResponse(records_written=written)

    @reports_errors
    def CloseFile(  # noqa: N802 - gRPC method name
        self, request: json_logger_pb2.CloseFileRequest, context: grpc.ServicerContext
    ) -> json_logger_pb2.CloseFileResponse:
        """Close the session and its file."""
        self.registry.close(request.session_id)
        return json_logger_pb2.CloseFileResponse()

    @reports_errors
    def ListSessions(  # noqa: N802 - gRPC method name
        self, request: json_logger_pb2.ListSessionsRequest, context: grpc.ServicerContext
    ) -> json_logger_pb2.ListSessionsResponse:
        """Describe every open session."""
        return json_logger_pb2.ListSessionsResponse(sessions=list(self._describe_sessions()))

    def close_all(self) -> None:
        """Close every session (at shutdown, after in-flight calls finished)."""
        self.registry.close_all()

    def _describe_sessions(self) -> Iterable[json_logger_pb2.SessionDescription]:
        for session in self.registry.sessions():
            yield json_logger_pb2.SessionDescription(
                session_id=session.session_id,
                resource_name=str(session.resource.path),
                opened_at=to_timestamp(session.opened_at),
                records_written=session.resource.records_written,
            )
