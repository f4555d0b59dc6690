"""Piper synthesises in bounded calls: long runs and phoneme-heavy text cannot hold gigabytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.tts.piper import MAX_CALL_PHONEMES, split_phonemes
from visiovox.engines.tts.sentences import MAX_SENTENCE_CHARS

# Piper speaks about 20 phonemes a second; a call may make this much audio at most.
MAX_CALL_S = MAX_CALL_PHONEMES / 20 * 1.4
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "by", "the", "bridge"]
UNPUNCTUATED = " ".join(WORDS * 18)  # 1,007 characters: one sentence before issue 11
# espeak reads each emoji's name ("grinning face"): 14 phonemes from one character.
EMOJI_RUN = "a" + "\u202e\u200b\ufeff\U0001f600" * 25


@pytest.fixture(scope="module")
def tts(bundled_pool: EnginePool) -> TTSEngine:
    return bundled_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717


def _status_mb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise LookupError(field)


@pytest.mark.parametrize(
    ("phonemes", "runs"),
    [
        (list("ab cd ef"), [list("ab cd"), list("ef")]),
        (list("abcdefgh"), [list("abcde"), list("fgh")]),
        (list("ab"), [list("ab")]),
        ([], []),
    ],
)
def test_phonemes_are_cut_at_the_last_word_end_that_fits(
    phonemes: list[str], runs: list[list[str]]
) -> None:
    assert split_phonemes(phonemes, max_len=5) == runs


@pytest.mark.parametrize("speed", [1.0, 0.25])
def test_every_call_makes_a_bounded_piece_of_audio(tts: TTSEngine, speed: float) -> None:
    chunks = list(tts.synthesize(EMOJI_RUN, speed=speed))
    assert len(chunks) >= 3  # one sentence of 26 characters, 350 phonemes
    assert all(chunk.duration_s <= MAX_CALL_S for chunk in chunks)
    assert chunks[-1].last and not all(chunk.last for chunk in chunks)
    assert all("\u202e" not in chunk.text for chunk in chunks)


def test_a_long_run_without_punctuation_stays_within_a_few_hundred_megabytes(
    tts: TTSEngine,
) -> None:
    list(tts.synthesize("Warm up."))
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = _status_mb("VmRSS")
    chunks = list(tts.synthesize(UNPUNCTUATED))
    peak = _status_mb("VmHWM")
    # Measured: +190 MB; as one call (before issue 11) +1.4 GB, kept after it.
    assert peak - before < 300, f"peak {peak} MB from {before} MB"
    assert sum(chunk.duration_s for chunk in chunks) > 40
    assert len({chunk.text for chunk in chunks}) >= len(UNPUNCTUATED) // MAX_SENTENCE_CHARS


def test_invisible_characters_alone_make_no_audio(tts: TTSEngine) -> None:
    assert list(tts.synthesize("\u202e\u200b\ufeff" * 50)) == []
