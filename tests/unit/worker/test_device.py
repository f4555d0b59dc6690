"""Device assignment: ``cuda:N`` pins CUDA_VISIBLE_DEVICES, engines get cuda:0; memory probes."""

from __future__ import annotations

import sys

import pytest

from visiovox.worker.device import (
    ENGINE_RUNTIMES,
    DeviceAssignment,
    DeviceProbe,
    assign_device,
    pin_device,
)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new worker process: other tests of this run may have imported engines."""
    for name in ENGINE_RUNTIMES:
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_cpu_needs_no_pinning() -> None:
    assignment = assign_device("cpu", {})
    assert assignment == DeviceAssignment(requested="cpu", local="cpu")
    environ: dict[str, str] = {}
    pin_device(assignment, environ)
    assert environ == {}


@pytest.mark.parametrize(
    ("device", "environ", "requested", "visible"),
    [
        ("cuda:1", {}, "cuda:1", "1"),
        ("cuda", {}, "cuda:0", "0"),
        # Handed cards 2 and 3 already: cuda:1 is the second of them, as CUDA numbers it.
        ("cuda:1", {"CUDA_VISIBLE_DEVICES": "2,3"}, "cuda:1", "3"),
        ("cuda:0", {"CUDA_VISIBLE_DEVICES": "GPU-8f1c"}, "cuda:0", "GPU-8f1c"),
    ],
)
def test_cuda_n_maps_to_the_one_visible_card_numbered_zero(
    device: str, environ: dict[str, str], requested: str, visible: str
) -> None:
    assignment = assign_device(device, environ)
    assert (assignment.requested, assignment.local, assignment.visible) == (
        requested,
        "cuda:0",
        visible,
    )
    pin_device(assignment, environ)
    assert environ["CUDA_VISIBLE_DEVICES"] == visible
    assert environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cuda:-1", "tpu:0"])
def test_unknown_devices_are_refused(device: str) -> None:
    with pytest.raises(ValueError, match="unknown device"):
        assign_device(device, {})


def test_a_card_beyond_the_visible_ones_is_refused() -> None:
    with pytest.raises(ValueError, match="not visible"):
        assign_device("cuda:2", {"CUDA_VISIBLE_DEVICES": "0,1"})


def test_pinning_after_an_engine_runtime_was_imported_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", object())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="onnxruntime already imported"):
        pin_device(assign_device("cuda:0", {}), {})


def test_cpu_probe_reports_ram() -> None:
    report = DeviceProbe(assign_device("cpu", {})).read()
    assert report.name and report.name != "cuda:0"
    assert report.total_bytes is not None and report.free_bytes is not None
    assert 0 < report.free_bytes <= report.total_bytes


def test_gpu_probe_without_nvml_still_reports_the_device() -> None:
    # This machine has no NVIDIA driver: NVML cannot start, the heartbeat goes on without it.
    probe = DeviceProbe(assign_device("cuda:3", {}))
    report = probe.read()
    probe.close()
    if report.total_bytes is None:
        assert (report.name, report.free_bytes) == ("cuda:3", None)
    else:  # a machine with a fourth GPU
        assert report.free_bytes is not None and report.free_bytes <= report.total_bytes
