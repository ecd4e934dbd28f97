"""``DriverSetup=Model:<m>; BoardType:<b>`` of an option string, as NI's simulated drivers read it.

Both simulated drivers pick their model and bus this way: the DriverSetup entry runs to the next
comma (NI's clients sort the entries by name), its ``Model`` names a model of the driver's table
(``4162``, or ``PXIe-4162`` naming the bus too) and ``BoardType`` the bus. An unknown model or bus
fails the init with NI's unknown-option-value error; other DriverSetup entries are NI's tuning
options and are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from local_ni_platform.device_server.errors import UNKNOWN_OPTION_VALUE, DriverError

BOARD_TYPES: Mapping[str, str] = {name.lower(): name for name in ("PXI", "PXIe", "PCI", "USB")}

_DRIVER_SETUP = re.compile(r"DriverSetup\s*=\s*([^,]*)", re.IGNORECASE)
_MODEL_VALUE = re.compile(r"(?:NI\s*)?(?:(PXIe?|PCI|USB)-)?(\d{4})", re.IGNORECASE)
_SIMULATE = re.compile(r"Simulate\s*=\s*(1|true)\b", re.IGNORECASE)

M = TypeVar("M")


@dataclass(frozen=True)
class DriverSetup(Generic[M]):
    """What ``DriverSetup=`` of the option string selects."""

    model: M
    model_number: str
    board_type: str
    text: str
    """The ``DriverSetup`` value as given (the ``driver_setup`` attribute)."""

    @property
    def instrument_model(self) -> str:
        """``'NI PXIe-4082'``: the ``instrument_model`` attribute."""
        return f"NI {self.board_type}-{self.model_number}"


def parse_driver_setup(
    option_string: str,
    models: Mapping[str, M],
    *,
    default_model: str,
    default_board_type: str,
) -> DriverSetup[M]:
    """The model of ``models`` and the bus that ``option_string`` names, else the defaults.

    Raises:
        DriverError: an unknown model or board type (-1074134964).
    """
    match = _DRIVER_SETUP.search(option_string)
    text = match.group(1).strip() if match else ""
    number, board_type = default_model, None
    for entry in text.split(";"):
        key, _, value = (part.strip() for part in entry.partition(":"))
        if key.lower() == "model":
            found = _MODEL_VALUE.fullmatch(value)
            if found is None or found.group(2) not in models:
                raise DriverError(
                    UNKNOWN_OPTION_VALUE, f"Model: {value!r} (simulated: {', '.join(models)})"
                )
            number = found.group(2)
            if found.group(1):
                board_type = BOARD_TYPES[found.group(1).lower()]
        elif key.lower() == "boardtype":
            board_type = BOARD_TYPES.get(value.lower())
            if board_type is None:
                raise DriverError(UNKNOWN_OPTION_VALUE, f"BoardType: {value!r}")
    return DriverSetup(models[number], number, board_type or default_board_type, text)


def simulation_requested(option_string: str) -> bool:
    """Whether the option string says ``Simulate=1`` (or ``Simulate=true``)."""
    return _SIMULATE.search(option_string) is not None
