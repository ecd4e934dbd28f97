"""The Instrument Connection Service: one connection to a device that takes one client at a time,
shared by every step over gRPC.

A session is one open connection, through PyVISA. Layers, one module each: ``names`` (which
device a VISA resource string names), ``device`` (the connection: write, read, query, faults),
``servicer`` (requests and status codes), ``server``/``cli`` (the process).
"""

DISPLAY_NAME = "Instrument Connection Service"
"""The service's name in its ready line and the NI Discovery Service (here, so that whoever only
needs the name does not import PyVISA)."""
