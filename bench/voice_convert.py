"""The offline voice converter's figures: real-time factor, words kept, pitch moved.

Piper joe speaks ``SENTENCES``; each is converted toward three other
"speakers", joe's own reference text played 8 semitones up, an octave up and
a fifth down (tape speed: a different method from the engine's PSOLA). Figures:

- real-time factor: the engine's analysis of the source plus its conversion,
  over the audio's duration (the reference's analysis, once per job, apart);
- intelligibility: Whisper base's WER on the converted sentences, beside its
  WER on the unconverted ones in the same run (the baseline);
- pitch moved: the converted median F0 against the reference's, both measured
  by YIN (``tests/voices.py``), not by Praat's autocorrelation that the engine uses.

One command, every figure: ``.venv/bin/python -m bench.voice_convert``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tests.voices import piper_speech, semitones, tape_speed, yin_median_f0
from tests.wer import normalise, word_error_rate

from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.stt.base import STTEngine
from visiovox.engines.voice.base import ConversionPlan, VoiceConverter
from visiovox.media.resample import resample

RATE = 22_050
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the old mill.",
    "Please send the report to the office before noon on Friday.",
    "A cold wind blew across the harbour as the boats came home.",
    "She found her keys under a pile of books on the kitchen table.",
    "We planted tomatoes, beans and carrots in the garden last spring.",
    "The train to the city leaves every twenty minutes from platform two.",
)
REFERENCE_TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came."
)
# Tape-speed factors in semitones: each reference lies a fifth (7) or more from joe
# by YIN, on its own text (8 up: joe's median differs a little from text to text).
SPEAKERS = {"8 st up": 2 ** (8 / 12), "an octave up": 2.0, "a fifth down": 2 ** (-7 / 12)}
RUNS = 3


def wer(stt: STTEngine, clips: list[npt.NDArray[np.float32]]) -> float:
    """Word errors over words, all sentences together."""
    errors = words = 0.0
    for text, clip in zip(SENTENCES, clips, strict=True):
        heard = stt.transcribe(resample(clip, rate=RATE, to=16_000), language="en").text
        count = len(normalise(text))
        errors += word_error_rate(text, heard) * count
        words += count
    return errors / words


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(models={"cache_dir": Path(tmp) / "models"})
        pool = EnginePool(settings=settings, device="cpu")
        sources = [piper_speech(pool, text) for text in SENTENCES]
        reference_joe = piper_speech(pool, REFERENCE_TEXT)
        engine = pool.get("voice.convert_psola", VoiceConverter)  # type: ignore[type-abstract]
        stt = pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
        seconds = sum(len(s) for s in sources) / RATE
        source_f0 = yin_median_f0(np.concatenate(sources), rate=RATE)
        print(f"{len(SENTENCES)} Piper joe sentences, {seconds:.1f} s; YIN F0 {source_f0:.1f} Hz")
        print(f"unconverted: Whisper base WER {wer(stt, sources) * 100:5.1f} %  (baseline)")
        for label, factor in SPEAKERS.items():
            reference = tape_speed(reference_joe, factor)
            started = time.perf_counter()
            target = engine.analyse(reference, sample_rate=RATE)
            reference_s = time.perf_counter() - started
            converted: list[npt.NDArray[np.float32]] = []
            costs: list[float] = []
            for _ in range(RUNS):
                converted, started = [], time.perf_counter()
                for source in sources:
                    plan = ConversionPlan.between(
                        source=engine.analyse(source, sample_rate=RATE), target=target
                    )
                    converted.append(engine.convert(source, sample_rate=RATE, plan=plan))
                costs.append(time.perf_counter() - started)
            wanted = yin_median_f0(reference, rate=RATE)
            misses = [abs(semitones(wanted, yin_median_f0(c, rate=RATE))) for c in converted]
            print(
                f"reference {label:13s} ({semitones(source_f0, wanted):+5.1f} st, "
                f"{len(reference) / RATE:.1f} s, analysed in {reference_s * 1000:.0f} ms): "
                f"RTF {statistics.median(costs) / seconds:.3f}  "
                f"WER {wer(stt, converted) * 100:5.1f} %  "
                f"|converted - reference| median F0 max {max(misses):.2f} st, "
                f"mean {statistics.fmean(misses):.2f} st"
            )
        pool.close()
    load_after = os.getloadavg()
    print(
        f"load average (1, 5, 15 min) before {tuple(round(v, 2) for v in load_before)}, "
        f"after {tuple(round(v, 2) for v in load_after)}; {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
