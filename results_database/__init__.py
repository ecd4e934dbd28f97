"""The results database contract: ``results_database.proto`` and the stubs generated from it.

The stubs are produced by the repository's development tool
``python tools/generate_stubs.py results_database`` and committed; never edit them by hand.
Import them as ``from results_database import results_database_pb2``.
"""
