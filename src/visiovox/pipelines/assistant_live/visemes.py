"""The live assistant's visemes: each reply sentence's timeline, sent before its audio.

With ``"visemes": true`` in ``start_session``, every sentence of a reply is
announced by ``{"type": "visemes", "sentence", "fps", "duration_s", "visemes",
"blendshapes", "frames"}`` just before its audio (and, with the avatar, before
its first video frame): frames at the session's ``fps`` from the start of the
sentence's audio, each ``{"t", "viseme", "weights", "blendshapes"}`` as in
``visemes.json`` (``engines/visemes/timeline.py``). Sentences are numbered over
the session from 0 when they are sent, as the avatar's ``video_frame`` numbers
them, so a dropped prepared reply takes no number. The timeline comes from the
phonemes Piper spoke; a voice without phoneme durations is heard by HeadAudio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from visiovox.engines.tts.base import SpeechChunk
from visiovox.engines.visemes.classifier import HeadAudioVisemes
from visiovox.engines.visemes.oculus import BLENDSHAPES, VISEMES
from visiovox.engines.visemes.speech import has_phonemes, speech_timeline
from visiovox.engines.visemes.timeline import VisemeTimeline, frame_dicts
from visiovox.pipelines.assistant_live.messages import Visemes
from visiovox.pipelines.context import RunContext

CLASSIFIER = "visemes.headaudio"


class SentenceVisemes:
    """Times each sentence's visemes and numbers the sentences as they are sent."""

    def __init__(self, *, fps: int, classifier: HeadAudioVisemes) -> None:
        self.fps = fps
        self._classifier = classifier
        self._sentences = 0

    @classmethod
    def of(cls, ctx: RunContext, *, fps: int) -> SentenceVisemes:
        """A session's: its classifier (for speech without phonemes) taken from the pool."""
        return cls(fps=fps, classifier=ctx.engine(CLASSIFIER, HeadAudioVisemes))

    def timeline(self, chunks: Sequence[SpeechChunk]) -> VisemeTimeline:
        """The visemes of one sentence's chunks (all at the engine's rate)."""
        if has_phonemes(chunks):
            return speech_timeline(chunks)
        samples = np.concatenate([chunk.samples for chunk in chunks])
        return self._classifier.timeline(samples, sample_rate=chunks[0].sample_rate)

    def announce(self, timeline: VisemeTimeline) -> Visemes:
        """The message of the next sentence sent: numbered now, sampled at the session's fps."""
        number = self._sentences
        self._sentences += 1
        frames = timeline.sample(self.fps)
        return Visemes(
            sentence=number,
            fps=self.fps,
            duration_s=round(timeline.duration_s, 4),
            visemes=list(VISEMES),
            blendshapes=list(BLENDSHAPES),
            frames=frame_dicts(frames, frames.dominant()),
        )
