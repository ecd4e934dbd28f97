"""The local Discovery Service, reached through NI's unchanged clients in this and other processes.

No NI software is needed: `local_ni_platform` stands in for it on this machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from ni.measurementlink.discovery.v1 import discovery_service_pb2 as pb2
from ni.measurementlink.discovery.v1 import discovery_service_pb2_grpc as pb2_grpc
from ni.measurementlink.discovery.v1.client import (
    ComputeNodeDescriptor,
    DiscoveryClient,
    ServiceInfo,
    ServiceLocation,
)
from ni.measurementlink.discovery.v1.client import _client as ni_discovery_client_module
from ni.measurementlink.pinmap.v1.client import PinMapClient
from rpc_errors import rpc_error

from local_ni_platform import activation
from local_ni_platform.activation import (
    LocalDiscoveryNotRunningError,
    activate,
    discovery_key_file,
    install_import_hook,
)
from local_ni_platform.platform import (
    LocalPlatform,
    LocalPlatformAlreadyRunningError,
    running_discovery_address,
    write_discovery_key_file,
)
from session_core.hosting import bind_insecure, create_server

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows NI's real Discovery Service is used"
)

INTERFACE = "test.v1.Widget"
SERVICE_CLASS = "test.WidgetService"
PIN_MAP_INTERFACE = "ni.measurementlink.pinmap.v1.PinMapService"
SUBPROCESS_TIMEOUT = 60.0


def service_info(
    *,
    service_class: str = SERVICE_CLASS,
    provided_interfaces: tuple[str, ...] = (INTERFACE,),
    display_name: str = "Widget",
    versions: tuple[str, ...] = ("1.0.0",),
) -> ServiceInfo:
    return ServiceInfo(
        service_class=service_class,
        description_url="https://example.invalid/widget",
        provided_interfaces=list(provided_interfaces),
        annotations={"ni/service.description": "A widget."},
        display_name=display_name,
        versions=list(versions),
    )


def location(port: int | str, *, host: str = "localhost", ssl_port: str = "") -> ServiceLocation:
    return ServiceLocation(location=host, insecure_port=str(port), ssl_authenticated_port=ssl_port)


@pytest.fixture
def platform(state_dir: Path) -> Iterator[LocalPlatform]:
    with LocalPlatform(state_dir=state_dir, parts=[]) as running:
        yield running


@pytest.fixture
def client(platform: LocalPlatform) -> DiscoveryClient:
    """NI's own client, created without arguments, as every NI library does."""
    assert activate() is True
    return DiscoveryClient()


@pytest.fixture
def stub(platform: LocalPlatform) -> Iterator[pb2_grpc.DiscoveryServiceStub]:
    """A raw stub, for the RPCs and requests NI's client cannot send."""
    with grpc.insecure_channel(platform.discovery_address) as channel:
        yield pb2_grpc.DiscoveryServiceStub(channel)


@pytest.fixture
def empty_grpc_server() -> Iterator[int]:
    """A real loopback gRPC server that implements no service; yields its port."""
    server = create_server(max_workers=2)
    port = bind_insecure(server, "127.0.0.1", 0)
    server.start()
    try:
        yield port
    finally:
        server.stop(None).wait()


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this environment (so the .pth file applies)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


# --- NI's DiscoveryClient against the local service -------------------------------------------


def test_register_resolve_enumerate_unregister(client: DiscoveryClient) -> None:
    registration_id = client.register_service(service_info(), location(50001))
    assert registration_id

    assert client.resolve_service(INTERFACE) == location(50001)
    assert client.resolve_service(INTERFACE, service_class=SERVICE_CLASS) == location(50001)

    resolved_location, info = client.resolve_service_with_information(INTERFACE, SERVICE_CLASS)
    assert resolved_location == location(50001)
    assert info.service_class == SERVICE_CLASS
    assert info.display_name == "Widget"
    assert info.provided_interfaces == [INTERFACE]
    assert info.versions == ["1.0.0"]
    assert info.description_url == "https://example.invalid/widget"
    assert info.annotations["ni/service.description"] == "A widget."
    assert info.annotations["ni/service.programminglanguage"] == "Python"

    assert [service.service_class for service in client.enumerate_services(INTERFACE)] == [
        SERVICE_CLASS
    ]
    assert client.enumerate_services("test.v1.Other") == []

    assert client.unregister_service(registration_id) is True
    with pytest.raises(grpc.RpcError) as excinfo:
        client.resolve_service(INTERFACE, service_class=SERVICE_CLASS)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.NOT_FOUND
    assert INTERFACE in details
    assert SERVICE_CLASS in details
    assert client.enumerate_services(INTERFACE) == []


