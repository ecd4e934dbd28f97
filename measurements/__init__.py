"""Measurement plug-ins that share one log file through the JSON Logger Service.

- :mod:`measurements.nidcpower_with_logger`: sources and measures a DC voltage with NI-DCPower.
- :mod:`measurements.nidmm_with_logger`: measures with NI-DMM.

Each is hosted with NI's ``MeasurementService`` (``python -m measurements.<name>``), reserves its
instrument pins and the pin map's logger pin, and appends one record per measurement to the log
file the pin map names. :mod:`measurements.client` calls any plug-in through the measurement v2
API as InstrumentStudio does; :mod:`measurements.generate_measui` writes their ``.measui`` files.
See ``measurements/README.md``.
"""
