"""Whisper base's language detection on espeak-ng speech, and the cost of an md5 pin.

The voice-language tests speak their questions with espeak-ng; this prints, for
English (the baseline), Brazilian Portuguese, Russian and Mandarin (pinyin),
the language faster-whisper's ``detect_language`` picks on the same audio the
tests use, the probability it gives the true language, its top three, and the
detection's median time over RUNS runs (ratio to English's); then the same
questions at espeak-ng's default speed, pitch and voice variant, where the tests
slow or raise them. The Piper catalogue
pins its voices by md5, so the second part times md5 against sha256 over the
bundled joe voice (63 MB, the size of every medium voice), median of RUNS each.
Needs espeak-ng; run as ``python -m bench.languages``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.language_voices import ESPEAK, espeak

from visiovox.config import load_settings
from visiovox.engines.stt.base import SAMPLE_RATE
from visiovox.media.audio import decode_audio
from visiovox.models.cache import prepare_model
from visiovox.models.hashing import file_digest

RUNS = 5
LANGUAGES = ("en_US", "pt_BR", "ru_RU", "zh_CN")
# The tests' espeak-ng settings where they differ from espeak-ng's defaults.
DEFAULTS = {"pt_BR": ["-v", "pt-br"], "ru_RU": ["-v", "ru"], "zh_CN": ["-v", "cmn-latn-pinyin"]}


def _median_s(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def detection(cache: Path, folder: Path) -> None:
    from faster_whisper import WhisperModel

    settings = load_settings(models={"cache_dir": cache})
    model = WhisperModel(
        str(prepare_model(settings, "whisper-base")), device="cpu", compute_type="int8"
    )
    baseline = None
    print(
        "language  settings                       detected  p(true)  top 3"
        "                         median ms  ratio"
    )
    runs = [(language, ESPEAK[language]) for language in LANGUAGES]
    runs += list(DEFAULTS.items())
    for number, (language, settings) in enumerate(runs):
        wav = espeak(language, folder / f"{number}.wav", settings)
        audio = decode_audio(wav, sample_rate=SAMPLE_RATE)
        detected, _, ranked = model.detect_language(audio)
        true = dict(ranked).get(language.partition("_")[0], 0.0)
        top = ", ".join(f"{code} {p:.2f}" for code, p in ranked[:3])
        seconds = _median_s(lambda a=audio: model.detect_language(a))
        baseline = baseline or seconds
        print(
            f"{language:9} {' '.join(settings):30} {detected:9} {true:7.2f}  {top:29}"
            f" {seconds * 1000:9.0f}  {seconds / baseline:5.2f}"
        )


def digests(cache: Path) -> None:
    joe = prepare_model(load_settings(models={"cache_dir": cache}), "piper-joe-medium")
    onnx = next(joe.glob("*.onnx")).resolve()
    sha = _median_s(lambda: file_digest(onnx, "sha256"))
    md5 = _median_s(lambda: file_digest(onnx, "md5"))
    size_mb = onnx.stat().st_size / 1e6
    print(f"\nhashing {size_mb:.0f} MB (page cache warm), median of {RUNS}:")
    print(f"  sha256 {sha * 1000:6.0f} ms  {size_mb / sha:6.0f} MB/s  (baseline)")
    print(f"  md5    {md5 * 1000:6.0f} ms  {size_mb / md5:6.0f} MB/s  ratio {md5 / sha:.2f}")


def main() -> None:
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        detection(folder / "models", folder)
        digests(folder / "models")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
