"""A worker's device: pinning ``cuda:N`` before any engine loads, and what the device reports.

``visiovox worker --device cuda:1`` sets ``CUDA_VISIBLE_DEVICES`` to that one
card before any engine module is imported, so CUDA, ONNX Runtime and
CTranslate2 see exactly one GPU, which they number 0. The mapping is explicit
in ``DeviceAssignment``: the worker is *named* after the requested device
(``<host>/cuda:1``) while its engines are *given* the local one (``cuda:0``).
When ``CUDA_VISIBLE_DEVICES`` is already set (a container that was handed
some cards), ``cuda:N`` means the N-th of those, as it would for CUDA itself.
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (unless set) makes CUDA's numbering match
NVML's, which reports the card's name and memory in the heartbeat.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Modules that initialise CUDA (or load a runtime that does) when imported.
ENGINE_RUNTIMES = ("onnxruntime", "ctranslate2", "faster_whisper", "torch", "tensorrt")
_CUDA = re.compile(r"^cuda(?::(\d+))?$")


@dataclass(frozen=True)
class DeviceAssignment:
    """The device a worker was asked for and the one its engines use after pinning."""

    requested: str
    local: str
    # What CUDA_VISIBLE_DEVICES is set to (an index or a GPU UUID); None on the CPU.
    visible: str | None = None

    @property
    def is_gpu(self) -> bool:
        return self.visible is not None


def assign_device(device: str, environ: Mapping[str, str]) -> DeviceAssignment:
    """Parse ``cpu`` or ``cuda:N`` (``cuda`` = ``cuda:0``); raises ``ValueError``."""
    if device == "cpu":
        return DeviceAssignment(requested="cpu", local="cpu")
    match = _CUDA.match(device)
    if match is None:
        raise ValueError(f"unknown device {device!r}: use cpu or cuda:N")
    index = int(match.group(1) or 0)
    already = [d.strip() for d in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    if already:
        if index >= len(already):
            raise ValueError(
                f"{device} is not visible here: CUDA_VISIBLE_DEVICES={','.join(already)}"
            )
        visible = already[index]
    else:
        visible = str(index)
    return DeviceAssignment(requested=f"cuda:{index}", local="cuda:0", visible=visible)


def pin_device(assignment: DeviceAssignment, environ: MutableMapping[str, str]) -> None:
    """Make only the assigned GPU visible to this process; must run before engines load."""
    if not assignment.is_gpu or assignment.visible is None:
        return
    loaded = [name for name in ENGINE_RUNTIMES if name in sys.modules]
    if loaded:
        raise RuntimeError(
            f"cannot pin {assignment.requested}: {', '.join(loaded)} already imported"
        )
    environ["CUDA_VISIBLE_DEVICES"] = assignment.visible
    environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")


@dataclass(frozen=True)
class DeviceReport:
    """What the heartbeat says about the device."""

    name: str
    total_bytes: int | None = None
    free_bytes: int | None = None


class DeviceProbe:
    """Reads the device's name and memory: NVML for a GPU, psutil for the CPU's RAM."""

    def __init__(self, assignment: DeviceAssignment) -> None:
        self._assignment = assignment
        self._nvml: Any = None
        self._handle: Any = None
        self._name = assignment.requested
        if assignment.is_gpu:
            self._open_nvml()
        else:
            self._name = cpu_name()

    def _open_nvml(self) -> None:
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            visible = self._assignment.visible or "0"
            self._handle = (
                pynvml.nvmlDeviceGetHandleByUUID(visible)
                if visible.startswith(("GPU-", "MIG-"))
                else pynvml.nvmlDeviceGetHandleByIndex(int(visible))
            )
            name = pynvml.nvmlDeviceGetName(self._handle)
            self._name = name.decode() if isinstance(name, bytes) else str(name)
            self._nvml = pynvml
        except Exception as exc:  # NVML missing, no driver, no such card: report without it
            log.warning("NVML unavailable for %s (%s): no memory figures", self._name, exc)
            self._nvml = self._handle = None

    def read(self) -> DeviceReport:
        if self._nvml is not None:
            try:
                memory = self._nvml.nvmlDeviceGetMemoryInfo(self._handle)
                return DeviceReport(self._name, int(memory.total), int(memory.free))
            except Exception as exc:  # a lost GPU must not stop the heartbeat
                log.warning("NVML read failed: %s", exc)
                return DeviceReport(self._name)
        if self._assignment.is_gpu:
            return DeviceReport(self._name)
        import psutil

        memory = psutil.virtual_memory()
        return DeviceReport(self._name, int(memory.total), int(memory.available))

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:  # shutting down anyway
                log.debug("nvmlShutdown: %s", exc)
            self._nvml = None


def cpu_name() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), or ``cpu``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"
