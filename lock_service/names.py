"""Lock names: how a name is checked and compared (the rule in ``hardware_lock.proto``)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from session_core.errors import InvalidArgumentError, excerpt

MAX_NAME_CHARS = 256


@dataclass(frozen=True)
class LockName:
    """A lock's name as written (spaces tidied) and the key it is compared by."""

    display: str
    key: str


def lock_name(text: str) -> LockName:
    """Check ``text`` and return its name and key; INVALID_ARGUMENT when it is not a lock name.

    Case, leading and trailing spaces and runs of spaces do not matter: people type lock names
    into pin maps and sequences by hand, and two spellings must never be two locks.
    """
    if len(text) > 4 * MAX_NAME_CHARS:  # refused before any per-character work
        raise InvalidArgumentError(
            f"the lock name has {len(text)} characters; at most {MAX_NAME_CHARS} are allowed"
        )
    # before spaces are tidied: a tab or a line break is a control character, not a space
    control = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf")), None)
    if control is not None:
        raise InvalidArgumentError(
            f"the lock name '{excerpt(text.encode('unicode_escape').decode())}' holds the "
            f"control character U+{ord(control):04X}"
        )
    display = " ".join(text.split())
    if not display:
        raise InvalidArgumentError("resource_name is empty; send the lock's name")
    if len(display) > MAX_NAME_CHARS:
        raise InvalidArgumentError(
            f"the lock name '{excerpt(display)}' is longer than {MAX_NAME_CHARS} characters"
        )
    return LockName(display=display, key=display.casefold())
