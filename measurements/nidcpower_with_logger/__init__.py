"""NI-DCPower with Logger: source and measure a DC voltage, log one record to the shared file.

Run it with ``python -m measurements.nidcpower_with_logger`` (``-v`` for info logs). Importing this
package does not import the plug-in (:mod:`.measurement`), so scripts and tests can read
:data:`PLUGIN` cheaply, e.g. ``PLUGIN.process().start()``.
"""

from pathlib import Path

from measurements.plugin_info import PluginInfo

PLUGIN_DIRECTORY = Path(__file__).resolve().parent
SERVICE_CONFIG_PATH = PLUGIN_DIRECTORY / "NIDCPowerWithLogger.serviceconfig"
MEASUI_PATH = PLUGIN_DIRECTORY / "NIDCPowerWithLogger.measui"
PLUGIN = PluginInfo.load(SERVICE_CONFIG_PATH, module=__name__)
"""Display name, service class and module of this plug-in."""

__all__ = ["MEASUI_PATH", "PLUGIN", "PLUGIN_DIRECTORY", "SERVICE_CONFIG_PATH"]
