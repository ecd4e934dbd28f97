"""The hardware lock contract: ``hardware_lock.proto`` and the stubs generated from it.

The stubs are produced by the repository's development tool
``python tools/generate_stubs.py hardware_lock`` and committed; never edit them by hand.
Import them as ``from hardware_lock import hardware_lock_pb2``.
"""

PATTERN_DIFFERENCES = {
    "unspecified-attaches": "a lock's UNSPECIFIED without a session_id waits for the lock "
    "instead of joining whoever holds it, so that a step run on its own (AUTO) never slips into "
    "a test socket's hold; steps join a hold by the session_id their reservation carries",
}
"""Where the lock differs from the session pattern on purpose, for the conformance kit's
``differs`` (rule id → why); ``hardware_lock.proto`` explains it in full.
"""
