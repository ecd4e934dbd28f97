"""The JSON logger contract: ``json_logger.proto`` and the stubs generated from it.

The stubs are produced by the repository's development tool
``python tools/generate_stubs.py json_logger`` and committed; never edit them by hand.
Import them as ``from json_logger import json_logger_pb2, json_logger_pb2_grpc``.
"""
