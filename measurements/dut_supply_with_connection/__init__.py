"""DUT Supply with Connection: set a device's output over the shared instrument connection, read
it back, log one record to the shared file.

Run it with ``python -m measurements.dut_supply_with_connection`` (``-v`` for info logs).
Importing this package does not import the plug-in (:mod:`.measurement`), so scripts and tests can
read :data:`PLUGIN` cheaply.
"""

from pathlib import Path

from measurements.plugin_info import PluginInfo

PLUGIN_DIRECTORY = Path(__file__).resolve().parent
SERVICE_CONFIG_PATH = PLUGIN_DIRECTORY / "DutSupplyWithConnection.serviceconfig"
MEASUI_PATH = PLUGIN_DIRECTORY / "DutSupplyWithConnection.measui"
PLUGIN = PluginInfo.load(SERVICE_CONFIG_PATH, module=__name__)
"""Display name, service class and module of this plug-in."""

__all__ = ["MEASUI_PATH", "PLUGIN", "PLUGIN_DIRECTORY", "SERVICE_CONFIG_PATH"]