def test_unregister_unknown_id_is_harmless(client: DiscoveryClient) -> None:
    assert client.unregister_service("no-such-registration") is True


def test_resolve_without_interface_is_invalid(client: DiscoveryClient) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        client.resolve_service("")
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "provided_interface" in details


def test_two_classes_for_one_interface_are_ambiguous(client: DiscoveryClient) -> None:
    client.register_service(service_info(service_class="test.A"), location(50001))
    client.register_service(service_info(service_class="test.B"), location(50002))

    with pytest.raises(grpc.RpcError) as excinfo:
        client.resolve_service(INTERFACE)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "test.A" in details
    assert "test.B" in details

    assert client.resolve_service(INTERFACE, service_class="test.B") == location(50002)
    assert sorted(service.service_class for service in client.enumerate_services(INTERFACE)) == [
        "test.A",
        "test.B",
    ]


def test_reregistering_a_class_replaces_the_old_entry(
    client: DiscoveryClient, stub: pb2_grpc.DiscoveryServiceStub
) -> None:
    first_id = client.register_service(service_info(versions=("",)), location(50001))
    second_id = client.register_service(service_info(versions=("",)), location(50002))
    assert second_id != first_id

    assert client.resolve_service(INTERFACE) == location(50002)
    active = stub.EnumerateActiveServices(pb2.EnumerateActiveServicesRequest()).active_services
    assert [entry.service_location.insecure_port for entry in active] == ["50002"]

    # The late unregister of the replaced instance must not remove its successor.
    assert client.unregister_service(first_id) is True
    assert client.resolve_service(INTERFACE) == location(50002)


@pytest.mark.parametrize("versions", [("",), ()], ids=["sdk-empty-string", "empty-list"])
def test_registration_without_version_is_accepted(
    client: DiscoveryClient, versions: tuple[str, ...]
) -> None:
    client.register_service(service_info(versions=versions), location(50001))

    resolved_location, info = client.resolve_service_with_information(INTERFACE)
    assert resolved_location == location(50001)
    assert info.versions == []


def test_latest_version_wins_numerically(client: DiscoveryClient) -> None:
    client.register_service(service_info(versions=("1.10.0",)), location(50010))
    client.register_service(service_info(versions=("1.9.0",)), location(50009))

    assert client.resolve_service(INTERFACE) == location(50010)
    assert client.resolve_service(INTERFACE, version="1.9.0") == location(50009)
    _, info = client.resolve_service_with_information(INTERFACE, version="1.9.0")
    assert info.versions == ["1.9.0"]
    with pytest.raises(grpc.RpcError) as excinfo:
        client.resolve_service(INTERFACE, version="2.0.0")
    assert rpc_error(excinfo)[0] == grpc.StatusCode.NOT_FOUND
    (service,) = client.enumerate_services(INTERFACE)
    assert service.versions == ["1.9.0", "1.10.0"]


@pytest.mark.parametrize(
    ("info", "where", "expected_field"),
    [
        (service_info(display_name=""), location(50001), "display_name"),
        (service_info(provided_interfaces=()), location(50001), "provided_interfaces"),
        (service_info(service_class=""), location(50001), "service_class"),
        (service_info(), location(50001, host=""), "location.location"),
        (service_info(), location(""), "ssl_authenticated_port"),
        (service_info(), location("http"), "insecure_port"),
        (service_info(), location("70000"), "insecure_port"),
        (service_info(), location("50001", ssl_port="0"), "ssl_authenticated_port"),
        (service_info(versions=("1.0.0", "2.0.0")), location(50001), "versions"),
    ],
    ids=[
        "no-display-name",
        "no-interfaces",
        "no-service-class",
        "no-location",
        "no-port",
        "non-numeric-port",
        "port-out-of-range",
        "ssl-port-zero",
        "two-versions",
    ],
)
def test_invalid_registration_is_rejected(
    client: DiscoveryClient, info: ServiceInfo, where: ServiceLocation, expected_field: str
) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        client.register_service(info, where)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert expected_field in details
    assert client.enumerate_services("") == []


