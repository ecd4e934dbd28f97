"""The activation point: make NI's unchanged ``DiscoveryClient`` reach the local Discovery Service.

NI's Python ``DiscoveryClient`` finds its service through
``ni.measurementlink.discovery.v1.client._client._get_discovery_service_address``, which only
works on Windows (it reads a key file under a registry-defined folder and raises
``NotImplementedError`` elsewhere). On every other platform, :func:`activate` replaces that name
in ``_client`` (the module that calls it; patching ``_support`` would have no effect, because
``_client`` imported the function by name) with :func:`local_discovery_service_address`, which
reads the local platform's key file at call time. Every ``DiscoveryClient`` in the process is
covered: the one in ``MeasurementService``, the unshared ones that ``PinMapClient`` and
``SessionManagementClient`` create, the ones in driver session constructors and third-party
defaults. On Windows nothing is patched and NI's real services are used.

There are two ways to activate:

- Automatic (every process of the environment): installing this package ships
  ``local_ni_platform_activation.pth``, which runs :func:`install_import_hook` at interpreter
  start-up. The hook waits until NI's ``_client`` module is imported and patches it right after it
  has been executed, so processes that never use NI pay nothing but one cheap ``sys.meta_path``
  entry.
- Explicit: call ``local_ni_platform.activation.activate()`` at the top of an entry point, e.g.
  when the package is on ``sys.path`` without being installed.

Set ``NI_LOCAL_PLATFORM_DISABLE=1`` to turn both off (NI's client then behaves as shipped).

The local platform (``python -m local_ni_platform`` or ``local-ni-platform``) writes its key file
``DiscoveryService.json`` (``DiscoveryService_<ClusterId>.json`` when ``NIDiscovery_ClusterId`` or
``ClusterId`` is set, as NI does on Windows) into :func:`state_dir`, holding
``{"InsecurePort": <port>, "ProcessId": <pid>}``.

This module is imported at every interpreter start-up, so at module level it imports nothing
beyond ``os`` and ``sys``; everything else is imported inside the functions that need it.
"""

from __future__ import annotations

import os
import sys

# Not ``typing.TYPE_CHECKING``: importing ``typing`` (and the ``re`` it pulls in) would cost every
# interpreter start-up several milliseconds. Type checkers treat this name as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from pathlib import Path
    from types import ModuleType
    from typing import Any

STATE_DIR_ENV_VAR = "NI_LOCAL_PLATFORM_DIR"
DISABLE_ENV_VAR = "NI_LOCAL_PLATFORM_DISABLE"
CLUSTER_ID_ENV_VARS = ("NIDiscovery_ClusterId", "ClusterId")
KEY_FILE_PORT_FIELD = "InsecurePort"
KEY_FILE_PID_FIELD = "ProcessId"
DISCOVERY_HOST = "127.0.0.1"
"""Host that the local Discovery Service binds and that patched clients connect to.

It is the IPv4 loopback address rather than ``localhost`` because the service binds only
127.0.0.1: ``localhost`` often resolves to ``::1`` first, where an unrelated server (NI's
measurement services bind ``[::1]:0``) may hold the same port number.
"""

START_HINT = "python -m local_ni_platform (or: local-ni-platform)"
CLIENT_MODULE = "ni.measurementlink.discovery.v1.client._client"
PATCHED_NAME = "_get_discovery_service_address"
_FINDER_MARKER = "_local_ni_platform_activation_finder"


class LocalDiscoveryNotRunningError(FileNotFoundError):
    """The local Discovery Service's key file is missing: the local platform is not running.

    A ``FileNotFoundError``, so NI's client logs it as "discovery service not running".
    """


