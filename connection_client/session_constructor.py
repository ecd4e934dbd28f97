"""A session constructor for ``reservation.initialize_session(s)`` in measurement plug-ins and
TestStand code modules. The reserved session's resource name is the device's VISA resource
string (the custom instrument's name in the pin map).
"""

from __future__ import annotations

from connection_client.session import InstrumentConnectionClient
from session_core.constructor import SessionConstructor

INSTRUMENT_CONNECTION_INSTRUMENT_TYPE = InstrumentConnectionClient.INSTRUMENT_TYPE_ID
"""The ``instrumentTypeId`` of the device's custom instrument in the pin map."""


class InstrumentConnectionSessionConstructor(SessionConstructor[InstrumentConnectionClient]):
    """Builds an :class:`InstrumentConnectionClient` for a reserved session.

    Example::

        with context.reserve_session(dut_pin, timeout=10.0) as reservation:
            with reservation.initialize_session(
                InstrumentConnectionSessionConstructor(), INSTRUMENT_CONNECTION_INSTRUMENT_TYPE
            ) as session_info:
                dut = session_info.session
                dut.write("SOUR:VOLT 2.5")
                print(dut.query("*IDN?"))
    """

    client_type = InstrumentConnectionClient
