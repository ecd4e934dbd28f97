"""``python -m measurements.dut_supply_with_connection``: host the plug-in until stopped.

It stops on SIGINT, SIGTERM or (in a terminal) Enter.
"""

from __future__ import annotations

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log more to stderr (-v: info, -vv: debug).")
def main(verbose: int) -> None:
    """Host the measurement plug-in; it registers with the NI Discovery Service."""
    from measurements._plugin_host import run_plugin
    from measurements.dut_supply_with_connection.measurement import measurement_service

    raise SystemExit(run_plugin(measurement_service, verbose=verbose))


if __name__ == "__main__":
    main()