def is_disabled() -> bool:
    """Whether ``NI_LOCAL_PLATFORM_DISABLE`` asks to leave NI's client untouched."""
    value = os.environ.get(DISABLE_ENV_VAR, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def state_dir() -> Path:
    """Folder of the local platform's key files (resolved from the environment at call time).

    ``NI_LOCAL_PLATFORM_DIR`` if set; else ``$XDG_RUNTIME_DIR/ni-local-platform``; else a
    per-user folder in the temporary directory.
    """
    from pathlib import Path

    configured = os.environ.get(STATE_DIR_ENV_VAR)
    if configured:
        return Path(configured)
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return Path(runtime_dir) / "ni-local-platform"
    import tempfile

    if sys.platform == "win32":
        import getpass

        user = getpass.getuser()
    else:
        user = str(os.getuid())
    return Path(tempfile.gettempdir()) / f"ni-local-platform-{user}"


def cluster_id() -> str | None:
    """The discovery cluster id, read like NI's client does (case-sensitive names)."""
    for name in CLUSTER_ID_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def discovery_key_file(*, directory: Path | None = None) -> Path:
    """Path of the Discovery Service key file in ``directory`` (default: :func:`state_dir`)."""
    folder = state_dir() if directory is None else directory
    identifier = cluster_id()
    name = "DiscoveryService.json" if identifier is None else f"DiscoveryService_{identifier}.json"
    return folder / name


def read_discovery_key_file(path: Path) -> tuple[int, int | None]:
    """Return ``(port, pid)`` from a key file; pid is None when the file does not record it.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a valid key file.
    """
    import json

    text = path.read_text(encoding="utf-8-sig")
    try:
        content = json.loads(text)
        port = int(content[KEY_FILE_PORT_FIELD])
        raw_pid = content.get(KEY_FILE_PID_FIELD)
        pid = None if raw_pid is None else int(raw_pid)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"{path} is not a valid discovery key file: {error!r}") from error
    if not 0 < port < 65536:
        raise ValueError(f"{path} is not a valid discovery key file: port {port} out of range")
    return port, pid


def local_discovery_service_address() -> str:
    """Address of the local Discovery Service, read from its key file at call time.

    Replaces NI's ``_get_discovery_service_address`` once :func:`activate` has run.
    """
    key_file = discovery_key_file()
    try:
        port, _pid = read_discovery_key_file(key_file)
    except FileNotFoundError:
        raise LocalDiscoveryNotRunningError(
            f"The local NI Discovery Service is not running: key file {key_file} not found. "
            f"Start the local platform with `{START_HINT}`, and run it with the same "
            f"{STATE_DIR_ENV_VAR} (and cluster id) as this process."
        ) from None
    return f"{DISCOVERY_HOST}:{port}"


def activate() -> bool:
    """Point NI's ``DiscoveryClient`` at the local Discovery Service; idempotent.

    Returns:
        True when NI's client is patched (now or before); False on Windows, where NI's real
        services are used, or when ``NI_LOCAL_PLATFORM_DISABLE`` is set.

    Raises:
        ImportError: NI's discovery client package is not installed.
    """
    if sys.platform == "win32" or is_disabled():
        return False
    import importlib

    client_module = importlib.import_module(CLIENT_MODULE)
    if vars(client_module).get(PATCHED_NAME) is not local_discovery_service_address:
        vars(client_module)[PATCHED_NAME] = local_discovery_service_address
    return True


def _activate_after_import() -> None:
    """Run :func:`activate` from the import hook without ever breaking NI's import."""
    try:
        activate()
    except Exception:
        import logging

        logging.getLogger(__name__).warning(
            "Could not point NI's discovery client at the local platform.", exc_info=True
        )


class _ActivatingLoader:
    """Wraps the real loader of NI's ``_client`` module and activates right after executing it.

    Every other attribute (``get_source``, ``get_resource_reader``, ...) is the real loader's.
    """

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def exec_module(self, module: ModuleType) -> None:
        """Execute the module with the real loader, then patch it."""
        self._loader.exec_module(module)
        _activate_after_import()


class _ActivationFinder:
    """``sys.meta_path`` finder that only reacts to NI's ``_client`` module (a string compare)."""

    _local_ni_platform_activation_finder = True

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Find NI's ``_client`` with the other finders and wrap its loader; ignore the rest."""
        if fullname != CLIENT_MODULE:
            return None
        for finder in list(sys.meta_path):
            if getattr(finder, _FINDER_MARKER, False):
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec: ModuleSpec | None = find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _ActivatingLoader(spec.loader)  # type: ignore[assignment]
            return spec
        return None

    def invalidate_caches(self) -> None:
        """Nothing cached."""


def install_import_hook() -> None:
    """Activate NI's ``_client`` as soon as it is imported; cheap, idempotent, never raises.

    Does nothing on Windows or when ``NI_LOCAL_PLATFORM_DISABLE`` is set.
    """
    if sys.platform == "win32" or is_disabled():
        return
    if not any(getattr(finder, _FINDER_MARKER, False) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ActivationFinder())
    if CLIENT_MODULE in sys.modules:
        _activate_after_import()
