"""TestStand code module: the JSON logger (log-file) sessions the sequence's steps share.

Call ``create_json_logger_sessions`` from a Setup step (or ProcessSetup) with the
SequenceContext, and ``destroy_json_logger_sessions`` from a Cleanup step (or ProcessCleanup).
The file name is unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from logger_client import JsonLoggerClient
from teststand.sequence_context import SequenceContext
from teststand.session_lifecycle import JSON_LOGGER, create_sessions, destroy_sessions


def create_json_logger_sessions(sequence_context: SequenceContext) -> list[str]:
    """Open and register the pin map's log-file sessions; return the logger's session ids.

    The ids are the JSON Logger Service's: every record the measurement steps write through
    these sessions carries the same id.
    """
    session_ids = []
    for info in create_sessions(sequence_context, JSON_LOGGER):
        client = info.session
        if not isinstance(client, JsonLoggerClient):
            raise TypeError(f"expected a JsonLoggerClient, got {type(client).__name__}")
        session_ids.append(client.session_id)
    return session_ids


def destroy_json_logger_sessions() -> list[str]:
    """Unregister and close every registered log-file session; return their session names."""
    return destroy_sessions(JSON_LOGGER)
