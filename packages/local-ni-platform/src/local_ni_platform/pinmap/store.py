"""Thread-safe store of registered pin maps, keyed by the client-chosen pin map id.

Shared in-process by the Pin Map and Session Management services, so a pin map registered through
one is what the other reserves against (NI's services share it the same way, over gRPC).
"""

from __future__ import annotations

import logging
import threading

from local_ni_platform.pinmap.errors import (
    InvalidPinMapIdError,
    PinMapAlreadyExistsError,
    PinMapNotFoundError,
)
from local_ni_platform.pinmap.model import PinMap
from local_ni_platform.pinmap.parser import parse_pin_map

_logger = logging.getLogger(__name__)


class PinMapStore:
    """Registered pin maps; ids are opaque (by convention the ``.pinmap`` file path)."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._pin_maps: dict[str, PinMap] = {}

    def update_from_xml(self, pin_map_id: str, xml: str) -> PinMap:
        """Parse ``xml`` and register it under ``pin_map_id``, replacing any previous version.

        Raises:
            InvalidPinMapIdError: the id is empty or only whitespace.
            InvalidPinMapError: the XML is not a valid pin map (nothing is replaced).
        """
        if not pin_map_id.strip():
            raise InvalidPinMapIdError("The pin map id must not be empty.")
        pin_map = parse_pin_map(xml)
        with self._lock:
            replaced = pin_map_id in self._pin_maps
            self._pin_maps[pin_map_id] = pin_map
        _logger.info("%s pin map %r.", "Updated" if replaced else "Registered", pin_map_id)
        return pin_map

    def create_from_xml(self, pin_map_id: str, xml: str) -> PinMap:
        """Parse ``xml`` and register it under a new ``pin_map_id``.

        Raises:
            InvalidPinMapIdError: the id is empty or contains whitespace (as NI's proto says).
            InvalidPinMapError: the XML is not a valid pin map.
            PinMapAlreadyExistsError: the id is already registered.
        """
        if not pin_map_id or any(character.isspace() for character in pin_map_id):
            raise InvalidPinMapIdError(
                f"The pin map id '{pin_map_id}' must be non-empty and contain no whitespace "
                "(UpdatePinMapFromXml accepts ids with spaces)."
            )
        pin_map = parse_pin_map(xml)
        with self._lock:
            if pin_map_id in self._pin_maps:
                raise PinMapAlreadyExistsError(f"A pin map with id '{pin_map_id}' already exists.")
            self._pin_maps[pin_map_id] = pin_map
        _logger.info("Registered pin map %r.", pin_map_id)
        return pin_map

    def get(self, pin_map_id: str) -> PinMap:
        """The pin map registered under ``pin_map_id``.

        Raises:
            PinMapNotFoundError: nothing is registered under that id.
        """
        with self._lock:
            pin_map = self._pin_maps.get(pin_map_id)
        if pin_map is None:
            raise PinMapNotFoundError(
                f"No pin map is registered with id '{pin_map_id}'; register it first "
                "(PinMapClient.update_pin_map)."
            )
        return pin_map

    def ids(self) -> list[str]:
        """Registered ids, in registration order."""
        with self._lock:
            return list(self._pin_maps)
