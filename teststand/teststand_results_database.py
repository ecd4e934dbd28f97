"""TestStand code module: the results database sessions (one connection, one transaction each)
the sequence's steps share.

Call ``create_results_database_sessions`` from a Setup step (or ProcessSetup) and
``destroy_results_database_sessions`` from a Cleanup step (or ProcessCleanup), both with the
SequenceContext. Cleanup commits when the sequence passed and rolls back when a step failed or
raised an error, so a run's rows become visible all together or not at all. The file name is
unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from results_client import ResultsDatabaseClient
from teststand.sequence_context import SequenceContext, sequence_passed
from teststand.session_lifecycle import create_sessions, destroy_sessions, results_database


def create_results_database_sessions(sequence_context: SequenceContext) -> list[str]:
    """Open and register the pin map's results database sessions; return their session ids.

    Each id is also the run id of the rows the measurement steps record without one.
    """
    session_ids = []
    for info in create_sessions(sequence_context, results_database(commit=False)):
        client = info.session
        if not isinstance(client, ResultsDatabaseClient):
            raise TypeError(f"expected a ResultsDatabaseClient, got {type(client).__name__}")
        session_ids.append(client.session_id)
    return session_ids


def destroy_results_database_sessions(sequence_context: SequenceContext) -> list[str]:
    """Commit (the run passed) or roll back (it failed), then unregister and close every
    registered results database session; return their session names.
    """
    return destroy_sessions(results_database(commit=sequence_passed(sequence_context)))
