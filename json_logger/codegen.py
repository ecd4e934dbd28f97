"""Generate the Python stubs of ``json_logger.proto`` with grpc_tools.protoc.

The proto lives at ``json_logger/json_logger.proto`` and is compiled with the project root as the
proto path, so the generated modules import each other as ``from json_logger import ...`` and need
no hand edits. Run ``python -m json_logger.codegen`` after changing the proto; pass ``--out DIR`` to
write into a scratch folder instead (the files then land in ``DIR/json_logger/``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
PROTO_FILE = PACKAGE_DIR / "json_logger.proto"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def generated_file_names() -> list[str]:
    """Names of the files the generator writes into the package folder."""
    return [PROTO_FILE.stem + suffix for suffix in GENERATED_SUFFIXES]


def _plugin(name: str) -> str:
    """Find a protoc plug-in next to this interpreter first, then on PATH."""
    candidates = [Path(sys.executable).parent / name, Path(sys.executable).parent / f"{name}.exe"]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found; install the dev dependencies (mypy-protobuf).")
    return found


def generate(output_root: Path = PROJECT_ROOT) -> list[Path]:
    """Compile the proto into ``output_root/json_logger/`` and return the generated files."""
    from grpc_tools import protoc  # a dev dependency: imported only when generating

    output_root = Path(output_root).resolve()
    (output_root / PACKAGE_DIR.name).mkdir(parents=True, exist_ok=True)
    well_known_protos = resources.files("grpc_tools") / "_proto"
    arguments = [
        "grpc_tools.protoc",
        f"--proto_path={PROJECT_ROOT}",
        f"--proto_path={well_known_protos}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={output_root}",
        f"--grpc_python_out={output_root}",
        f"--mypy_out={output_root}",
        f"--mypy_grpc_out={output_root}",
        str(PROTO_FILE.relative_to(PROJECT_ROOT).as_posix()),
    ]
    if protoc.main(arguments) != 0:
        raise RuntimeError(f"protoc failed on {PROTO_FILE}")
    return [output_root / PACKAGE_DIR.name / name for name in generated_file_names()]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT, help="root folder (default: the project)"
    )
    arguments = parser.parse_args(argv)
    for path in generate(arguments.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
