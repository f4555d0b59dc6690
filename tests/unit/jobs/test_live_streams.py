"""A live face swap's frame numbers: uploads are not frames, every entry carries the count."""

from __future__ import annotations

from visiovox.jobs.live_streams import EntryKind, FrameNumbers, LiveEntry


def test_uploads_are_not_numbered_and_every_entry_carries_the_frames_before_it() -> None:
    numbers = FrameNumbers()
    sent = [
        LiveEntry.audio(b"source"),
        LiveEntry.audio(b"frame 0"),
        LiveEntry.audio(b"frame 1"),
        LiveEntry.message({"type": "reference"}),
        LiveEntry.audio(b"reference"),
        LiveEntry.audio(b"frame 2"),
        LiveEntry.message({"type": "source"}),
        LiveEntry.audio(b"new source"),
        LiveEntry.message({"type": "end_session"}),
    ]
    stamped = [numbers.stamp(entry) for entry in sent]
    assert [(entry.kind, entry.frames) for entry in stamped] == [
        (EntryKind.AUDIO, 0),
        (EntryKind.FRAME, 0),
        (EntryKind.FRAME, 1),
        (EntryKind.MESSAGE, 2),
        (EntryKind.AUDIO, 2),
        (EntryKind.FRAME, 2),
        (EntryKind.MESSAGE, 3),
        (EntryKind.AUDIO, 3),
        (EntryKind.MESSAGE, 3),
    ]
    assert [entry.data for entry in stamped] == [entry.data for entry in sent]


def test_the_stamp_survives_the_stream_fields() -> None:
    entry = LiveEntry(EntryKind.FRAME, b"jpeg", seq=7, frames=4)
    assert LiveEntry.from_fields(entry.fields()) == entry
