"""Serve one :class:`~simulated_instrument.scpi.Instrument` on a TCP port, one client at a time:
while a client is connected, another connection is accepted and closed at once, as instruments
that take a single controller do.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from types import TracebackType

from simulated_instrument.scpi import DisconnectError, Instrument

_logger = logging.getLogger(__name__)

READY_PREFIX = "Simulated SCPI instrument listening on "
MAX_LINE_BYTES = 64 * 1024


class InstrumentServer:
    """A listening socket and the thread that serves it; ``with`` starts and stops it."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, instrument: Instrument | None = None
    ) -> None:
        self.instrument = instrument or Instrument()
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._client: socket.socket | None = None
        self.accepted = 0
        """Connections served so far (a program can tell how many times it was connected to)."""
        self.refused = 0
        """Connections closed at once because another client was connected."""
        self._busy = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="instrument-accept", daemon=True)

    @property
    def resource_name(self) -> str:
        """The VISA resource string that reaches this instrument."""
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    @property
    def connected(self) -> bool:
        """Whether a client is connected now."""
        return self._client is not None

    def __enter__(self) -> InstrumentServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening and drop the client."""
        self._stopping.set()
        _shut(self._listener)  # shutting the socket down wakes the thread blocked in accept()
        client = self._client
        if client is not None:
            _shut(client)
        self._thread.join(timeout=5)

    def wait_free(self, timeout: float) -> bool:
        """Whether the client is gone within ``timeout`` seconds (a hang-up is seen a moment
        after the client closed the connection).
        """
        deadline = time.monotonic() + timeout
        while self.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.connected

    def hang_up(self) -> None:
        """Drop the connected client, as a device switched off and on does."""
        client = self._client
        if client is not None:
            _shut(client)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, peer = self._listener.accept()
            except OSError:
                return  # closed by stop()
            if not self._busy.acquire(blocking=False):
                _logger.info("Refused %s: another client is connected", peer)
                self.refused += 1
                _shut(connection)
                continue
            self.accepted += 1
            self._client = connection
            threading.Thread(
                target=self._serve, args=(connection, peer), name="instrument-client", daemon=True
            ).start()

    def _serve(self, connection: socket.socket, peer: object) -> None:
        _logger.info("Client %s connected", peer)
        pending = b""
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                if len(pending) > MAX_LINE_BYTES:
                    return  # not a command: hang up, as a confused device would
                for index, line in enumerate(lines):
                    answer = self.instrument.handle(line.decode("latin-1").rstrip("\r"))
                    if answer is None:
                        continue
                    received_more = index + 1 < len(lines) or bool(pending)
                    if self.instrument.delay and self._late_answer_lost(connection, received_more):
                        continue
                    connection.sendall(answer)
        except DisconnectError:
            _logger.info("Disconnecting %s as told", peer)
        except OSError as error:
            _logger.info("Client %s went away: %s", peer, error)
        finally:
            self._client = None
            self._busy.release()  # before hanging up: whoever sees the hang-up may connect
            _shut(connection)
            _logger.info("Client %s disconnected", peer)

    def _late_answer_lost(self, connection: socket.socket, received_more: bool) -> bool:
        """Wait out the instrument's delay; whether a command (the query is interrupted) or the
        client's hang-up came first, so the answer is not sent.
        """
        if received_more:
            self.instrument.interrupt()
            return True
        if not _arrives(connection, self.instrument.delay):
            return False
        if not _hung_up(connection):
            self.instrument.interrupt()
        return True


def _arrives(connection: socket.socket, seconds: float) -> bool:
    """Whether anything (a command, or the client hanging up) arrives within ``seconds``."""
    readable, _, _ = select.select([connection], [], [], seconds)
    return bool(readable)


def _hung_up(connection: socket.socket) -> bool:
    """Whether what arrived is the client's hang-up, not a command (called once readable)."""
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
