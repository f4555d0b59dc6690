"""The numpy port of HeadAudio decides as HeadAudio's own JavaScript does, on the same speech.

``tests/fixtures/headaudio/shim.mjs`` runs the npm package's AudioWorklet bundle
(``headworklet.min.mjs``, 0.1.0, MIT) under node with what a browser's
AudioWorkletGlobalScope provides, in 128-sample render quanta.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.tools import missing_tool
from visiovox.assets import headaudio_model
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.visemes import headaudio
from visiovox.engines.visemes.classifier import HeadAudioVisemes
from visiovox.engines.visemes.headaudio import (
    MODEL_VISEMES,
    Prototypes,
    classify,
    features,
    to_model_rate,
)
from visiovox.media.resample import resample

SHIM = Path(__file__).parents[3] / "fixtures" / "headaudio" / "shim.mjs"
TEXT = "Bob paid a poor man for two moon boots. She sells sea shells. Who knew?"


@pytest.fixture(scope="module")
def speech(bundled_pool: EnginePool) -> tuple[npt.NDArray[np.float32], int]:
    tts = bundled_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    silence = np.zeros(tts.sample_rate // 4, dtype=np.float32)
    pieces = [silence, *(chunk.samples for chunk in tts.synthesize(TEXT)), silence]
    return np.concatenate(pieces), tts.sample_rate


def _javascript(samples: npt.NDArray[np.float32], rate: int, tmp_path: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        missing_tool("node (Node.js 20) is needed to run HeadAudio's JavaScript")
    raw = tmp_path / "speech.f32"
    samples.astype("<f4").tofile(raw)
    result = subprocess.run(
        [str(node), str(SHIM), str(headaudio_model()), str(raw), str(rate)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("rate", [22_050, 16_000, 48_000])
def test_port_announces_the_same_visemes_at_the_same_times(
    speech: tuple[npt.NDArray[np.float32], int], rate: int, tmp_path: Path
) -> None:
    samples, native = speech
    if rate != native:
        samples = resample(samples, rate=native, to=rate)
    js = _javascript(samples, rate, tmp_path)
    ported = classify(samples, sample_rate=rate, model=Prototypes.read(headaudio_model()))
    assert len(js) >= 100  # about 16 ms a decision through 4 s of speech
    js_events = [(round(e["t"], 6), MODEL_VISEMES[e["viseme"]]) for e in js]
    port_events = [(round(e.t_s, 6), e.viseme) for e in ported]
    same = sum(a == b for a, b in zip(js_events, port_events, strict=False))
    # float32 in the JS, float64 here: only a near-tie could go the other way.
    assert same >= 0.98 * max(len(js_events), len(port_events))
    assert len({viseme for _, viseme in port_events}) >= 6


def test_port_features_match_the_javascript(
    speech: tuple[npt.NDArray[np.float32], int], tmp_path: Path
) -> None:
    samples, rate = speech
    js = _javascript(samples, rate, tmp_path)
    _, vectors = features(to_model_rate(samples, rate))
    for event in js:
        window = round((event["t"] + 0.016) * 16_000 - 512) // 256
        np.testing.assert_allclose(vectors[window], event["vector"], atol=2e-4)


def test_engine_timeline_spans_the_audio(
    bundled_pool: EnginePool, speech: tuple[npt.NDArray[np.float32], int]
) -> None:
    samples, rate = speech
    timeline = bundled_pool.get("visemes.headaudio", HeadAudioVisemes).timeline(
        samples, sample_rate=rate
    )
    assert timeline.source == "audio"
    assert timeline.duration_s == pytest.approx(len(samples) / rate)
    assert timeline.segments[0].viseme == "sil" and timeline.segments[-1].viseme == "sil"
    assert timeline.segments[-1].end_s == pytest.approx(timeline.duration_s)
    for before, after in itertools.pairwise(timeline.segments):
        assert after.start_s == before.end_s  # back to back
        assert after.viseme != before.viseme  # equal neighbours are one segment
        assert after.end_s - after.start_s > 1e-6  # no sliver from rounding
    spoken = {segment.viseme for segment in timeline.segments} - {"sil"}
    assert {"PP", "U"} & spoken and len(spoken) >= 6


@pytest.mark.parametrize("rate", [16_000, 22_050])
def test_batches_change_nothing(
    speech: tuple[npt.NDArray[np.float32], int], rate: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples, native = speech
    samples = resample(samples, rate=native, to=rate) if rate != native else samples
    model = Prototypes.read(headaudio_model())
    whole = (to_model_rate(samples, rate), classify(samples, sample_rate=rate, model=model))
    monkeypatch.setattr(headaudio, "BATCH_SAMPLES", 1000)  # long audio is made in batches
    monkeypatch.setattr(headaudio, "BATCH_WINDOWS", 7)
    np.testing.assert_array_equal(to_model_rate(samples, rate), whole[0])
    assert classify(samples, sample_rate=rate, model=model) == whole[1]
