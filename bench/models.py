"""Model downloads and engine acquisition: loopback throughput vs curl, hashing, cold vs warm.

A 256 MiB file is served by the standard library's HTTP server on 127.0.0.1;
``download_url`` (resumable, sha256-verified, renamed into place) and ``curl``
fetch it in turn (neither fsyncs; curl followed by an fsync is shown too). Then:
sha256 of the same bytes alone (the verification's share, in memory as during a
download, and re-read from the page cache as after a reboot),
and the first vs the second ``EnginePool.get`` of each engine that runs on
bundled weights, with an empty model cache. ``--engines`` runs only that part.
"""

from __future__ import annotations

import functools
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from visiovox.config import load_settings
from visiovox.engines.base import Engine
from visiovox.engines.pool import EnginePool
from visiovox.models.hashing import Digest, sha256_of
from visiovox.models.http_download import download_url

SIZE = 256 * 1024 * 1024
RUNS = 7
# Every engine that runs on weights shipped in pip packages (the default install).
BUNDLED_ENGINES = (
    "tts.piper",
    "stt.whisper",
    "llm.llama_cpp",
    "vad.silero",
    "face.detect",
    "face.landmarks",
    "face.embed",
    "face.swap_warp",
    "lipsync.mouth_warp",
)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the terminal."""


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def curl_then_fsync(command: list[str], path: Path) -> None:
    subprocess.run(command, check=True)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def downloads(folder: Path) -> None:
    served = folder / "served"
    served.mkdir()
    blob = served / "weights.bin"
    with open(blob, "wb") as out:
        for _ in range(SIZE // (16 * 1024 * 1024)):
            out.write(os.urandom(16 * 1024 * 1024))
    digest = sha256_of(blob)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/weights.bin"
    dest = folder / "cache" / "weights.bin"
    curl_out = folder / "curl.bin"
    try:
        ours, curl, curl_synced = [], [], []
        command = ["curl", "-sS", "-o", str(curl_out), url]
        for _ in range(RUNS):
            dest.unlink(missing_ok=True)
            ours.append(
                timed(
                    lambda: download_url(url, dest=dest, size=SIZE, digest=Digest("sha256", digest))
                )
            )
            curl_out.unlink(missing_ok=True)
            curl.append(timed(lambda: subprocess.run(command, check=True)))
            curl_out.unlink(missing_ok=True)
            curl_synced.append(timed(lambda: curl_then_fsync(command, curl_out)))
    finally:
        server.shutdown()
    body = blob.read_bytes()
    in_memory = [timed(lambda: hash_in_pieces(body)) for _ in range(RUNS)]
    rehash = [timed(lambda: sha256_of(blob)) for _ in range(RUNS)]
    mib = SIZE / (1024 * 1024)
    ours_s, curl_s, synced_s, memory_s, rehash_s = (
        statistics.median(x) for x in (ours, curl, curl_synced, in_memory, rehash)
    )
    print(f"loopback download of {mib:.0f} MiB, median of {RUNS} (load {os.getloadavg()[0]:.2f})")
    print(f"download_url (Range-capable, sha256 verified) {mib / ours_s:8.0f} MiB/s")
    print(f"curl -o (no fsync, as ours)                   {mib / curl_s:8.0f} MiB/s")
    print(f"curl -o, then fsync                           {mib / synced_s:8.0f} MiB/s")
    print(f"throughput ratio ours / curl                  {curl_s / ours_s:8.2f}")
    print(f"throughput ratio ours / curl + fsync          {synced_s / ours_s:8.2f}")
    print(f"sha256 per GiB, 1 MiB pieces in memory        {memory_s * 1024 / mib:8.2f} s")
    print(f"sha256 per GiB, re-reading the cached file    {rehash_s * 1024 / mib:8.2f} s")


def hash_in_pieces(body: bytes) -> str:
    """sha256 fed 1 MiB at a time, as the download feeds it."""
    digest = hashlib.sha256()
    view = memoryview(body)
    for start in range(0, len(view), 1024 * 1024):
        digest.update(view[start : start + 1024 * 1024])
    return digest.hexdigest()


def acquire(pool: EnginePool, name: str) -> float:
    """Seconds for one ``get`` of engine ``name`` (released again at once)."""
    started = time.perf_counter()
    pool.get(name, Engine)  # type: ignore[type-abstract]
    elapsed = time.perf_counter() - started
    pool.release(name)
    return elapsed


def engines(folder: Path) -> None:
    settings = load_settings(models={"cache_dir": folder / "models"})
    pool = EnginePool(settings=settings, device="cpu")
    print("engine acquisition, empty model cache: cold (assemble + load) / warm")
    for name in BUNDLED_ENGINES:
        cold = acquire(pool, name)
        warm = acquire(pool, name)
        print(f"{name:18s} cold {cold * 1000:8.1f} ms   warm {warm * 1000:8.3f} ms")
    pool.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if "--engines" not in sys.argv[1:]:
            downloads(Path(tmp))
        engines(Path(tmp))


if __name__ == "__main__":
    main()
