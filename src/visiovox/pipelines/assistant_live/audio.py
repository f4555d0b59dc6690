"""Audio plumbing of a live session: PCM16 in, a rolling tape of samples, WAV out."""

from __future__ import annotations

import io
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visiovox.media.audio import decode_audio

Samples = npt.NDArray[np.float32]
RATE = 16_000


def is_wav(data: bytes) -> bool:
    """A whole RIFF/WAVE file rather than a raw PCM chunk."""
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def decode_wav(data: bytes) -> Samples:
    """A WAV file's audio as mono float32 at 16 kHz, whatever its rate and channels."""
    with tempfile.TemporaryDirectory(prefix="vv-live-") as folder:
        path = Path(folder) / "utterance.wav"
        path.write_bytes(data)
        return decode_audio(path, sample_rate=RATE)


class PcmDecoder:
    """16-bit little-endian mono PCM chunks to float32, carrying an odd byte to the next chunk."""

    def __init__(self) -> None:
        self._carry = b""

    def decode(self, data: bytes) -> Samples:
        data = self._carry + data
        whole = len(data) - len(data) % 2
        self._carry = data[whole:]
        return np.frombuffer(data[:whole], dtype="<i2").astype(np.float32) / 32768.0


def wav_bytes(samples: Samples, *, sample_rate: int) -> bytes:
    """Mono float32 samples as a 16-bit WAV file (a self-describing binary message)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


class AudioTape:
    """The stream's samples by absolute position, forgetting what no utterance needs."""

    def __init__(self) -> None:
        self._chunks: list[Samples] = []
        self._base = 0  # absolute position of the first kept sample
        self._size = 0

    @property
    def end(self) -> int:
        return self._base + self._size

    def append(self, samples: Samples) -> None:
        if len(samples):
            self._chunks.append(samples)
            self._size += len(samples)

    def slice(self, start: int, end: int) -> Samples:
        """Samples ``start`` to ``end`` (clamped to what is kept)."""
        if not self._chunks:
            return np.zeros(0, np.float32)
        kept = np.concatenate(self._chunks)
        self._chunks = [kept]
        return kept[max(0, start - self._base) : max(0, end - self._base)]

    def forget_before(self, position: int) -> None:
        """Drop every sample before ``position``."""
        while self._chunks and self._base < position:
            first = self._chunks[0]
            drop = min(len(first), position - self._base)
            if drop == len(first):
                self._chunks.pop(0)
            else:
                self._chunks[0] = first[drop:]
            self._base += drop
            self._size -= drop
