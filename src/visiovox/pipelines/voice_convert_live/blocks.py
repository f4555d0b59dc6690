"""A stream converted block by block, each block with the audio around it.

A converter that holds no state between calls (``VoiceConverter.convert``
with a fixed plan, or RVC with a fixed voice) converts a stream as well as a
whole recording when each block is converted inside a window: ``context_s``
of what came before it (the pitch analysis and PSOLA marks need periods on
both sides) and the engine's ``lookahead_s`` after it. A block is converted
once the look-ahead past it has arrived, so the output lags the input by the
look-ahead, the block and the conversion's time. The last ``XFADE_S`` of each
block is held back and cross-faded with the same samples of the next window,
so the seams between windows do not click. ``finish`` converts what is left
(without look-ahead): the output lasts exactly as long as the input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from visiovox.pipelines.assistant_live.audio import AudioTape

Samples = npt.NDArray[np.float32]
# Samples in, the same number converted out (same rate).
Convert = Callable[[Samples], Samples]

# Audio before a block that its window holds: a few pitch periods and the PSOLA
# marks around the seam, and enough speech for a steady pitch median.
CONTEXT_S = 0.5
# The shortest block worth a conversion: 20 ms chunks are converted two at a time
# (each call costs a few ms of Praat's set-up however short the block).
MIN_BLOCK_S = 0.04
# Cross-fade at each seam.
XFADE_S = 0.005


class BlockConverter:
    """Feeds a stream's samples in; ``ready`` blocks come out converted, in order."""

    def __init__(
        self,
        convert: Convert,
        *,
        rate: int,
        lookahead_s: float,
        context_s: float = CONTEXT_S,
        min_block_s: float = MIN_BLOCK_S,
    ) -> None:
        self._convert = convert
        self._tape = AudioTape()
        self._lookahead = int(np.ceil(lookahead_s * rate))
        self._context = int(context_s * rate)
        self._min_block = max(1, int(min_block_s * rate))
        self._xfade = int(XFADE_S * rate)
        self._tail = np.zeros(0, np.float32)  # converted samples from ``sent`` on, held back
        self.sent = 0  # samples given out so far

    @property
    def received(self) -> int:
        return self._tape.end

    def feed(self, samples: Samples) -> None:
        self._tape.append(samples)

    def ready(self) -> bool:
        """A block and its look-ahead have arrived."""
        return self.received - self._lookahead - self.sent - len(self._tail) >= self._min_block

    def convert(self) -> Samples:
        """The next block, converted (empty unless ``ready``)."""
        if not self.ready():
            return np.zeros(0, np.float32)
        return self._block(self.received - self._lookahead, hold=self._xfade)

    def finish(self) -> Samples:
        """Everything not yet given out, converted without look-ahead."""
        if self.received <= self.sent:
            return np.zeros(0, np.float32)
        return self._block(self.received, hold=0)

    def _block(self, end: int, *, hold: int) -> Samples:
        """Convert up to ``end``; give out all but the last ``hold`` samples."""
        start = max(0, self.sent - self._context)
        converted = self._convert(self._tape.slice(start, self.received))
        fresh = converted[self.sent - start : end - start]
        overlap = min(len(self._tail), len(fresh))
        if overlap:
            ramp = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
            fresh[:overlap] = self._tail[:overlap] * (1.0 - ramp) + fresh[:overlap] * ramp
        keep = len(fresh) - min(hold, len(fresh))
        out, self._tail = fresh[:keep], fresh[keep:].copy()
        self.sent += len(out)
        self._tape.forget_before(self.sent - self._context)
        return out
