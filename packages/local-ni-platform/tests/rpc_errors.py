"""What the platform's tests read from a refused call."""

from __future__ import annotations

import grpc
import pytest


def rpc_error(excinfo: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str]:
    """The status code and details of the ``grpc.RpcError`` a ``pytest.raises`` caught."""
    error = excinfo.value
    return error.code(), error.details() or ""
