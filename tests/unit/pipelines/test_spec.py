"""A pipeline's spec states what the scheduler places its jobs by."""

from __future__ import annotations

from visiovox.jobs.placement import Needs
from visiovox.jobs.queues import DeviceClass
from visiovox.pipelines.noop.spec import GPU_SPEC as NOOP_GPU
from visiovox.pipelines.noop.spec import SPEC as NOOP
from visiovox.pipelines.tts.spec import SPEC as TTS


def test_needs_carry_the_name_devices_and_engines() -> None:
    assert TTS.needs == Needs(
        pipeline="tts",
        devices=frozenset({DeviceClass.CPU, DeviceClass.GPU}),
        engines=frozenset({"tts.piper"}),
    )
    assert NOOP.needs.engines == frozenset()
    assert NOOP_GPU.needs.devices == frozenset({DeviceClass.GPU})


def test_needs_are_made_once_per_spec() -> None:
    assert TTS.needs is TTS.needs
