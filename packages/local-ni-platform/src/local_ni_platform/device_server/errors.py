"""Errors of the simulated NI gRPC Device Server, free of gRPC types.

Two families, because NI's device server reports them differently and NI's Python clients react
differently:

- :class:`SessionRequestError` subclasses are the *session repository's* answers (NI's
  ``NonDriverException``/``SessionException``): a plain gRPC status code and message.
- :class:`DriverError` is what a real driver call would return: a negative IVI/NI status code and
  its description. NI's server sends it as ``UNKNOWN`` with the description as details and the code
  in the trailing metadata ``ni-error``; ``nidcpower``/``nidmm`` raise ``errors.DriverError``.

The status codes below are the IVI Foundation's and NI's published values (IVI-3.2 inherent
error base ``0xBFFA0000``); the description texts are written for this simulator.
"""

from __future__ import annotations

IVI_ERROR_BASE = -1074135040
"""``0xBFFA0000`` as a signed 32-bit status."""

INVALID_ATTRIBUTE = IVI_ERROR_BASE + 0x0C
ATTRIBUTE_NOT_WRITABLE = IVI_ERROR_BASE + 0x0D
INVALID_VALUE = IVI_ERROR_BASE + 0x10
TYPES_DO_NOT_MATCH = IVI_ERROR_BASE + 0x15
UNKNOWN_CHANNEL_NAME = IVI_ERROR_BASE + 0x20
DUPLICATE_CHANNEL_STRING = IVI_ERROR_BASE + 0x3E
CHANNEL_NAME_REQUIRED = IVI_ERROR_BASE + 0x44
CHANNEL_NAME_NOT_ALLOWED = IVI_ERROR_BASE + 0x45
UNKNOWN_OPTION_VALUE = IVI_ERROR_BASE + 0x4C
INVALID_SESSION_HANDLE = -1074130544
"""``0xBFFA1190``, "The session handle is not valid." (NI's device-server system tests)."""

RESOURCE_NOT_FOUND = -1074118656
"""NI-DCPower/NI-DMM "Device was not recognized" (NI's device-server system tests)."""

DEVICE_NOT_FOUND = -1074097793
"""NI-DCPower "The specified device cannot be found." (e.g. ``Dev1/0/0``)."""

ALL_CHANNELS_REQUIRED = -1074118494
"""NI-DCPower: a session without independent channels takes no channel subset for this call."""

SINGLE_CHANNEL_REQUIRED = -1074118587
"""NI-DCPower: the call is not available with several channels in a session without independent
channels."""

NOT_SUPPORTED_BY_DEVICE = -1074118619
"""NI-DCPower: the device does not support the requested operation."""

MAX_TIME_EXCEEDED = IVI_ERROR_BASE + 0x2003
"""``0xBFFA2003`` (IVI-DMM): the points asked for did not arrive within ``maximum_time``."""

DATA_NOT_AVAILABLE = IVI_ERROR_BASE + 0x400F
"""``0xBFFA400F`` (NI-DMM): fetch before initiate, or after abort."""

CABLE_COMP_NOT_ALLOWED = IVI_ERROR_BASE + 0x401B
"""``0xBFFA401B`` (NI-DMM): cable compensation outside a capacitance or inductance measurement."""

FEATURE_NOT_SUPPORTED = IVI_ERROR_BASE + 0x4327
"""``0xBFFA4327`` (NI-DMM): the model lacks the feature (e.g. self-calibration on an NI 4065)."""

DCPOWER_EVENT_TIMEOUT = -1074116059
"""NI-DCPower ``wait_for_event`` timeout, the code NI's DCPower examples catch and retry on."""

