"""The NI SMU models the simulated NI-DCPower driver knows.

A session's model comes from ``DriverSetup=Model:<number>`` (default :data:`DEFAULT_MODEL`, see
:mod:`.driver_setup`), as with NI's simulated driver.
The numbers are the published ones of each model: channels per instrument, the largest voltage
and current it sources, the smallest current limit, whether it measures LCR and whether its
advanced sequences take commit steps.
"""

from __future__ import annotations

from dataclasses import dataclass


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
DEFAULT_BOARD_TYPE = "PXIe"