def test_register_request_without_messages_is_invalid(
    stub: pb2_grpc.DiscoveryServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        stub.RegisterService(pb2.RegisterServiceRequest())
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "service_description" in details


def test_one_local_compute_node_and_deployment_targets(
    client: DiscoveryClient, platform: LocalPlatform
) -> None:
    local_node = ComputeNodeDescriptor(url=f"http://{platform.discovery_address}", is_local=True)
    assert client.enumerate_compute_nodes() == [local_node]
    client.register_service(service_info(), location(50001))

    assert client.resolve_service(INTERFACE, deployment_target=local_node.url) == location(50001)
    with pytest.raises(grpc.RpcError) as excinfo:
        client.resolve_service(INTERFACE, deployment_target="http://elsewhere:31763")
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.NOT_FOUND
    assert "http://elsewhere:31763" in details


# --- Other NI clients that resolve through discovery ------------------------------------------


def test_pin_map_client_resolves_through_local_discovery(
    client: DiscoveryClient, empty_grpc_server: int, tmp_path: Path
) -> None:
    pin_map = tmp_path / "empty.pinmap"
    pin_map.write_text("<PinMap/>", encoding="utf-8")

    # Nothing registered yet: PinMapClient's own discovery lookup fails.
    with pytest.raises(grpc.RpcError) as excinfo:
        PinMapClient().update_pin_map(pin_map)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.NOT_FOUND
    assert PIN_MAP_INTERFACE in details

    client.register_service(
        service_info(
            service_class=PIN_MAP_INTERFACE,
            provided_interfaces=(PIN_MAP_INTERFACE,),
            display_name="Fake Pin Map Service",
            versions=("",),
        ),
        location(empty_grpc_server, host="127.0.0.1"),
    )
    # The resolved server implements nothing: UNIMPLEMENTED proves the call reached it.
    with pytest.raises(grpc.RpcError) as excinfo:
        PinMapClient().update_pin_map(pin_map)
    assert rpc_error(excinfo)[0] == grpc.StatusCode.UNIMPLEMENTED


# --- Activation -------------------------------------------------------------------------------


def test_activate_patches_ni_client_idempotently(state_dir: Path) -> None:
    assert activate() is True
    assert activate() is True
    patched = vars(ni_discovery_client_module)["_get_discovery_service_address"]
    assert patched is activation.local_discovery_service_address


def test_activate_is_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(activation.DISABLE_ENV_VAR, "1")
    assert activate() is False


def test_install_import_hook_is_idempotent() -> None:
    install_import_hook()
    install_import_hook()
    finders = [finder for finder in sys.meta_path if type(finder).__name__ == "_ActivationFinder"]
    assert len(finders) == 1


def test_missing_key_file_names_it_and_how_to_start(state_dir: Path) -> None:
    assert activate() is True
    with pytest.raises(LocalDiscoveryNotRunningError) as excinfo:
        DiscoveryClient().resolve_service(INTERFACE)
    message = str(excinfo.value)
    assert str(state_dir / "DiscoveryService.json") in message
    assert "python -m local_ni_platform" in message
    assert "local-ni-platform" in message
    assert isinstance(excinfo.value, FileNotFoundError)


def test_state_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(activation.STATE_DIR_ENV_VAR, str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    assert activation.state_dir() == tmp_path / "explicit"

    monkeypatch.delenv(activation.STATE_DIR_ENV_VAR)
    assert activation.state_dir() == tmp_path / "runtime" / "ni-local-platform"

    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "temp"))
    assert activation.state_dir() == tmp_path / "temp" / f"ni-local-platform-{os.getuid()}"


