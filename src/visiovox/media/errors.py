"""The typed error every media function raises for a file it cannot accept."""

from __future__ import annotations

from visiovox.errors import CodedError


class MediaError(CodedError):
    """A file is not usable media; ``code`` is stable, ``message`` is for people.

    Codes: ``invalid_media`` (cannot be opened or decoded), ``truncated_media``
    (decodes to much less than it declares), ``too_long`` (over the duration cap),
    ``too_large`` (over the pixel cap), ``unsupported_format`` (an encode target
    this build cannot write).
    """
