"""S3 storage backend vs local folder: a 200 MB upload through the gateway, a TTS job end to end.

Two deployments in the same run on this machine, each a gateway and one worker
on its own embedded Redis: one keeps files in its local folder (the default),
the other in a bucket of moto's S3 server on loopback, its worker with a storage
root of its own (they share only Redis and the bucket). The S3 server is a
local emulator (``tests/integration/s3.py``): no network latency or bandwidth
limit, objects held by a Python process on the same two cores, so the S3
figures say what the backend's code costs here, not what a real bucket adds.

Upload: POST /v1/jobs/stt with a 200 MB WAV (48 kHz stereo, 17 min), timed
from the first byte sent to the 202 (streamed to the bucket as a multipart
upload, then sniffed and probed), with no worker running; each job is
canceled at once. TTS: POST /v1/jobs/tts → ``succeeded`` (WebSocket) → GET
the WAV, on a warm worker. Rounds alternate the two deployments.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import wave
from pathlib import Path

import httpx
from tests.integration.s3 import S3Server
from tests.integration.stack import Stack
from websockets.sync.client import connect

UPLOAD_BYTES = 200_000_000
UPLOAD_ROUNDS = 4
TTS_RUNS = 10
SENTENCE = "The quick brown fox jumps over the lazy dog, then rests beside the old stone bridge."
BUCKET = "visiovox-bench"


def big_wav(path: Path) -> Path:
    """A WAV of ``UPLOAD_BYTES``: 48 kHz stereo 16-bit, quiet noise (every check accepts it)."""
    frames = (UPLOAD_BYTES - 44) // 4
    block = os.urandom(4 * 48_000)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        for _ in range(frames // 48_000):
            wav.writeframes(block)
        wav.writeframes(block[: 4 * (frames % 48_000)])
    return path


def upload_seconds(stack: Stack, wav: Path) -> float:
    with httpx.Client(base_url=stack.base_url, timeout=300) as client, wav.open("rb") as handle:
        started = time.perf_counter()
        answer = client.post("/v1/jobs/stt", files={"file": ("big.wav", handle, "audio/wav")})
        seconds = time.perf_counter() - started
        assert answer.status_code == 202, answer.text
        assert client.delete(f"/v1/jobs/{answer.json()['id']}").status_code == 202
    return seconds


def tts_seconds(stack: Stack) -> float:
    ws_base = stack.base_url.replace("http", "ws", 1)
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        started = time.perf_counter()
        job_id = client.post("/v1/jobs/tts", data={"text": SENTENCE}).json()["id"]
        with connect(f"{ws_base}/v1/jobs/{job_id}/ws") as socket:
            for _message in socket:
                pass
        response = client.get(f"/v1/jobs/{job_id}/files/speech.wav")
        assert response.status_code == 200 and len(response.content) > 1000
        return time.perf_counter() - started


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2-core machine)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wav = big_wav(root / "big.wav")
        s3 = S3Server(root / "moto.log").start()
        cap = {"VISIOVOX_UPLOADS__MAX_BYTES": str(256 * 1024 * 1024)}
        (root / "local").mkdir()
        (root / "s3").mkdir()
        stacks = {
            "local": Stack(root / "local", settings=cap),
            "s3": Stack(
                root / "s3",
                settings={**cap, **s3.settings(s3.create_bucket(BUCKET))},
                worker_settings={"VISIOVOX_STORAGE__ROOT": str(root / "s3" / "worker-data")},
            ),
        }
        try:
            for stack in stacks.values():
                stack.start(workers=0)
            uploads: dict[str, list[float]] = {name: [] for name in stacks}
            for _ in range(UPLOAD_ROUNDS):
                for name, stack in stacks.items():
                    uploads[name].append(upload_seconds(stack, wav))
            for stack in stacks.values():
                stack.start_workers(["w1"])
                tts_seconds(stack)  # loads Piper
            tts: dict[str, list[float]] = {name: [] for name in stacks}
            for _ in range(TTS_RUNS):
                for name, stack in stacks.items():
                    tts[name].append(tts_seconds(stack))
        finally:
            for stack in stacks.values():
                stack.stop()
            s3.stop()
    print(f"upload of {UPLOAD_BYTES / 1e6:.0f} MB through the gateway, {UPLOAD_ROUNDS} rounds:")
    rates = {name: UPLOAD_BYTES / 1e6 / statistics.median(times) for name, times in uploads.items()}
    for name, times in uploads.items():
        print(
            f"  {name:<6} median {statistics.median(times):6.2f} s = {rates[name]:6.1f} MB/s"
            f"   (runs: {', '.join(f'{t:.2f}' for t in times)})"
        )
    print(f"  ratio s3/local throughput: {rates['s3'] / rates['local']:.2f}")
    print(f"TTS job end to end (submit → succeeded → GET), {TTS_RUNS} runs, warm worker:")
    medians = {name: statistics.median(times) for name, times in tts.items()}
    for name, times in tts.items():
        print(
            f"  {name:<6} median {medians[name]:6.3f} s   p90 "
            f"{sorted(times)[int(0.9 * (len(times) - 1))]:6.3f} s"
        )
    print(f"  ratio s3/local time: {medians['s3'] / medians['local']:.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
