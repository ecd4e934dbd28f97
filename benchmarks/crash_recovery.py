"""SIGKILL the JSON Logger Service at random points while it writes; count what survives.

Run from the project root::

    uv run python benchmarks/crash_recovery.py            # 50 kills without --fsync, 50 with
    uv run python benchmarks/crash_recovery.py --quick    # 2 + 2, a smoke test

Each round starts ``python -m logger_service --no-discovery`` (with or without ``--fsync``), has
four clients append large records (200 kB, so a kill can cut a write short) to four log files of
their own, kills the service with SIGKILL after a random 50-500 ms, starts it again and reopens
every file. It counts:

- files that reopen (a torn last line is recovered: moved aside, log cut back);
- torn tails recovered (files named ``<log>.torn-tail-*`` beside the logs);
- acknowledged records lost: records whose LogMeasurementData returned OK but are not in the file
  after the restart (the goal: 0). A process kill leaves the OS's page cache intact, so 0 is
  expected with and without ``--fsync``; ``--fsync`` is what protects against a power loss.

The ceiling beside the figures is the ideal: every file reopens, nothing acknowledged is lost.
Loopback only; every process and file is removed at the end. POSIX only (SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from logger_service.ndjson_log import TORN_TAIL_MARKER
from session_sharing_demo.programs import logger_service_process

WRITERS = 4
RECORD_BYTES = 200_000
NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW


@dataclass
class Tally:
    rounds: int = 0
    files: int = 0
    reopened: int = 0
    torn_recovered: int = 0
    acknowledged: int = 0
    lost: int = 0
    failures: list[str] = field(default_factory=list)


def write_until_killed(address: str, path: Path, acknowledged: list[int]) -> None:
    """Append numbered records until the service dies; remember each acknowledged number."""
    payload = {"points": "x" * RECORD_BYTES}
    with grpc.insecure_channel(address) as channel:
        stub = JsonLoggerStub(channel)
        try:
            request = pb.InitializeFileRequest(
                resource_name=str(path), session_initialization_behavior=NEW
            )
            session_id = stub.InitializeFile(request, timeout=10).session_id
            number = 0
            while True:
                stub.LogMeasurementData(
                    pb.LogMeasurementDataRequest(
                        session_id=session_id,
                        measurement_name=str(number),
                        measurement_outputs=payload,
                    ),
                    timeout=10,
                )
                acknowledged.append(number)
                number += 1
        except grpc.RpcError:
            return  # the service was killed


def one_round(folder: Path, fsync: bool, rng: random.Random, tally: Tally) -> None:
    arguments = ["--no-discovery"] + (["--fsync"] if fsync else [])
    logs = [folder / f"log-{index}.ndjson" for index in range(WRITERS)]
    acknowledged: dict[Path, list[int]] = {path: [] for path in logs}
    service = logger_service_process(arguments)
    service.start()
    writers = [
        threading.Thread(
            target=write_until_killed, args=(service.address, path, acknowledged[path])
        )
        for path in logs
    ]
    for writer in writers:
        writer.start()
    threading.Event().wait(rng.uniform(0.05, 0.5))
    os.kill(service.pid, signal.SIGKILL)
    service.wait(timeout=10)
    for writer in writers:
        writer.join(timeout=30)

    tally.rounds += 1
    with (
        logger_service_process(arguments) as restarted,
        grpc.insecure_channel(restarted.address) as channel,
    ):
        stub = JsonLoggerStub(channel)
        for path in logs:
            tally.files += 1
            tally.acknowledged += len(acknowledged[path])
            try:
                request = pb.InitializeFileRequest(
                    resource_name=str(path), session_initialization_behavior=NEW
                )
                session_id = stub.InitializeFile(request, timeout=10).session_id
                stub.CloseFile(pb.CloseFileRequest(session_id=session_id), timeout=10)
            except grpc.RpcError as error:
                tally.failures.append(f"{path.name}: {error.code().name}: {error.details()}")
                continue
            tally.reopened += 1
            present = {
                json.loads(line)["measurement_name"]
                for line in path.read_text(encoding="ascii").splitlines()
            }
            tally.lost += sum(str(number) not in present for number in acknowledged[path])
            tally.torn_recovered += len(list(folder.glob(f"{path.name}{TORN_TAIL_MARKER}*")))
    for leftover in folder.iterdir():
        leftover.unlink()


def main() -> int:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 kills per mode")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    if sys.platform == "win32":
        print("POSIX only (SIGKILL)")
        return 0
    rounds = 2 if arguments.quick else 50
    rng = random.Random(arguments.seed)
    results = {}
    with tempfile.TemporaryDirectory(prefix="crash-recovery-") as folder:
        for fsync in (False, True):
            tally = Tally()
            for _ in range(rounds):
                one_round(Path(folder), fsync, rng, tally)
            results["--fsync" if fsync else "no fsync"] = tally
    print(
        f"{'mode':<10} {'kills':>5} {'files reopened':>15} {'torn tails':>10} "
        f"{'acknowledged':>12} {'lost':>5}   ceiling"
    )
    for mode, tally in results.items():
        print(
            f"{mode:<10} {tally.rounds:>5} {f'{tally.reopened}/{tally.files}':>15} "
            f"{tally.torn_recovered:>10} {tally.acknowledged:>12} {tally.lost:>5}   "
            f"{tally.files}/{tally.files} reopen, 0 lost"
        )
        for failure in tally.failures[:5]:
            print(f"  could not reopen {failure}")
    ok = all(t.reopened == t.files and t.lost == 0 for t in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
