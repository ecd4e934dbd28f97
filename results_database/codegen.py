"""Generate the stubs of ``results_database.proto``: ``python -m results_database.codegen``.

Run it after changing the proto; ``--out DIR`` writes into ``DIR/results_database/`` instead.
"""

from __future__ import annotations

from pathlib import Path

from session_core.codegen import Contract

CONTRACT = Contract(Path(__file__).resolve().parent)

if __name__ == "__main__":
    raise SystemExit(CONTRACT.main())
