"""TestStand code module: the NI-DCPower sessions the sequence's steps share.

Call ``create_nidcpower_sessions`` from a Setup step (or ProcessSetup) with the SequenceContext,
and ``destroy_nidcpower_sessions`` from a Cleanup step (or ProcessCleanup). The file name is
unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from teststand.sequence_context import SequenceContext
from teststand.session_lifecycle import NIDCPOWER, create_sessions, destroy_sessions


def create_nidcpower_sessions(sequence_context: SequenceContext) -> list[str]:
    """Open and register the pin map's NI-DCPower sessions; return their session names."""
    return [info.session_name for info in create_sessions(sequence_context, NIDCPOWER)]


def destroy_nidcpower_sessions() -> list[str]:
    """Unregister and close every registered NI-DCPower session; return their session names."""
    return destroy_sessions(NIDCPOWER)
