"""BlockConverter: blocks out in order, as long as the input, each converted in its window."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from visiovox.pipelines.voice_convert_live.blocks import BlockConverter

RATE = 16_000
CHUNK = 320  # 20 ms


def _stream(blocks: BlockConverter, samples: npt.NDArray[np.float32]) -> list[np.ndarray]:
    out = []
    for start in range(0, len(samples), CHUNK):
        blocks.feed(samples[start : start + CHUNK])
        while blocks.ready():
            out.append(blocks.convert())
    out.append(blocks.finish())
    return out


def test_an_identity_conversion_gives_the_input_back_exactly() -> None:
    samples = np.random.default_rng(1).uniform(-0.5, 0.5, RATE * 2 + 123).astype(np.float32)
    blocks = BlockConverter(lambda w: w.copy(), rate=RATE, lookahead_s=0.06)
    out = _stream(blocks, samples)
    assert len(out) > 10  # converted as it came, not all at the end
    np.testing.assert_allclose(np.concatenate(out), samples, atol=1e-6)
    assert blocks.sent == len(samples)


def test_blocks_wait_for_their_lookahead_and_keep_context() -> None:
    windows: list[int] = []

    def convert(window: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        windows.append(len(window))
        return window * 2.0

    blocks = BlockConverter(convert, rate=RATE, lookahead_s=0.06, context_s=0.5)
    blocks.feed(np.full(int(0.09 * RATE), 0.1, np.float32))
    assert not blocks.ready()  # 90 ms: a 40 ms block needs 100 ms with its look-ahead
    blocks.feed(np.full(int(0.02 * RATE), 0.1, np.float32))
    assert blocks.ready()
    first = blocks.convert()
    # All but the look-ahead, less the 5 ms held back for the seam's cross-fade.
    assert len(first) == int(0.11 * RATE) - int(0.06 * RATE) - int(0.005 * RATE)
    np.testing.assert_allclose(first, 0.2)
    blocks.feed(np.full(RATE, 0.1, np.float32))
    blocks.convert()
    # The second window starts half a second before what it gives out.
    assert windows[-1] == blocks.received - max(0, len(first) - int(0.5 * RATE))


def test_nothing_is_converted_twice_into_the_output() -> None:
    ramp = np.arange(RATE, dtype=np.float32) / RATE
    blocks = BlockConverter(lambda w: w.copy(), rate=RATE, lookahead_s=0.06)
    out = np.concatenate(_stream(blocks, ramp))
    assert np.all(np.diff(out) > 0)  # in order, no sample repeated or missing
    assert len(out) == len(ramp)
