"""Run nimi-python's gRPC system tests for NI-DCPower and NI-DMM against the local platform.

Usage (a nimi-python checkout whose system tests match the installed ``nidcpower``/``nidmm``)::

    uv run python tools/nimi_system_tests/run.py --nimi-python ../nimi-python [pytest args]

Runs ``test_system_<driver>.py::TestGrpc`` as NI's ``tox-system_tests.ini`` does (from
``generated/<driver>``, with its pytest configuration), one driver after the other, and prints the
counts per driver. Only the gRPC variant runs: the library variant needs NI's driver DLLs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRIVERS = ("nidcpower", "nidmm")


def run_driver(nimi: Path, driver: str, results: Path, pytest_args: list[str]) -> dict[str, int]:
    """Run one driver's ``TestGrpc`` and return its counts from the JUnit report."""
    junit = results / f"{driver}.junit.xml"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(nimi / "src" / "shared")]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("NI_LOCAL_PLATFORM_DIR", None)
    command = [
        sys.executable, "-m", "pytest",
        f"../../src/{driver}/system_tests/test_system_{driver}.py::TestGrpc",
        "-c", "tox-system_tests.ini", "-p", "plugin", "-p", "no:cacheprovider",
        "-q", "--timeout=60", f"--junitxml={junit}", *pytest_args,
    ]  # fmt: skip
    with (results / f"{driver}.log").open("w", encoding="utf-8") as log:
        subprocess.run(command, cwd=nimi / "generated" / driver, env=env, stdout=log, stderr=log)
    suite = ElementTree.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def main() -> int:
    """Run both drivers; exit 0 whatever the counts (it measures, it does not gate)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nimi-python", type=Path, required=True, help="nimi-python checkout")
    parser.add_argument("--results", type=Path, default=Path("nimi-system-tests-results"))
    parser.add_argument("--driver", choices=DRIVERS, action="append", help="default: both")
    arguments, pytest_args = parser.parse_known_args()
    arguments.results.mkdir(parents=True, exist_ok=True)
    nimi = arguments.nimi_python.resolve()
    for driver in arguments.driver or DRIVERS:
        counts = run_driver(nimi, driver, arguments.results.resolve(), pytest_args)
        share = counts["passed"] / counts["tests"] if counts["tests"] else 0.0
        print(
            f"{driver}: {counts['passed']}/{counts['tests']} passed ({share:.0%}), "
            f"{counts['failures']} failed, {counts['errors']} errors, {counts['skipped']} skipped"
            f" — log: {arguments.results / (driver + '.log')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
