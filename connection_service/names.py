"""VISA resource strings: how a string is checked and which device it names (the rule in
``instrument_connection.proto``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pyvisa import rname

from session_core.errors import InvalidArgumentError, excerpt

MAX_NAME_CHARS = 1024
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
_RESOURCE_CLASSES = {"INSTR", "SOCKET", "INTFC", "BACKPLANE", "RAW", "MEMACC", "SERVANT"}


@dataclass(frozen=True)
class DeviceName:
    """A resource string as PyVISA normalises it, and the key one device is known by."""

    display: str
    key: str
    parsed: rname.ResourceName


def device_name(text: str) -> DeviceName:
    """Check ``text`` and return the device it names; INVALID_ARGUMENT when it is not a VISA
    resource string.

    Spellings of one device are one key: the interface and resource class without case (VISA
    says resource strings are case-insensitive), PyVISA's defaults filled in, host names without
    case, and the loopback names as one host.
    """
    if len(text) > MAX_NAME_CHARS:  # refused before any per-character work
        raise InvalidArgumentError(
            f"the resource name has {len(text)} characters; at most {MAX_NAME_CHARS} are allowed"
        )
    text = text.strip()
    if not text:
        raise InvalidArgumentError(
            "resource_name is empty; send a VISA resource string, e.g. "
            "TCPIP0::10.0.0.5::5025::SOCKET"
        )
    control = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf")), None)
    if control is not None:
        raise InvalidArgumentError(
            f"the resource name '{excerpt(text.encode('unicode_escape').decode())}' holds the "
            f"control character U+{ord(control):04X}"
        )
    parts = text.split("::")
    head = parts[0]  # the interface, without case; a serial port's path keeps its case
    parts[0] = "ASRL" + head[4:] if head[:5].upper() == "ASRL/" else head.upper()
    if len(parts) > 1 and parts[-1].upper() in _RESOURCE_CLASSES:
        parts[-1] = parts[-1].upper()
    try:
        parsed = rname.parse_resource_name("::".join(parts))
    except rname.InvalidResourceName as error:
        raise InvalidArgumentError(
            f"'{excerpt(text)}' is not a VISA resource string: {error}"
        ) from None
    display = str(parsed)
    host = getattr(parsed, "host_address", None)
    if host is None:
        return DeviceName(display=display, key=display, parsed=parsed)
    same_host = "localhost" if host.lower() in _LOOPBACK else host.lower()
    key = display.replace(f"::{host}::", f"::{same_host}::", 1)
    return DeviceName(display=display, key=key, parsed=parsed)
