"""Opening media for reading with FFmpeg's own per-frame pixel cap.

``av.open`` probes the streams, and for codecs whose container does not say
everything (PNG or MJPEG frames in AVI, say) it decodes a frame to find out:
a 450 KB AVI of one 12000x12000 PNG frame allocated 450 MB in ``av.open``
alone. FFmpeg's ``max_pixels`` codec option makes a decoder refuse any frame
larger than the cap; it is passed to the probe and set on every video
decoder, so neither allocates a frame past the cap, whatever the headers say.
Decoders count their padded buffers (edges, alignment: 64x48 MPEG-4 needs over
10,000), so FFmpeg gets the cap plus a margin; the exact check on the declared
size stays with the caller.
"""

from __future__ import annotations

from pathlib import Path

from av.container import InputContainer

from visiovox.media._av import av


def decoder_cap(max_pixels: int) -> int:
    """FFmpeg's ``max_pixels`` for frames of at most ``max_pixels``: room for padding."""
    return max_pixels + max_pixels // 4 + 1_048_576


def open_capped(
    path: Path, *, max_pixels: int | None, container_format: str | None = None
) -> InputContainer:
    """``path`` opened for reading; no video frame over ``max_pixels`` is ever decoded.

    A stream whose frames are over the cap reports width and height 0 and
    fails to decode (``av.FFmpegError``). ``None``: no cap.
    """
    options = {} if max_pixels is None else {"max_pixels": str(decoder_cap(max_pixels))}
    container = av.open(str(path), format=container_format, options=options)
    for stream in container.streams.video:
        stream.codec_context.options = dict(options)
    return container
