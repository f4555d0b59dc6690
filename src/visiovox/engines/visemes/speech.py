"""The viseme timeline of speech the TTS made, from the phonemes it spoke."""

from __future__ import annotations

from collections.abc import Sequence

from visiovox.engines.tts.base import SpeechChunk
from visiovox.engines.visemes.ipa import phoneme_segments
from visiovox.engines.visemes.timeline import VisemeSegment, VisemeTimeline


def has_phonemes(chunks: Sequence[SpeechChunk]) -> bool:
    """Whether every chunk knows its phonemes (a voice without durations does not)."""
    return bool(chunks) and all(chunk.phonemes for chunk in chunks)


def speech_timeline(chunks: Sequence[SpeechChunk]) -> VisemeTimeline:
    """The chunks' visemes, one after the other, each chunk's spanning its audio exactly.

    A chunk's phoneme times add up to its length at the voice's own rate; a voice
    resampled to the engine's rate may differ by a sample, so each chunk's
    segments are scaled to its audio.
    """
    parts: list[VisemeTimeline] = []
    for chunk in chunks:
        segments = phoneme_segments(chunk.phonemes)
        spoken_s = segments[-1].end_s if segments else 0.0
        scale = chunk.duration_s / spoken_s if spoken_s > 0 else 1.0
        parts.append(
            VisemeTimeline(
                segments=tuple(
                    VisemeSegment(
                        viseme=segment.viseme,
                        start_s=segment.start_s * scale,
                        end_s=segment.end_s * scale,
                        phonemes=segment.phonemes,
                    )
                    for segment in segments
                ),
                duration_s=chunk.duration_s,
                source="phonemes",
            )
        )
    return VisemeTimeline.joined(parts, source="phonemes")
