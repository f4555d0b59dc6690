"""PyAV, imported once with FFmpeg's own logging silenced.

With the level at ``None`` PyAV installs a callback that drops every FFmpeg log
line; without it a damaged upload prints pages of decoder warnings to stderr.
"""

from __future__ import annotations

import av
import av.logging

av.logging.set_level(None)

__all__ = ["av"]
