"""A simulated SCPI instrument on a real TCP socket, for the demo, the course and the tests.

It answers as a raw-socket instrument on port 5025 does (``TCPIP0::host::port::SOCKET``, lines
ending in a line feed) and, like one, serves one client at a time. ``scpi`` interprets the commands,
``server`` serves them; ``python -m simulated_instrument`` runs it. ``simulated_dut.yaml`` is
the same instrument's everyday commands as a pyvisa-sim device, for PyVISA without any socket.
"""

from pathlib import Path

SIMULATED_DUT_YAML = Path(__file__).with_name("simulated_dut.yaml")
"""pyvisa-sim's description of the instrument: ``--visa-library <this>@sim``."""
