"""Generate the Python stubs of a contract package's ``.proto`` with grpc_tools.protoc.

A contract package (``json_logger``, ``results_database``) holds ``<package>/<package>.proto``.
It is compiled with the project root as the proto path, so the generated modules import each
other as ``from <package> import ...`` and need no hand edits. Each contract package runs this
through its own ``python -m <package>.codegen [--out DIR]`` (files land in ``DIR/<package>/``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


@dataclass(frozen=True)
class Contract:
    """One contract package: the folder that holds ``<name>.proto`` and its stubs."""

    package_dir: Path

    @property
    def proto_file(self) -> Path:
        """The ``.proto`` named after the package."""
        return self.package_dir / f"{self.package_dir.name}.proto"

    def generated_file_names(self) -> list[str]:
        """Names of the files the generator writes into the package folder."""
        return [self.proto_file.stem + suffix for suffix in GENERATED_SUFFIXES]

    def generate(self, output_root: Path = PROJECT_ROOT) -> list[Path]:
        """Compile the proto into ``output_root/<package>/`` and return the generated files."""
        from grpc_tools import protoc  # a dev dependency: imported only when generating

        output_root = Path(output_root).resolve()
        project_root = self.package_dir.parent
        (output_root / self.package_dir.name).mkdir(parents=True, exist_ok=True)
        well_known_protos = resources.files("grpc_tools") / "_proto"
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={project_root}",
            f"--proto_path={well_known_protos}",
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--python_out={output_root}",
            f"--grpc_python_out={output_root}",
            f"--mypy_out={output_root}",
            f"--mypy_grpc_out={output_root}",
            str(self.proto_file.relative_to(project_root).as_posix()),
        ]
        if protoc.main(arguments) != 0:
            raise RuntimeError(f"protoc failed on {self.proto_file}")
        return [output_root / self.package_dir.name / name for name in self.generated_file_names()]

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Command line entry point of ``python -m <package>.codegen``."""
        parser = argparse.ArgumentParser(
            description=f"Generate the Python stubs of {self.proto_file.name}."
        )
        parser.add_argument(
            "--out", type=Path, default=PROJECT_ROOT, help="root folder (default: the project)"
        )
        arguments = parser.parse_args(argv)
        for path in self.generate(arguments.out):
            print(path)
        return 0


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
