"""Generate the Python stubs of ``json_logger.proto``: ``python -m json_logger.codegen``.

Run it after changing the proto; ``--out DIR`` writes into ``DIR/json_logger/`` instead.
"""

from __future__ import annotations

from pathlib import Path

from session_core.codegen import PROJECT_ROOT, Contract

CONTRACT = Contract(Path(__file__).resolve().parent)
PACKAGE_DIR = CONTRACT.package_dir
PROTO_FILE = CONTRACT.proto_file
generate = CONTRACT.generate
generated_file_names = CONTRACT.generated_file_names

__all__ = ["CONTRACT", "PACKAGE_DIR", "PROJECT_ROOT", "PROTO_FILE", "generate"]

if __name__ == "__main__":
    raise SystemExit(CONTRACT.main())
