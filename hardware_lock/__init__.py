"""The hardware lock contract: ``hardware_lock.proto`` and the stubs generated from it.

The stubs are produced by the repository's development tool
``python tools/generate_stubs.py hardware_lock`` and committed; never edit them by hand.
Import them as ``from hardware_lock import hardware_lock_pb2``.
"""
