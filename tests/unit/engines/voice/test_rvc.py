"""The RVC engine end to end on stand-in graphs (``rvc_graphs``) with the real models' shapes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.unit.engines.voice.rvc_graphs import (
    encoder_graph,
    stand_in_settings,
    synthesizer_graph,
)
from visiovox.config import load_settings
from visiovox.engines.voice.rvc import (
    CONTENT_ENCODER,
    PITCH_MODEL,
    RvcConverter,
    RvcSettings,
    RvcVoice,
)
from visiovox.models.errors import ModelUnavailable
from visiovox.models.manifest import get_manifest


@pytest.fixture(scope="module")
def rvc(tmp_path_factory: pytest.TempPathFactory) -> RvcConverter:
    engine = RvcConverter(settings=stand_in_settings(tmp_path_factory.mktemp("rvc")), device="cpu")
    engine.load()
    return engine


def _speech(seconds: float) -> np.ndarray:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_feature_frames_follow_hubert_geometry(rvc: RvcConverter) -> None:
    # 1 s with RVC's 1 s reflect padding each side is 48,000 samples: HuBERT gives
    # (48000 - 400) // 320 + 1 = 149 frames, doubled to 298, under p_len 48000 // 160 = 300.
    padded = np.pad(_speech(1.0), 16_000, mode="reflect")
    assert rvc.content(padded).shape == (149, 768)
    assert len(rvc.f0(padded)) == 301  # RMVPE: 1 + len // 160


@pytest.mark.parametrize("rate", [32_000, 40_000, 48_000])
def test_output_has_the_voice_rate_and_the_input_duration(
    rvc: RvcConverter, tmp_path: Path, rate: int
) -> None:
    voice = RvcVoice(
        model=synthesizer_graph(tmp_path / f"{rate}.onnx", sample_rate=rate), sample_rate=rate
    )
    out = rvc.convert(_speech(1.37), voice=voice, knobs=RvcSettings())
    assert out.sample_rate == rate
    assert len(out.samples) == round(1.37 * rate)
    assert np.abs(out.samples).max() <= 0.99 + 1e-6
    assert np.abs(out.samples).max() > 0.0


def test_a_feature_bank_changes_the_output(rvc: RvcConverter, tmp_path: Path) -> None:
    model = synthesizer_graph(tmp_path / "voice.onnx")
    bank = tmp_path / "bank.npy"
    np.save(bank, np.random.default_rng(5).standard_normal((300, 768)).astype(np.float32))
    plain = RvcVoice(model=model, sample_rate=40_000)
    banked = RvcVoice(model=model, sample_rate=40_000, bank=bank)
    knobs = RvcSettings(index_rate=1.0, protect=0.5)
    audio = _speech(0.5)
    assert not np.allclose(
        rvc.convert(audio, voice=plain, knobs=knobs).samples,
        rvc.convert(audio, voice=banked, knobs=knobs).samples,
    )


def test_the_features_are_the_encoders_layer_12(rvc: RvcConverter, tmp_path: Path) -> None:
    # w-okada's export gives units9 (v1, 256-d), unit12 and unit12s; RVC v2 reads unit12
    # (voice_changer/RVC/embedder/OnnxContentvec.py: units[1] unless embOutputLayer is 9).
    session = ort.InferenceSession(str(encoder_graph(tmp_path / "encoder.onnx")))
    padded = np.pad(_speech(1.0), 16_000, mode="reflect")
    unit12, unit12s = session.run(["unit12", "unit12s"], {"audio": padded[None]})
    assert np.allclose(rvc.content(padded), unit12[0])
    assert not np.allclose(rvc.content(padded), unit12s[0])


def test_the_project_manifest_pins_both_shared_models() -> None:
    manifest = get_manifest(load_settings())
    entries = {entry.id: entry for entry in manifest.for_engine("voice.rvc")}
    assert set(entries) == {CONTENT_ENCODER, PITCH_MODEL}
    for entry in entries.values():
        assert all(item.sha256 is not None and item.size > 0 for item in entry.files)
        assert re.fullmatch(r"[0-9a-f]{40}", entry.sources[0].revision)  # a commit
    assert [item.path for item in entries[CONTENT_ENCODER].files] == ["contentvec-f.onnx"]


def test_without_its_shared_models_the_engine_is_model_unavailable(tmp_path: Path) -> None:
    # Offline with an empty cache: a job fails model_unavailable, it does not crash.
    settings = load_settings(models={"cache_dir": tmp_path, "offline": True})
    with pytest.raises(ModelUnavailable) as caught:
        RvcConverter(settings=settings, device="cpu").load()
    assert caught.value.code == "model_unavailable"