def test_key_file_name_follows_cluster_id(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert discovery_key_file() == state_dir / "DiscoveryService.json"
    monkeypatch.setenv("ClusterId", "fallback")
    assert discovery_key_file() == state_dir / "DiscoveryService_fallback.json"
    monkeypatch.setenv("NIDiscovery_ClusterId", "preferred")
    assert discovery_key_file() == state_dir / "DiscoveryService_preferred.json"

    with LocalPlatform(state_dir=state_dir, parts=[]) as running:
        assert running.discovery_key_file == state_dir / "DiscoveryService_preferred.json"
        assert activate() is True
        client = DiscoveryClient()
        client.register_service(service_info(), location(50001))
        assert client.resolve_service(INTERFACE) == location(50001)


# --- Other processes --------------------------------------------------------------------------


def test_other_process_resolves_without_calling_activate(client: DiscoveryClient) -> None:
    client.register_service(service_info(), location(50001))
    code = (
        "from ni.measurementlink.discovery.v1.client import DiscoveryClient\n"
        f"print(DiscoveryClient().resolve_service({INTERFACE!r}, {SERVICE_CLASS!r}).insecure_port)"
    )
    env = dict(os.environ)

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "50001"


def test_other_process_with_hook_disabled_gets_ni_behaviour(platform: LocalPlatform) -> None:
    code = (
        "from ni.measurementlink.discovery.v1.client import DiscoveryClient\n"
        "try:\n"
        f"    DiscoveryClient().resolve_service({INTERFACE!r})\n"
        "except NotImplementedError as error:\n"
        "    print('NotImplementedError:', error)\n"
    )
    env = {**os.environ, activation.DISABLE_ENV_VAR: "1"}

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("NotImplementedError: Platform not supported")


def test_startup_hook_imports_neither_grpc_nor_ni(state_dir: Path) -> None:
    code = (
        "import sys\n"
        "print(sorted(name for name in sys.modules\n"
        "             if name == 'grpc' or name.startswith(('ni.', 'google.'))))\n"
        "print(any(getattr(finder, '_local_ni_platform_activation_finder', False)\n"
        "          for finder in sys.meta_path))\n"
    )

    result = run_python(code, dict(os.environ))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


# --- Platform lifecycle and key file ----------------------------------------------------------


def test_key_file_is_published_and_removed_on_stop(state_dir: Path) -> None:
    key_file = state_dir / "DiscoveryService.json"
    running = LocalPlatform(state_dir=state_dir, parts=[])
    running.start()
    try:
        content = json.loads(key_file.read_text(encoding="utf-8"))
        assert content == {"InsecurePort": running.discovery_port, "ProcessId": os.getpid()}
        assert running.discovery_address == f"127.0.0.1:{running.discovery_port}"
        assert running_discovery_address(state_dir) == running.discovery_address
    finally:
        running.stop()
    assert not key_file.exists()
    assert running_discovery_address(state_dir) is None
    running.stop()  # idempotent


def test_stop_keeps_a_key_file_that_another_platform_wrote(state_dir: Path) -> None:
    running = LocalPlatform(state_dir=state_dir, parts=[])
    running.start()
    key_file = running.discovery_key_file
    write_discovery_key_file(key_file, port=1, pid=os.getpid() + 1)
    running.stop()
    assert json.loads(key_file.read_text(encoding="utf-8"))["InsecurePort"] == 1


def test_stale_key_file_of_dead_process_is_replaced(state_dir: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=SUBPROCESS_TIMEOUT)
    state_dir.mkdir(parents=True)
    key_file = state_dir / "DiscoveryService.json"
    write_discovery_key_file(key_file, port=1, pid=dead.pid)

    with LocalPlatform(state_dir=state_dir, parts=[]) as running:
        content = json.loads(key_file.read_text(encoding="utf-8"))
        assert content == {"InsecurePort": running.discovery_port, "ProcessId": os.getpid()}


def test_second_live_platform_in_same_state_dir_is_refused(platform: LocalPlatform) -> None:
    before = platform.discovery_key_file.read_text(encoding="utf-8")

    with pytest.raises(LocalPlatformAlreadyRunningError) as excinfo:
        LocalPlatform(state_dir=platform.state_dir, parts=[]).start()

    assert str(platform.discovery_key_file) in str(excinfo.value)
    assert platform.discovery_address in str(excinfo.value)
    assert platform.discovery_key_file.read_text(encoding="utf-8") == before


# --- Command line -----------------------------------------------------------------------------

READY_LINE = re.compile(
    r"Local NI platform ready: discovery at (127\.0\.0\.1:(\d+)) \(key file: ([^;]+)\); "
    r"also serving: Local Pin Map Service, Local Session Management Service, "
    r"NI gRPC Device Server \(local simulation\)"
)


def test_cli_serves_until_sigterm_and_cleans_up(state_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local_ni_platform", "--state-dir", str(state_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with ThreadPoolExecutor(max_workers=1) as reader:
            ready = reader.submit(process.stdout.readline).result(timeout=SUBPROCESS_TIMEOUT)
        match = READY_LINE.fullmatch(ready.strip())
        assert match, ready
        address, port, key_file = match.group(1), int(match.group(2)), Path(match.group(3))
        assert key_file == state_dir / "DiscoveryService.json"
        assert json.loads(key_file.read_text(encoding="utf-8")) == {
            "InsecurePort": port,
            "ProcessId": process.pid,
        }
        assert running_discovery_address(state_dir) == address

        assert activate() is True
        client = DiscoveryClient()
        client.register_service(service_info(), location(50001))
        assert client.resolve_service(INTERFACE) == location(50001)

        second = subprocess.run(
            [sys.executable, "-m", "local_ni_platform", "--state-dir", str(state_dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        assert second.returncode == 1
        assert second.stdout == ""
        assert "already running" in second.stderr

        process.send_signal(signal.SIGTERM)
        remaining_stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert remaining_stdout == ""
    assert not key_file.exists()
