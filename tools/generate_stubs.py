"""Generate the Python stubs of the contracts' ``.proto`` files with grpc_tools.protoc.

    uv run python tools/generate_stubs.py                  # every contract, into the repository
    uv run python tools/generate_stubs.py json_logger      # one contract
    uv run python tools/generate_stubs.py --out /tmp/stubs # into DIR/<package>/ instead

A development tool, not shipped: the stubs it writes are committed, and
``tests/test_codegen.py`` proves that regenerating them changes nothing. A contract package
(``json_logger``, ``results_database``) holds ``<package>/<package>.proto``; it is compiled with
the repository root as the proto path, so the generated modules import each other as
``from <package> import ...`` and need no hand edits.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


@dataclass(frozen=True)
class Contract:
    """One contract package: the folder that holds ``<name>.proto`` and its stubs."""

    package_dir: Path

    @property
    def name(self) -> str:
        """The package's name."""
        return self.package_dir.name

    @property
    def proto_file(self) -> Path:
        """The ``.proto`` named after the package."""
        return self.package_dir / f"{self.name}.proto"

    def generated_file_names(self) -> list[str]:
        """Names of the files the generator writes into the package folder."""
        return [self.proto_file.stem + suffix for suffix in GENERATED_SUFFIXES]

    def generate(self, output_root: Path = REPOSITORY_ROOT) -> list[Path]:
        """Compile the proto into ``output_root/<package>/`` and return the generated files."""
        from grpc_tools import protoc

        output_root = Path(output_root).resolve()
        (output_root / self.name).mkdir(parents=True, exist_ok=True)
        well_known_protos = resources.files("grpc_tools") / "_proto"
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={self.package_dir.parent}",
            f"--proto_path={well_known_protos}",
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--python_out={output_root}",
            f"--grpc_python_out={output_root}",
            f"--mypy_out={output_root}",
            f"--mypy_grpc_out={output_root}",
            self.proto_file.relative_to(self.package_dir.parent).as_posix(),
        ]
        if protoc.main(arguments) != 0:
            raise RuntimeError(f"protoc failed on {self.proto_file}")
        return [output_root / self.name / name for name in self.generated_file_names()]


CONTRACTS = {
    name: Contract(REPOSITORY_ROOT / name)
    for name in ("json_logger", "results_database", "hardware_lock", "instrument_connection")
}
"""The repository's contract packages, by name."""


def _plugin(name: str) -> str:
    """Find a protoc plug-in next to this interpreter first, then on PATH."""
    for candidate in (
        Path(sys.executable).parent / name,
        Path(sys.executable).parent / f"{name}.exe",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found; install the dev dependencies (mypy-protobuf).")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the stubs of the named contracts (default: all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "contracts", nargs="*", metavar="CONTRACT", help=f"{', '.join(CONTRACTS)} (default: all)"
    )
    parser.add_argument(
        "--out", type=Path, default=REPOSITORY_ROOT, help="root folder (default: the repository)"
    )
    arguments = parser.parse_args(argv)
    unknown = [name for name in arguments.contracts if name not in CONTRACTS]
    if unknown:
        parser.error(f"unknown contract {', '.join(unknown)}; choose from {', '.join(CONTRACTS)}")
    for name in arguments.contracts or CONTRACTS:
        for path in CONTRACTS[name].generate(arguments.out):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
