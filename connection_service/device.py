"""One session's connection to its device, through PyVISA: write, read, query, and what a fault
does (the rules under "Faults" in ``instrument_connection.proto``).

A fault (a timeout, a refused or broken connection) closes the PyVISA resource, so that a late
or partial answer can never be read as the answer to a later question; the next call opens it
again with the session's options. The registry runs one call of a session at a time, so nothing
here locks.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError
from pyvisa.resources import MessageBasedResource

from connection_service.names import DeviceName
from session_core.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    ResourceExhaustedError,
    ServiceError,
    UnavailableError,
)

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 2.0
DEFAULT_TERMINATION = "\n"
MAX_READ_BYTES = 4_000_000
"""The most one call reads: an answer must fit in one gRPC message (4 MiB by default)."""
MAX_BATCH_COMMANDS = 10_000


@dataclass(frozen=True)
class Options:
    """How a connection is set up (``ConnectionOptions``, defaults filled in)."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    read_termination: str = DEFAULT_TERMINATION
    write_termination: str = DEFAULT_TERMINATION
    baud_rate: int = 0

    @classmethod
    def checked(
        cls, *, timeout_ms: int, read_termination: str, write_termination: str, baud_rate: int
    ) -> Options:
        """The options a request asks for; INVALID_ARGUMENT naming the one out of range."""
        if timeout_ms < 0:
            raise InvalidArgumentError(
                f"options.timeout_in_milliseconds is negative ({timeout_ms})"
            )
        for field, value in (
            ("read_termination", read_termination),
            ("write_termination", write_termination),
        ):
            if len(value) > 2:
                raise InvalidArgumentError(
                    f"options.{field} has {len(value)} characters; one or two are allowed"
                )
        return cls(
            timeout=timeout_ms / 1000 if timeout_ms else DEFAULT_TIMEOUT_SECONDS,
            read_termination=read_termination or DEFAULT_TERMINATION,
            write_termination=write_termination or DEFAULT_TERMINATION,
            baud_rate=baud_rate,
        )


class DeviceConnection:
    """The resource of a session: the device's PyVISA resource, opened again after a fault."""

    def __init__(self, manager: pyvisa.ResourceManager, name: DeviceName, options: Options):
        self.manager = manager
        self.name = name
        self.options = options
        self.calls = 0
        self.faults = 0
        self._resource: MessageBasedResource | None = None
        self._connect()

    @property
    def connected(self) -> bool:
        """Whether the connection is open now."""
        return self._resource is not None

    def write(self, data: bytes, *, raw: bool, timeout: float) -> None:
        """Send ``data`` (with the write termination unless ``raw``)."""
        with self._exchange(timeout) as resource:
            resource.write_raw(self._terminated(data, raw))

    def read(self, count: int, *, timeout: float) -> bytes:
        """Read ``count`` bytes, or (0) until the read termination, which is dropped."""
        with self._exchange(timeout) as resource:
            return self._read(resource, count)

    def query(self, command: bytes, *, raw: bool, count: int, timeout: float) -> bytes:
        """Write ``command`` and read its answer, with nothing in between."""
        with self._exchange(timeout) as resource:
            resource.write_raw(self._terminated(command, raw))
            return self._read(resource, count)

    def query_batch(
        self, commands: Sequence[bytes], *, timeout: float, until: float | None
    ) -> list[bytes]:
        """Query each command in turn (each within ``timeout``, all before the monotonic time
        ``until``, if any); RESOURCE_EXHAUSTED once the answers pass :data:`MAX_READ_BYTES`.
        """
        answers: list[bytes] = []
        size = 0
        for command in commands:
            left = timeout if until is None else until - time.monotonic()
            if left <= 0:
                raise DeadlineExceededError(
                    f"the caller's deadline came after {len(answers)} of {len(commands)} queries"
                )
            answer = self.query(command, raw=False, count=0, timeout=min(timeout, left))
            size += len(answer)
            if size > MAX_READ_BYTES:
                raise ResourceExhaustedError(
                    f"the answers of the first {len(answers) + 1} of {len(commands)} queries come "
                    f"to more than {MAX_READ_BYTES:,} bytes; the rest were not sent"
                )
            answers.append(answer)
        return answers

    def close(self) -> None:
        """Close the connection (the session is ending)."""
        self._disconnect()

    # -- the connection ----------------------------------------------------------------------

    def _connect(self) -> MessageBasedResource:
        options: dict[str, Any] = {
            "read_termination": self.options.read_termination,
            "write_termination": self.options.write_termination,
            "timeout": round(self.options.timeout * 1000),
            "open_timeout": round(self.options.timeout * 1000),
        }
        if self.options.baud_rate and self.name.parsed.interface_type == "ASRL":
            options["baud_rate"] = self.options.baud_rate
        display = self.name.display
        try:
            resource = self.manager.open_resource(display, **options)
        except VisaIOError as error:
            if error.error_code in (
                constants.StatusCode.error_resource_not_found,
                constants.StatusCode.error_timeout,
                constants.StatusCode.error_connection_lost,
            ):
                raise UnavailableError(
                    f"cannot connect to {display}: {error.description}"
                ) from None
            raise FailedPreconditionError(f"cannot open {display}: {error}") from None
        except (ValueError, NotImplementedError) as error:  # no driver for this kind of resource
            raise FailedPreconditionError(f"cannot open {display}: {error}") from None
        except Exception as error:  # pyvisa-py raises a bare Exception for a host it cannot reach
            raise UnavailableError(f"cannot connect to {display}: {error}") from None
        if not isinstance(resource, MessageBasedResource):
            resource.close()
            raise FailedPreconditionError(f"{display} is not a message-based resource")
        refused = _connect_error(resource)
        if refused:
            resource.close()
            raise UnavailableError(f"cannot connect to {display}: {refused}")
        self._resource = resource
        _logger.info("Connected to %s", display)
        return resource

    def _disconnect(self) -> None:
        resource, self._resource = self._resource, None
        if resource is not None:
            try:
                resource.close()
            except Exception:  # the connection is gone either way
                _logger.debug("Closing %s failed", self.name.display, exc_info=True)

    @contextmanager
    def _exchange(self, timeout: float) -> Iterator[MessageBasedResource]:
        """The open resource for one call within ``timeout``; a fault closes it (see the module)."""
        self.calls += 1
        try:
            resource = self._resource or self._connect()
            if _peer_closed(resource):
                raise UnavailableError(
                    f"{self.name.display} closed the connection; the next call connects again"
                )
            milliseconds = max(1, round(timeout * 1000))
            if resource.timeout != milliseconds:
                resource.timeout = milliseconds
            yield resource
        except ServiceError as error:
            self._fault(error)
            raise
        except VisaIOError as error:
            raise self._fault(self._visa_error(error, timeout)) from None
        except OSError as error:  # BrokenPipeError, ConnectionResetError from the socket
            raise self._fault(
                UnavailableError(f"the connection to {self.name.display} broke: {error}")
            ) from None

    def _fault(self, error: ServiceError) -> ServiceError:
        self.faults += 1
        if not isinstance(error, InvalidArgumentError):
            self._disconnect()
            _logger.info("Fault on %s (%s); disconnected", self.name.display, error.message)
        return error

    def _visa_error(self, error: VisaIOError, timeout: float) -> ServiceError:
        if error.error_code == constants.StatusCode.error_timeout:
            if self._resource is not None and _peer_closed(self._resource):
                return UnavailableError(
                    f"{self.name.display} closed the connection before answering"
                )
            return DeadlineExceededError(
                f"{self.name.display} did not complete the call within {timeout:g} s; the "
                "connection is closed so that a late answer is never read as the next one, and "
                "the next call connects again"
            )
        return UnavailableError(f"{self.name.display}: {error.description}")

    def _terminated(self, data: bytes, raw: bool) -> bytes:
        return data if raw else data + self.options.write_termination.encode("latin-1")

    def _read(self, resource: MessageBasedResource, count: int) -> bytes:
        if count:
            return _read_bytes(resource, count, until_termination=False)
        data = _read_bytes(resource, MAX_READ_BYTES, until_termination=True)
        termination = self.options.read_termination.encode("latin-1")
        if data.endswith(termination):
            return data[: -len(termination)]
        if len(data) >= MAX_READ_BYTES:
            raise ResourceExhaustedError(
                f"{MAX_READ_BYTES:,} bytes came from {self.name.display} without the read "
                f"termination {self.options.read_termination!r}; read binary data with byte_count"
            )
        raise DeadlineExceededError(
            f"the answer of {self.name.display} ended without the read termination "
            f"{self.options.read_termination!r} ({len(data)} bytes came)"
        )


