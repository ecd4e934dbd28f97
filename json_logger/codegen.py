"""Generate the Python stubs of ``json_logger.proto``: ``python -m json_logger.codegen``.

Run it after changing the proto; ``--out DIR`` writes into ``DIR/json_logger/`` instead.
"""

from __future__ import annotations

from pathlib import Path

from session_core.codegen import Contract

CONTRACT = Contract(Path(__file__).resolve().parent)

if __name__ == "__main__":
    raise SystemExit(CONTRACT.main())
