"""Samples survive an encode/decode round trip in every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.unit.media.samples import RATE, TONE_HZ, tone
from visiovox.media.audio import (
    AUDIO_CONTENT_TYPES,
    AUDIO_EXTENSIONS,
    AUDIO_FORMATS,
    decode_audio,
    encode_audio,
)
from visiovox.media.errors import MediaError


def _peak_hz(samples: npt.NDArray[np.float32], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("fmt", [f for f in AUDIO_FORMATS if f != "pcm"])
def test_round_trip(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tone.{AUDIO_EXTENSIONS[fmt]}"
    encode_audio(tone(2.0), sample_rate=RATE, fmt=fmt, path=path)
    decoded = decode_audio(path, sample_rate=16_000)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    # Lossy codecs add a little priming/padding; the length stays within 0.1 s.
    assert len(decoded) / 16_000 == pytest.approx(2.0, abs=0.1)
    assert _peak_hz(decoded, 16_000) == pytest.approx(TONE_HZ, abs=2.0)
    assert 0.4 < float(np.abs(decoded).max()) <= 1.0


def test_pcm_is_raw_s16le(tmp_path: Path) -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0], dtype=np.float32)
    path = tmp_path / "speech.pcm"
    assert encode_audio(samples, sample_rate=24_000, fmt="pcm", path=path) == 24_000
    raw = np.frombuffer(path.read_bytes(), dtype="<i2")
    assert raw.tolist() == [0, 16384, -16384, 32767, -32767]


def test_stereo_round_trip(tmp_path: Path) -> None:
    left, right = tone(1.0), tone(1.0, hz=880.0)
    path = tmp_path / "stereo.flac"
    encode_audio(np.stack([left, right]), sample_rate=RATE, fmt="flac", path=path)
    decoded = decode_audio(path, sample_rate=RATE, mono=False)
    assert decoded.shape == (2, len(left))
    assert np.allclose(decoded[0], left, atol=1e-4)
    assert np.allclose(decoded[1], right, atol=1e-4)


def test_opus_is_written_at_48k(tmp_path: Path) -> None:
    path = tmp_path / "speech.ogg"
    assert encode_audio(tone(0.5), sample_rate=RATE, fmt="ogg", path=path) == 48_000


def test_int16_input_is_scaled(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    encode_audio(
        np.array([16_384, -16_384] * 100, dtype=np.int16), sample_rate=8_000, fmt="wav", path=path
    )
    decoded = decode_audio(path, sample_rate=8_000)
    assert float(np.abs(decoded).max()) == pytest.approx(0.5, abs=1e-3)


def test_every_format_has_a_type_and_an_extension() -> None:
    assert set(AUDIO_CONTENT_TYPES) == set(AUDIO_EXTENSIONS) == set(AUDIO_FORMATS)


def test_decoding_garbage_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp3"
    path.write_bytes(b"not audio at all" * 100)
    with pytest.raises(MediaError) as caught:
        decode_audio(path)
    assert caught.value.code == "invalid_media"


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        encode_audio(tone(0.1), sample_rate=RATE, fmt="wma", path=tmp_path / "x")
    assert caught.value.code == "unsupported_format"