_MESSAGE_ENDS = (
    constants.StatusCode.success,
    constants.StatusCode.success_termination_character_read,
)


def _read_bytes(resource: MessageBasedResource, count: int, *, until_termination: bool) -> bytes:
    """Read ``count`` bytes, or up to the end of a message. PyVISA's own ``read_bytes`` loops
    forever on an error status that a backend returns instead of raising (pyvisa-sim does); here
    an error status raises, and a backend that never blocks still ends at the resource's timeout.
    """
    deadline = time.monotonic() + resource.timeout / 1000
    data = bytearray()
    while len(data) < count:
        chunk, status = resource.visalib.read(
            resource.session, min(resource.chunk_size, count - len(data))
        )
        if status < 0:
            raise VisaIOError(status)
        data.extend(chunk)
        if until_termination and status in _MESSAGE_ENDS:
            break
        if not chunk and time.monotonic() >= deadline:
            raise VisaIOError(constants.StatusCode.error_timeout)
    return bytes(data)


def _socket(resource: MessageBasedResource) -> socket.socket | None:
    """The TCP socket of a raw-socket resource on pyvisa-py (None on other backends)."""
    session = getattr(resource.visalib, "sessions", {}).get(resource.session)
    interface = getattr(session, "interface", None)
    return interface if isinstance(interface, socket.socket) else None


def _connect_error(resource: MessageBasedResource) -> str:
    """Why the connection was refused, when it was: pyvisa-py opens a socket without asking."""
    sock = _socket(resource)
    if sock is None:
        return ""
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        return os.strerror(code)
    try:
        sock.getpeername()
    except OSError as error:
        return error.strerror or str(error)
    return ""


def _peer_closed(resource: MessageBasedResource) -> bool:
    """Whether the device closed the socket (pyvisa-py reads a closed socket until its timeout)."""
    sock = _socket(resource)
    if sock is None:
        return False
    blocking_timeout = sock.gettimeout()
    sock.settimeout(0)  # a peek that never waits, on every platform
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(blocking_timeout)
