"""Warm TTS job end to end vs the same synthesis in-process, plus TTS and STT real-time factors.

End to end: POST /v1/jobs/tts → ``succeeded`` event on a WebSocket → GET the
WAV, on one idle worker that already has Piper loaded. In-process: the same
sentence through the same Piper engine and WAV encoder, no gateway or queue.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.stack import Stack
from websockets.sync.client import connect

from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.stt.base import STTEngine
from visiovox.engines.tts.base import TTSEngine
from visiovox.media.audio import encode_audio

SENTENCE = "The quick brown fox jumps over the lazy dog, then rests beside the old stone bridge."
RUNS = 15


def in_process(pool: EnginePool, folder: Path) -> tuple[float, float, float]:
    """Seconds to synthesise and encode SENTENCE, and the audio's duration."""
    import numpy as np

    tts = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    started = time.perf_counter()
    chunks = list(tts.synthesize(SENTENCE))
    synthesised = time.perf_counter()
    samples = np.concatenate([chunk.samples for chunk in chunks])
    encode_audio(samples, sample_rate=tts.sample_rate, fmt="wav", path=folder / "speech.wav")
    finished = time.perf_counter()
    return finished - started, synthesised - started, len(samples) / tts.sample_rate


def job_end_to_end(stack: Stack) -> float:
    ws_base = stack.base_url.replace("http", "ws", 1)
    with httpx.Client(base_url=stack.base_url) as client:
        started = time.perf_counter()
        job_id = client.post("/v1/jobs/tts", data={"text": SENTENCE}).json()["id"]
        with connect(f"{ws_base}/v1/jobs/{job_id}/ws") as socket:
            for _message in socket:
                pass
        response = client.get(f"/v1/jobs/{job_id}/files/speech.wav")
        assert response.status_code == 200
        return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = load_settings(models={"cache_dir": folder / "models"})
        pool = EnginePool(settings=settings, device="cpu")
        in_process(pool, folder)
        local = [in_process(pool, folder) for _ in range(RUNS)]
        whole = statistics.median(run[0] for run in local)
        synth = statistics.median(run[1] for run in local)
        duration = local[0][2]

        from visiovox.media.audio import decode_audio

        audio = decode_audio(folder / "speech.wav")
        stt = pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
        stt.transcribe(audio, language="en")
        stt_times = []
        for _ in range(5):
            started = time.perf_counter()
            stt.transcribe(audio, language="en")
            stt_times.append(time.perf_counter() - started)
        pool.close()

        stack = Stack(folder / "stack").start(workers=1)
        try:
            job_end_to_end(stack)
            jobs = [job_end_to_end(stack) for _ in range(RUNS)]
        finally:
            stack.stop()
    job = statistics.median(jobs)
    print(f"sentence: {duration:.2f} s of speech; median of {RUNS} runs")
    print(f"in-process Piper + WAV encode   {whole * 1000:7.1f} ms")
    print(f"warm TTS job end to end          {job * 1000:7.1f} ms")
    print(f"ratio job / in-process           {job / whole:7.2f}")
    print(f"TTS real-time factor (Piper joe)  {synth / duration:7.3f}")
    stt_rtf = statistics.median(stt_times) / duration
    print(f"STT real-time factor (Whisper base int8, en) {stt_rtf:7.3f}")


if __name__ == "__main__":
    main()
