"""NI-DMM's own status codes: the ones NI's ``nidmm`` clients and system tests check.

:mod:`.errors` holds the IVI codes both simulated drivers share; these belong to NI-DMM alone
(IVI-DMM's class codes at ``0xBFFA2000`` and NI-DMM's at ``0xBFFA4000``, as NI publishes them).
The description texts are written for this simulator. :func:`dmm_error` builds a
:class:`~local_ni_platform.device_server.errors.DriverError` that carries them, since the shared
table in :mod:`.errors` does not know them.
"""

from __future__ import annotations

from local_ni_platform.device_server.errors import IVI_ERROR_BASE, DriverError, error_message

UNKNOWN_OPTION_VALUE = IVI_ERROR_BASE + 0x4C
"""``0xBFFA004C``: init with an option-string value the driver does not know (a bad model)."""

MAX_TIME_EXCEEDED = IVI_ERROR_BASE + 0x2003
"""``0xBFFA2003`` (IVI-DMM): the points asked for did not arrive within ``maximum_time``."""

DATA_NOT_AVAILABLE = IVI_ERROR_BASE + 0x400F
"""``0xBFFA400F``: fetch before initiate, or after abort."""

CABLE_COMP_NOT_ALLOWED = IVI_ERROR_BASE + 0x401B
"""``0xBFFA401B``: cable compensation outside a capacitance or inductance measurement."""

FEATURE_NOT_SUPPORTED = IVI_ERROR_BASE + 0x4327
"""``0xBFFA4327``: the model lacks the feature (e.g. self-calibration on an NI 4065)."""

_DESCRIPTIONS: dict[int, str] = {
    UNKNOWN_OPTION_VALUE: (
        "The option string parameter contains an entry with an unknown option value."
    ),
    MAX_TIME_EXCEEDED: "Max Time exceeded before the operation completed.",
    DATA_NOT_AVAILABLE: (
        "No data is available: the acquisition was not initiated, or it was aborted."
    ),
    CABLE_COMP_NOT_ALLOWED: (
        "Cable compensation is only allowed for capacitance and inductance measurements."
    ),
    FEATURE_NOT_SUPPORTED: "The requested feature is not supported by this device.",
}


def dmm_error_message(code: int) -> str:
    """The driver's text for ``code``: NI-DMM's own codes, else the shared IVI table's."""
    text = _DESCRIPTIONS.get(code)
    if text is None:
        return error_message(code)
    if IVI_ERROR_BASE <= code < IVI_ERROR_BASE + 0x2000:
        return f"IVI: (Hex 0x{code & 0xFFFFFFFF:08X}) {text}"
    return text


def dmm_error(code: int, detail: str = "") -> DriverError:
    """A driver error whose description is NI-DMM's text for ``code`` plus ``detail``."""
    error = DriverError(code, detail)
    if code in _DESCRIPTIONS:
        error.description = dmm_error_message(code) + (f"\n\n{detail}" if detail else "")
        error.args = (f"{code}: {error.description}",)
    return error
