"""The live session's audio plumbing: PCM chunks, the rolling tape, WAV messages."""

from __future__ import annotations

import io
import wave

import numpy as np

from visiovox.pipelines.assistant_live.audio import AudioTape, PcmDecoder, is_wav, wav_bytes


def test_pcm_chunks_split_mid_sample_decode_whole() -> None:
    samples = np.array([0, 16384, -16384, 32767], dtype="<i2").tobytes()
    decoder = PcmDecoder()
    first, second = decoder.decode(samples[:3]), decoder.decode(samples[3:])
    assert np.concatenate([first, second]).tolist() == [0.0, 0.5, -0.5, 32767 / 32768]


def test_the_tape_slices_by_absolute_position_and_forgets_old_chunks() -> None:
    tape = AudioTape()
    for value in range(5):
        tape.append(np.full(10, value, np.float32))
    assert tape.end == 50
    assert tape.slice(15, 25).tolist() == [1.0] * 5 + [2.0] * 5
    tape.forget_before(22)
    assert tape.slice(0, 25).tolist() == [2.0] * 3
    tape.forget_before(40)
    assert tape.slice(0, 50).tolist() == [4.0] * 10
    assert tape.end == 50


def test_wav_messages_describe_themselves() -> None:
    data = wav_bytes(np.linspace(-1, 1, 100, dtype=np.float32), sample_rate=22_050)
    assert is_wav(data) and not is_wav(data[44:]) and not is_wav(b"RIFF")
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (22_050, 1, 100)
