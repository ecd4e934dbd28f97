"""The instrument connection contract: ``instrument_connection.proto`` and the stubs generated
from it.

The stubs are produced by the repository's development tool
``python tools/generate_stubs.py instrument_connection`` and committed; never edit them by hand.
Import them as ``from instrument_connection import instrument_connection_pb2``.
"""
