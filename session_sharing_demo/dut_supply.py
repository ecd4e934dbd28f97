"""``python -m session_sharing_demo.dut_supply``: a DUT whose control link takes one client at a
time; the steps of one sequence share that link through the Instrument Connection Service.

It starts what is missing (the NI platform, the JSON Logger Service, the Instrument Connection
Service, the DUT supply and NI-DMM plug-ins), registers ``pinmap/DutSupply.pinmap`` naming the
device, and runs ``teststand/DutSupply.sequence.json``: Setup opens the device's connection once
and registers it, the DUT supply step sets the DUT's output over it and reads it back, the NI-DMM
step measures the output, Cleanup closes the connection.

The device is, with ``--device socket`` (the default), the simulated SCPI instrument on a real TCP
socket, served by this program and taking one client at a time as real ones do; it counts the
connections it accepted and refused. With ``--device pyvisa-sim`` there is no socket: the
Instrument Connection Service runs on pyvisa-sim (``simulated_instrument/simulated_dut.yaml``),
the simulated PyVISA backend NI's own VISA example uses. The same plug-in and sequence run on both.

The simulated NI-DMM measures a fixed 2.5 V DC input (it is not wired to the simulated DUT), so
the sequence sets the DUT to 2.5 V and the two agree; on a bench, the DMM's leads are on the
DUT's output.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from logger_client import read_records
from measurements.dut_supply_with_connection import PLUGIN as DUT_PLUGIN
from measurements.nidmm_with_logger import PLUGIN as DMM_PLUGIN
from pinmap import DUT_SUPPLY_PIN_MAP_PATH
from session_sharing_demo.console import (
    log_option,
    progress,
    run_command,
    stopped,
    verbose_option,
)
from session_sharing_demo.leftovers import leftovers
from session_sharing_demo.services import (
    Services,
    register_pin_map,
    start_ni_platform,
    start_processes,
)
from simulated_instrument import SIMULATED_DUT_YAML
from simulated_instrument.server import InstrumentServer
from teststand.runner import RunReport, format_report, run_sequence
from teststand.sequence import DUT_SUPPLY_SEQUENCE_PATH, MeasurementStep, load_sequence

DUT_STEP = "Set the DUT's supply over its connection"
DMM_STEP = "Measure the DUT's supply with the NI-DMM"
TOLERANCE = 0.01
PYVISA_SIM_DEVICE = "TCPIP0::dut.example::5025::SOCKET"
"""A device ``simulated_dut.yaml`` declares."""


def check_readings(report: RunReport, set_to: float) -> list[str]:
    """What would be wrong with the steps' outputs: a failed step, a read-back or a DMM reading
    away from the level the DUT was set to.
    """
    problems = [f"step '{step.name}' failed: {step.message}" for step in report.failed]
    if problems:
        return problems
    read_back = report.result(DUT_STEP).value["measured_voltage"]
    measured = report.result(DMM_STEP).value["measured_value"]
    for what, value in (("read back", read_back), ("measured by the NI-DMM", measured)):
        if abs(value - set_to) > TOLERANCE:
            problems.append(f"the DUT's supply was set to {set_to:g} V but {what} {value:g} V")
    return problems


def check_log(log_path: Path) -> list[str]:
    """Both steps logged one record each, through one log-file session."""
    records = read_records(log_path) if log_path.exists() else []
    sessions = {str(record.get("session_id")) for record in records}
    if len(records) != 2 or len(sessions) != 1:
        return [f"expected 2 records through one log-file session, got {records}"]
    return []


def run_dut_supply(log_path: Path, device: str) -> bool:
    """Start everything, run the sequence, print the report and what the device saw; return
    whether all is well.
    """
    sequence = load_sequence(DUT_SUPPLY_SEQUENCE_PATH)
    [dut_step] = [s for s in sequence.main if s.name == DUT_STEP and isinstance(s, MeasurementStep)]
    set_to = float(dut_step.configuration["voltage_level"])
    with contextlib.ExitStack() as stack:
        instrument: InstrumentServer | None = None
        if device == "socket":
            instrument = stack.enter_context(InstrumentServer())
            resource_name, visa_library = instrument.resource_name, "@py"
            progress(f"the simulated SCPI instrument listens at {resource_name}")
        else:
            resource_name, visa_library = PYVISA_SIM_DEVICE, f"{SIMULATED_DUT_YAML}@sim"
        progress(
            "starting the NI platform, the JSON Logger, the Instrument Connection Service, plug-ins"
        )
        description, platform = start_ni_platform(stack)
        services = Services(description, platform)
        services.pin_map_id = register_pin_map(
            stack, log_path, device=resource_name, source=DUT_SUPPLY_PIN_MAP_PATH
        )
        started = start_processes(
            stack,
            plugins=(DUT_PLUGIN, DMM_PLUGIN),
            results_service=False,
            connection_service=["--visa-library", visa_library],
        )
        services.logger, services.connection = started.logger, started.connection
        assert services.connection is not None
        progress(f"{description}; Instrument Connection Service at {services.connection.address}")
        progress(f"the device: {resource_name} (VISA library {visa_library})")

        progress(f"running the sequence '{sequence.name}'")
        report = run_sequence(sequence, services.pin_map_id)
        click.echo(format_report(report))
        problems = check_readings(report, set_to) + check_log(log_path)
        if not report.failed:
            outputs = report.result(DUT_STEP).value
            click.echo(
                f"\nThe DUT ({outputs['identity']}) was set to {set_to:g} V over its one "
                f"connection and read back {outputs['measured_voltage']:g} V; the NI-DMM "
                f"measured {report.result(DMM_STEP).value['measured_value']:g} V."
            )
        if instrument is not None:
            free = instrument.wait_free(5.0)
            click.echo(
                f"The device accepted {instrument.accepted} connection(s) and refused "
                f"{instrument.refused} during the run; it is "
                f"{'free again' if free else 'still connected'}."
            )
            if (instrument.accepted, instrument.refused, free) != (1, 0, True):
                problems.append(
                    "expected one connection, opened by Setup, used by both steps and closed by "
                    f"Cleanup; the device accepted {instrument.accepted}, refused "
                    f"{instrument.refused}, is {'free' if free else 'still connected'}"
                )
        else:
            click.echo("(pyvisa-sim: the same plug-in and sequence, no socket and no device.)")
        problems += leftovers(services)
    return stopped(problems)


@click.command()
@click.option(
    "--device",
    type=click.Choice(["socket", "pyvisa-sim"]),
    default="socket",
    show_default=True,
    help="The simulated SCPI instrument on a TCP socket, or the same device in pyvisa-sim.",
)
@log_option
@verbose_option
def main(device: str, log_path: Path | None, verbose: bool) -> None:
    """Set a DUT's supply over its one shared connection and measure it with the NI-DMM."""
    run_command(
        lambda log: run_dut_supply(log, device),
        log_path=log_path,
        scratch_name="dut-supply.ndjson",
        verbose=verbose,
        success=(
            "Demo succeeded: Setup opened the device's one connection, both steps shared it and "
            "the log file's session, Cleanup closed them."
        ),
    )


if __name__ == "__main__":
    main()
