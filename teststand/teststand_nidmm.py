"""TestStand code module: the NI-DMM sessions the sequence's steps share.

Call ``create_nidmm_sessions`` from a Setup step (or ProcessSetup) with the SequenceContext, and
``destroy_nidmm_sessions`` from a Cleanup step (or ProcessCleanup). The file name is unique on
purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from teststand.sequence_context import SequenceContext
from teststand.session_lifecycle import NIDMM, create_sessions, destroy_sessions


def create_nidmm_sessions(sequence_context: SequenceContext) -> list[str]:
    """Open and register the pin map's NI-DMM sessions; return their session names."""
    return [info.session_name for info in create_sessions(sequence_context, NIDMM)]


def destroy_nidmm_sessions() -> list[str]:
    """Unregister and close every registered NI-DMM session; return their session names."""
    return destroy_sessions(NIDMM)
