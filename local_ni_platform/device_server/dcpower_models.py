"""The NI SMU models the simulated NI-DCPower driver knows, and how the option string picks one.

A session's model comes from ``DriverSetup=Model:<number>`` (default :data:`DEFAULT_MODEL`), as
with NI's simulated driver; an unknown model fails the init with NI's unknown-option-value error.
The numbers are the published ones of each model: channels per instrument, the largest voltage
and current it sources, the smallest current limit, whether it measures LCR and whether its
advanced sequences take commit steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from local_ni_platform.device_server.errors import UNKNOWN_OPTION_VALUE, DriverError

_MODEL_OPTION = re.compile(r"Model\s*:\s*([^;,\s]+)", re.IGNORECASE)
_BOARD_OPTION = re.compile(r"BoardType\s*:\s*([^;,\s]+)", re.IGNORECASE)
_SIMULATE_OPTION = re.compile(r"Simulate\s*=\s*(1|true)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SmuModel:
    """One NI SMU model, as far as the simulation needs it."""

    number: str
    channels: int
    max_voltage: float
    max_current: float
    min_current_limit: float
    lcr: bool = False
    commit_steps: bool = True


MODELS: dict[str, SmuModel] = {
    model.number: model
    for model in (
        SmuModel("4135", 1, 200.0, 3.0, 1e-10),
        SmuModel("4137", 1, 200.0, 3.0, 1e-8),
        SmuModel("4139", 1, 60.0, 3.0, 1e-8),
        SmuModel("4140", 4, 10.0, 0.1, 1e-7),
        SmuModel("4141", 4, 10.0, 0.1, 1e-7),
        SmuModel("4142", 4, 24.0, 0.15, 1e-7),
        SmuModel("4143", 4, 24.0, 0.15, 1e-7),
        SmuModel("4144", 4, 6.0, 0.5, 1e-7),
        SmuModel("4145", 4, 6.0, 0.5, 1e-7),
        SmuModel("4147", 1, 8.0, 3.0, 1e-7),
        SmuModel("4162", 12, 24.0, 0.1, 1e-7, commit_steps=False),
        SmuModel("4163", 24, 50.0, 0.1, 1e-7, commit_steps=False),
        SmuModel("4190", 1, 40.0, 0.1, 1e-7, lcr=True),
    )
}

DEFAULT_MODEL = "4141"


def model_from_options(option_string: str) -> SmuModel:
    """The model named by ``Model:`` in the option string, else :data:`DEFAULT_MODEL`.

    Raises:
        DriverError: a model the simulation does not know (-1074134964).
    """
    match = _MODEL_OPTION.search(option_string)
    number = match.group(1) if match else DEFAULT_MODEL
    model = MODELS.get(number.upper().removeprefix("PXIE-").removeprefix("PXI-"))
    if model is None:
        raise DriverError(
            UNKNOWN_OPTION_VALUE,
            f"Model:{number} (simulated models: {', '.join(MODELS)})",
        )
    return model


def board_type(option_string: str, default: str = "PXIe") -> str:
    """``BoardType:`` of the option string (``PXI`` or ``PXIe``), else ``default``."""
    match = _BOARD_OPTION.search(option_string)
    if match is None:
        return default
    return "PXIe" if match.group(1).upper() == "PXIE" else "PXI"


def simulation_requested(option_string: str) -> bool:
    """Whether the option string says ``Simulate=1`` (or ``Simulate=true``)."""
    return _SIMULATE_OPTION.search(option_string) is not None
