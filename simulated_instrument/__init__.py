"""A simulated SCPI instrument on a real TCP socket, for the demo, the course and the tests.

It answers as a raw-socket instrument on port 5025 does (``TCPIP0::host::port::SOCKET``, lines
ending in a line feed) and, like one, serves one client at a time. ``scpi`` interprets the commands,
``server`` serves them; ``python -m simulated_instrument`` runs it.
"""
