"""What every simulated instrument session shares: locking, closing, the last driver error."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from local_ni_platform.device_server.errors import INVALID_SESSION_HANDLE, DriverError


class SimulatedSession:
    """Base of the simulated driver sessions; thread-safe through one condition variable.

    gRPC calls a servicer from a thread pool, so one session may be used by several threads at
    once (e.g. a measurement's cancel callback aborting while another thread waits for an event).
    """

    def __init__(self, *, resource_name: str, option_string: str) -> None:
        """Remember how the session was opened."""
        self._condition = threading.Condition()
        self._closed = False
        self._last_error: DriverError | None = None
        self.resource_name = resource_name
        self.option_string = option_string

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    def close(self) -> None:
        """Close the session and wake every thread waiting on it; idempotent."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def configure(self, values: Iterable[tuple[int, object]], channel_string: str = "") -> None:
        """Set several attributes (id, value) on the channels ("" for all), all or none: what
        NI's ``Configure*`` functions that only set attributes do.

        Raises:
            DriverError: an invalid value or channel; then nothing is set.
        """
        raise NotImplementedError

    def record_error(self, error: DriverError) -> None:
        """Remember the last driver error, for ``GetError``."""
        with self._condition:
            self._last_error = error

    def take_error(self) -> tuple[int, str]:
        """Return and clear the last error, as IVI's ``GetError`` does; ``(0, "")`` if none."""
        with self._condition:
            error, self._last_error = self._last_error, None
        return (0, "") if error is None else (error.code, error.description)

    def _check_open(self) -> None:
        """Raise the invalid-session error if the session was closed (callers hold the lock)."""
        if self._closed:
            raise DriverError(INVALID_SESSION_HANDLE, "The session has been closed.")
