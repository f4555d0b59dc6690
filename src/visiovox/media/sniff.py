"""Decide what an uploaded file is from its first bytes, never from its name or header.

Only formats PyAV can decode here are recognised; anything else (plain text,
archives, unknown bytes) is ``None`` and the gateway rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visiovox.media.kinds import MediaKind

# Enough for every signature below: the Ogg codec id sits at byte 28, the
# Matroska DocType within the first EBML header (a few dozen bytes).
SNIFF_BYTES = 64


@dataclass(frozen=True)
class Sniffed:
    """The kind, MIME type and canonical extension of a file's content."""

    kind: MediaKind
    content_type: str
    extension: str


WAV = Sniffed(MediaKind.AUDIO, "audio/wav", "wav")
MP3 = Sniffed(MediaKind.AUDIO, "audio/mpeg", "mp3")
AAC = Sniffed(MediaKind.AUDIO, "audio/aac", "aac")
FLAC = Sniffed(MediaKind.AUDIO, "audio/flac", "flac")
OGG = Sniffed(MediaKind.AUDIO, "audio/ogg", "ogg")
OGG_VIDEO = Sniffed(MediaKind.VIDEO, "video/ogg", "ogv")
M4A = Sniffed(MediaKind.AUDIO, "audio/mp4", "m4a")
MP4 = Sniffed(MediaKind.VIDEO, "video/mp4", "mp4")
MOV = Sniffed(MediaKind.VIDEO, "video/quicktime", "mov")
THREE_GP = Sniffed(MediaKind.VIDEO, "video/3gpp", "3gp")
WEBM = Sniffed(MediaKind.VIDEO, "video/webm", "webm")
MKV = Sniffed(MediaKind.VIDEO, "video/x-matroska", "mkv")
AVI = Sniffed(MediaKind.VIDEO, "video/x-msvideo", "avi")
PNG = Sniffed(MediaKind.IMAGE, "image/png", "png")
JPEG = Sniffed(MediaKind.IMAGE, "image/jpeg", "jpg")
GIF = Sniffed(MediaKind.IMAGE, "image/gif", "gif")
WEBP = Sniffed(MediaKind.IMAGE, "image/webp", "webp")
BMP = Sniffed(MediaKind.IMAGE, "image/bmp", "bmp")

_AUDIO_MP4_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
# HEIF/AVIF stills also start with an ftyp box; they are not video.
_IMAGE_MP4_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"})
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def sniff_file(path: Path) -> Sniffed | None:
    """What the file at ``path`` contains, judged from its first bytes; None if unknown."""
    with open(path, "rb") as handle:
        return sniff_bytes(handle.read(SNIFF_BYTES))


def sniff_bytes(head: bytes) -> Sniffed | None:
    """What a file starting with ``head`` contains; None if unknown."""
    for check in (_riff, _iso_bmff, _ogg, _ebml, _simple, _mpeg_audio):
        found = check(head)
        if found is not None:
            return found
    return None


def _riff(head: bytes) -> Sniffed | None:
    if head[:4] != b"RIFF" or len(head) < 12:
        return None
    return {b"WAVE": WAV, b"WEBP": WEBP, b"AVI ": AVI}.get(head[8:12])


def _iso_bmff(head: bytes) -> Sniffed | None:
    if head[4:8] != b"ftyp" or len(head) < 12:
        return None
    brand = head[8:12]
    if brand in _AUDIO_MP4_BRANDS:
        return M4A
    if brand in _IMAGE_MP4_BRANDS:
        return None
    if brand == b"qt  ":
        return MOV
    if brand.startswith(b"3g"):
        return THREE_GP
    return MP4


def _ogg(head: bytes) -> Sniffed | None:
    if head[:4] != b"OggS":
        return None
    # The first page holds one packet, the codec's identification header: Opus
    # and Vorbis are audio, Theora is video.
    if head[28:36].startswith(b"\x80theora"):
        return OGG_VIDEO
    return OGG


def _ebml(head: bytes) -> Sniffed | None:
    if head[:4] != b"\x1a\x45\xdf\xa3":
        return None
    return WEBM if b"webm" in head else MKV


def _simple(head: bytes) -> Sniffed | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3"):
        return MP3
    # "BM" alone is too weak; the DIB header size after it must be a known one.
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return BMP
    return None


def _mpeg_audio(head: bytes) -> Sniffed | None:
    """An MPEG audio (layer II/III) or AAC ADTS frame header at offset 0."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer = (head[1] >> 1) & 0x3
    if layer == 0:
        # Layer bits 00 with the 12-bit sync and MPEG-2/4 id: ADTS.
        if head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0xF < 13:
            return AAC
        return None
    version = (head[1] >> 3) & 0x3
    bitrate_index = head[2] >> 4
    rate_index = (head[2] >> 2) & 0x3
    # Layer I (bits 11) and "free" bitrate (0) are rare in the wild, and a UTF-16 LE
    # byte-order mark (FF FE) would otherwise pass for an MPEG-1 Layer I header.
    if version == 1 or layer == 0x3 or bitrate_index in (0x0, 0xF) or rate_index == 0x3:
        return None
    return MP3
