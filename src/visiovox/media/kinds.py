"""The broad kinds of media a file can be: what sniffing and probing decide, what inputs accept."""

from __future__ import annotations

import enum


class MediaKind(enum.StrEnum):
    """The broad kind of an uploaded file, decided from its bytes."""

    AUDIO = "audio"
    VIDEO = "video"
    IMAGE = "image"
    TEXT = "text"