_DESCRIPTIONS: dict[int, str] = {
    INVALID_ATTRIBUTE: "Attribute ID not recognized.",
    ATTRIBUTE_NOT_WRITABLE: "Attribute is read-only.",
    INVALID_VALUE: "Invalid value for parameter or property.",
    TYPES_DO_NOT_MATCH: "Data types do not match.",
    UNKNOWN_CHANNEL_NAME: "Unknown channel or repeated capability name.",
    DUPLICATE_CHANNEL_STRING: "Channel or repeated capability name specified more than once.",
    CHANNEL_NAME_REQUIRED: "Channel or repeated capability name required.",
    CHANNEL_NAME_NOT_ALLOWED: "The channel or repeated capability name is not allowed.",
    UNKNOWN_OPTION_VALUE: (
        "The option string parameter contains an entry with an unknown option value."
    ),
    DEVICE_NOT_FOUND: "The specified device cannot be found.",
    ALL_CHANNELS_REQUIRED: (
        "The channel name string must represent all channels in the session because the session "
        "was not initialized with independent channels."
    ),
    SINGLE_CHANNEL_REQUIRED: (
        "The requested function is not available when multiple channels are present in the same "
        "session."
    ),
    NOT_SUPPORTED_BY_DEVICE: "This device does not support the requested operation.",
    MAX_TIME_EXCEEDED: "Max Time exceeded before the operation completed.",
    DATA_NOT_AVAILABLE: (
        "No data is available: the acquisition was not initiated, or it was aborted."
    ),
    CABLE_COMP_NOT_ALLOWED: (
        "Cable compensation is only allowed for capacitance and inductance measurements."
    ),
    FEATURE_NOT_SUPPORTED: "The requested feature is not supported by this device.",
    INVALID_SESSION_HANDLE: "The session handle is not valid.",
    RESOURCE_NOT_FOUND: (
        "Device was not recognized. The device is not supported with this driver or version."
    ),
    DCPOWER_EVENT_TIMEOUT: "The specified event did not occur before the timeout elapsed.",
}


def error_message(code: int) -> str:
    """The driver's text for ``code`` (``ErrorMessage``/``GetErrorMessage``), without details.

    IVI engine errors carry NI's ``IVI: (Hex 0x…)`` prefix, as NI's drivers print them.
    """
    text = _DESCRIPTIONS.get(code)
    if text is None:
        return f"Unknown status code {code} (Hex 0x{code & 0xFFFFFFFF:08X})."
    if IVI_ERROR_BASE <= code < IVI_ERROR_BASE + 0x2000:
        return f"IVI: (Hex 0x{code & 0xFFFFFFFF:08X}) {text}"
    return text


class DeviceServerError(Exception):
    """Base class of every error the simulated device server reports to a client."""


class DriverError(DeviceServerError):
    """A failed driver call: a negative status ``code`` and its ``description``."""

    def __init__(self, code: int, detail: str = "") -> None:
        """Describe ``code``; ``detail`` is the elaboration NI's drivers append after a gap."""
        self.code = code
        self.description = error_message(code) + (f"\n\n{detail}" if detail else "")
        super().__init__(f"{code}: {self.description}")


class SessionRequestError(DeviceServerError):
    """The session repository refused an init request; the message is sent to the client."""


class SessionExistsError(SessionRequestError):
    """INITIALIZE_NEW for a name that is already in use (``ALREADY_EXISTS``)."""


class SessionNotInitializedError(SessionRequestError):
    """ATTACH_TO_EXISTING for a name nobody initialized (``FAILED_PRECONDITION``)."""


class SessionNameConflictError(SessionRequestError):
    """The name belongs to a session of the other driver (``INVALID_ARGUMENT``)."""


class WaitAbandonedError(DeviceServerError):
    """The caller of a waiting call cancelled or its deadline passed (``CANCELLED``).

    The client has gone, so it never sees this; it only ends the server-side wait.
    """


class WaitDeadlineExceededError(WaitAbandonedError):
    """The caller's deadline passed while it waited (``DEADLINE_EXCEEDED``)."""


def invalid_session(name: str) -> DriverError:
    """What NI's server answers for an unknown session name: the driver's invalid-handle error."""
    return DriverError(INVALID_SESSION_HANDLE, f"Session name: {name!r}")
