"""Advanced sequences of one NI-DCPower channel, as bookkeeping: names, their attributes, steps.

The simulation does not run sequences; it keeps what NI's client can read back (the active
sequence and step) and refuses what NI-DCPower refuses (an unknown sequence made active, a step
without an active sequence, commit steps on models without them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from local_ni_platform.device_server.errors import INVALID_VALUE, DriverError


@dataclass
class AdvancedSequence:
    """A named sequence: the attributes its steps set, and how many steps it has."""

    attribute_ids: tuple[int, ...]
    steps: int = 0
    commit_step: bool = False


@dataclass
class ChannelSequences:
    """The advanced sequences of one channel and which one is active."""

    sequences: dict[str, AdvancedSequence] = field(default_factory=dict)
    active: str = ""

    def create(self, name: str, attribute_ids: tuple[int, ...], *, make_active: bool) -> None:
        """Create (or replace) ``name``.

        Raises:
            DriverError: an empty name.
        """
        if not name:
            raise DriverError(INVALID_VALUE, "An advanced sequence needs a name.")
        self.sequences[name] = AdvancedSequence(attribute_ids)
        if make_active:
            self.active = name

    def add_step(self, *, commit: bool) -> int:
        """Add a step to the active sequence; its zero-based index.

        Raises:
            DriverError: no active sequence.
        """
        sequence = self.sequences.get(self.active)
        if sequence is None:
            raise DriverError(INVALID_VALUE, "No advanced sequence is active on the channel.")
        if commit:
            sequence.commit_step = True
        sequence.steps += 1
        return sequence.steps - 1

    def delete(self, name: str) -> None:
        """Delete ``name``; the channel then has no active sequence if it was active.

        Raises:
            DriverError: no such sequence.
        """
        if self.sequences.pop(name, None) is None:
            raise DriverError(INVALID_VALUE, f"Advanced sequence {name!r} does not exist.")
        if self.active == name:
            self.active = ""

    def activate(self, name: str) -> None:
        """Make ``name`` the active sequence ("" for none).

        Raises:
            DriverError: no such sequence.
        """
        if name and name not in self.sequences:
            raise DriverError(INVALID_VALUE, f"Advanced sequence {name!r} does not exist.")
        self.active = name
