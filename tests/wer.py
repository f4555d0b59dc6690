"""Word error rate, for checking transcripts against the text that was spoken."""

from __future__ import annotations

import re


def normalise(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, case and punctuation ignored."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
            )
        previous = current
    return previous[-1] / max(1, len(ref))


# A sentence that survives Piper → Whisper: long enough that one misheard word
# stays under 10% WER, and free of pairs Whisper may join ("stone bridge" came
# back as "Stonebridge"); the short pangram alone failed 3 runs of 12.
SPOKEN_SENTENCE = "The quick brown fox jumps over the lazy dog near the old mill."

# The spoken assistant question: "What is the capital of France?" alone came
# back as "... capital of friends?" in 1 run of 15; this one in none of 15.
SPOKEN_QUESTION = "Tell me, what is the capital city of France?"
