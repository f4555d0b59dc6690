"""``visemes.json`` beside a pipeline's speech: the params and the writer every pipeline shares.

The ``visemes`` pipeline writes it always; ``tts`` and ``assistant`` when asked
(``visemes: true``). Speech VisioVox synthesised is timed by the phonemes Piper
spoke (``engines/visemes/speech.py``); a voice that gives no phoneme durations
falls back to hearing the audio (HeadAudio, ``visemes.headaudio``), as uploads
are. Imported by pipelines inside ``run`` (it imports numpy and the engines' interfaces).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from visiovox.engines.tts.base import SpeechChunk
from visiovox.engines.visemes.classifier import HeadAudioVisemes
from visiovox.engines.visemes.oculus import SILENCE
from visiovox.engines.visemes.speech import has_phonemes, speech_timeline
from visiovox.engines.visemes.timeline import VisemeTimeline
from visiovox.errors import PipelineError
from visiovox.pipelines.context import RunContext

VISEMES_JSON = "visemes.json"
CLASSIFIER = "visemes.headaudio"


def heard_timeline(
    ctx: RunContext, samples: npt.NDArray[np.float32], *, sample_rate: int
) -> VisemeTimeline:
    """The visemes HeadAudio hears in ``samples``; audio without speech fails ``no_speech``."""
    engine = ctx.engine(CLASSIFIER, HeadAudioVisemes)
    timeline = engine.timeline(samples, sample_rate=sample_rate)
    if all(segment.viseme == SILENCE for segment in timeline.segments):
        raise PipelineError(
            "no_speech", "the audio holds no speech to take visemes from (silent or too quiet)"
        )
    return timeline


def spoken_timeline(
    ctx: RunContext, chunks: Sequence[SpeechChunk], *, sample_rate: int
) -> VisemeTimeline:
    """The timeline of synthesised speech: its phonemes, else what HeadAudio hears in it."""
    if has_phonemes(chunks):
        return speech_timeline(chunks)
    samples = np.concatenate([chunk.samples for chunk in chunks])
    return heard_timeline(ctx, samples, sample_rate=sample_rate)


def write_visemes(ctx: RunContext, timeline: VisemeTimeline, *, fps: float) -> int:
    """Write and publish ``visemes.json``; answers its number of frames."""
    document = timeline.to_json(fps)
    path = ctx.output_path(VISEMES_JSON)
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), "utf-8")
    ctx.add_output(VISEMES_JSON, "application/json")
    return int(document["frame_count"])
