"""The failures the Setup and Cleanup code modules report beyond NI's own errors."""

from __future__ import annotations

from collections.abc import Sequence

RESERVATION_TIMEOUT_SECONDS = 10.0
"""How long Setup and Cleanup wait for their reservation. Not 0 (NI's default for
``reserve_sessions``), which fails at once when a measurement step of another socket holds a
session for a moment; not -1, which turns a reservation an aborted run left behind into a hang
(NI's own Cleanup default became 10 s for that reason, measurement-plugin-python #682)."""


class SessionsAlreadyRegisteredError(RuntimeError):
    """Setup found sessions that another Setup registered and nobody has cleaned up."""

    def __init__(self, kind: str, session_names: Sequence[str]) -> None:
        super().__init__(
            f"{kind} session(s) {', '.join(session_names)} are already registered by another "
            "Setup: run Cleanup first, or create the sessions once per process in ProcessSetup "
            "(batch and parallel process models)"
        )


class SessionCleanupError(RuntimeError):
    """Cleanup could not close some sessions; they are registered again, so still open."""

    def __init__(self, kind: str, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.session_names = [name for name, _ in failures]
        listed = "; ".join(f"{name} ({error})" for name, error in failures)
        super().__init__(f"Cleanup could not close {len(failures)} {kind} session(s): {listed}")


class HoldsEndedError(RuntimeError):
    """Cleanup found lock holds that had ended before it (a lease ran out): the steps after that
    ran without the lock.
    """

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.session_names = [name for name, _ in failures]
        listed = "; ".join(f"{name} ({error})" for name, error in failures)
        super().__init__(
            f"{len(failures)} lock hold(s) ended before Cleanup, so later steps ran without the "
            f"lock (lengthen the lease, or renew it in long steps): {listed}"
        )
