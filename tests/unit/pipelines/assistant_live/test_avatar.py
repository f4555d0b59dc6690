"""The live avatar: its timeline, the mouth driven by a sentence's audio, blinks and sway, and
the painting thread's frames beside the audio (sent in step, ahead, stopped by a barge-in)."""

from __future__ import annotations

import threading
import time
from typing import Any

import cv2
import numpy as np
import pytest

from tests.faces import ASTRONAUT, find_face
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.visemes.oculus import VISEME_INDEX
from visiovox.engines.visemes.speech import speech_timeline
from visiovox.media.image import read_image
from visiovox.pipelines.assistant_live.audio import wav_bytes
from visiovox.pipelines.assistant_live.avatar import (
    AvatarPainter,
    Liveliness,
    Portrait,
    frame_count,
    pts_ms,
    sentence_mouth,
)
from visiovox.pipelines.assistant_live.avatar_stream import (
    AHEAD_S,
    IDLE_FPS,
    AvatarStream,
    SerialLink,
)
from visiovox.pipelines.testing import MemoryLiveLink

FPS = 25


@pytest.fixture(scope="module")
def portrait(faces: tuple[FaceDetector, FaceLandmarker]) -> Portrait:
    picture = read_image(ASTRONAUT)
    return Portrait.rig(picture, find_face(*faces, picture))


@pytest.fixture(scope="module")
def spoken(engine_pool: EnginePool) -> list[SpeechChunk]:
    engine = engine_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    try:
        return list(engine.synthesize("Bob bought a blue boat."))
    finally:
        engine_pool.release("tts.piper")


@pytest.fixture(scope="module")
def speech(spoken: list[SpeechChunk]) -> tuple[np.ndarray, int]:
    return np.concatenate([c.samples for c in spoken]), spoken[0].sample_rate


def test_a_sentences_frames_cover_its_audio_on_its_clock() -> None:
    assert frame_count(1.0, 25) == 25
    assert frame_count(1.001, 25) == 26  # the last frame starts inside the audio
    assert frame_count(0.0, 25) == 1
    assert [pts_ms(i, 25) for i in range(4)] == [0, 40, 80, 120]
    assert [pts_ms(i, 30) for i in (1, 2, 3)] == [33, 67, 100]


def test_the_mouth_follows_the_sentences_audio(speech: tuple[np.ndarray, int]) -> None:
    samples, rate = speech
    track = sentence_mouth(samples, sample_rate=rate, fps=FPS)
    assert len(track) == frame_count(len(samples) / rate, FPS)
    assert track.opening.max() > 0.5  # open on the vowels
    assert (track.opening < 0.1).sum() >= 2  # and closed somewhere (the start, b, t)
    silent = sentence_mouth(np.zeros(rate, np.float32), sample_rate=rate, fps=FPS)
    assert len(silent) == FPS and not silent.opening.any()  # silence keeps it shut


def test_with_the_phonemes_spoken_the_lips_shut_on_each_b(
    spoken: list[SpeechChunk], speech: tuple[np.ndarray, int]
) -> None:
    samples, rate = speech
    timeline = speech_timeline(spoken)
    track = sentence_mouth(samples, sample_rate=rate, fps=FPS, visemes=timeline)
    assert len(track) == frame_count(len(samples) / rate, FPS)
    shut = timeline.sample(FPS).weights[: len(track), VISEME_INDEX["PP"]] >= 0.5
    # "Bob bought a blue boat": four b's; most fill half a 40 ms frame or more (Piper's
    # timing varies from run to run), and every frame that is half a b is shut.
    runs = np.flatnonzero(np.diff(np.concatenate([[0], shut.astype(int)])) == 1)
    assert len(runs) >= 2 and not track.opening[shut].any()
    assert track.opening.max() > 0.5  # and opens on the vowels


def test_a_blink_shuts_the_eyes_and_moves_nothing_else(portrait: Portrait) -> None:
    assert len(portrait.eyes) == 2
    picture = portrait.picture.copy()
    for eye in portrait.eyes:
        eye.close(picture, 0.0)
    assert np.array_equal(picture, portrait.picture)
    for eye in portrait.eyes:
        eye.close(picture, 1.0)
    changed = np.any(picture != portrait.picture, axis=2)
    inside = np.zeros_like(changed)
    for eye in portrait.eyes:
        inside[eye.y0 : eye.y1, eye.x0 : eye.x1] = True
        assert changed[eye.y0 : eye.y1, eye.x0 : eye.x1].mean() > 0.05
    assert not changed[~inside].any()


def test_blinks_come_every_few_seconds_and_the_head_sways_a_little() -> None:
    life = Liveliness(seed=3, size=512)
    times = np.arange(0.0, 60.0, 0.01)
    shut = np.array([life.blink(t) for t in times])
    assert shut.min() == 0.0 and shut.max() == 1.0
    blinks = int(np.sum((shut[1:] > 0) & (shut[:-1] == 0)))
    assert 60 / 5.5 - 1 <= blinks <= 60 / 2.5 + 1
    assert (shut > 0).mean() < 0.1  # open most of the time
    poses = np.array([life.pose(t) for t in times])
    assert np.abs(poses[:, 0]).max() < 1.5  # degrees
    assert np.abs(poses[:, 1:]).max() < 3.0  # pixels
    assert poses[:, 0].std() > 0.2  # it does move


def _frames(link: TimedLink) -> list[tuple[dict[str, Any], bytes, float]]:
    """(announcement, JPEG, when it was sent) of every frame the link carried."""
    frames = []
    for position, item in enumerate(link.sent):
        if isinstance(item, dict) and item["type"] == "video_frame":
            jpeg = link.sent[position + 1]
            assert isinstance(jpeg, bytes) and jpeg.startswith(b"\xff\xd8")
            frames.append((item, jpeg, link.times[position]))
    return frames


class TimedLink(MemoryLiveLink):
    """Remembers when each item was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def _sent(self, item: dict[str, Any] | bytes) -> None:
        self.times.append(time.monotonic())
        super()._sent(item)


def test_frames_go_ahead_of_their_play_time_and_idle_between(
    portrait: Portrait, speech: tuple[np.ndarray, int]
) -> None:
    samples, rate = speech
    link = TimedLink()
    stream = AvatarStream(SerialLink(link), AvatarPainter(portrait), fps=FPS).start()
    try:
        for _ in range(2):  # two sentences back to back
            stream.deliver(
                stream.prepare(samples, sample_rate=rate), wav_bytes(samples, sample_rate=rate)
            )
        duration_s = len(samples) / rate
        time.sleep(2 * duration_s + 3 / IDLE_FPS)
    finally:
        stream.stop()
    frames = _frames(link)
    wavs = [
        (p, t)
        for p, (item, t) in enumerate(zip(link.sent, link.times, strict=True))
        if isinstance(item, bytes) and item.startswith(b"RIFF")
    ]
    assert len(wavs) == 2
    count = frame_count(duration_s, FPS)
    for sentence, (_, wav_at) in enumerate(wavs):
        mine = [(f, at) for f, _, at in frames if f["sentence"] == sentence]
        assert [f["index"] for f, _ in mine] == list(range(count))
        assert [f["pts_ms"] for f, _ in mine] == [pts_ms(i, FPS) for i in range(count)]
        first_at = mine[0][1]
        assert first_at <= wav_at  # the lead frames precede the audio
        for frame, at in mine:
            play_at = wav_at + frame["pts_ms"] / 1000
            assert at <= play_at  # in hand before its time ...
            assert at >= play_at - AHEAD_S - 0.05  # ... but not long before
    idle = [at for f, _, at in frames if f["sentence"] is None and at > wavs[0][1]]
    assert idle and idle[0] >= wavs[-1][1] + duration_s - 0.05  # once the audio played
    pictures = [
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) for _, jpeg, _ in frames
    ]
    assert all(p.shape == portrait.picture.shape for p in pictures)
    assert stream.stats.late == 0 and stream.stats.sentences == 2


def test_an_interrupt_stops_the_sentences_frames_at_once(
    portrait: Portrait, speech: tuple[np.ndarray, int]
) -> None:
    samples, rate = speech
    link = TimedLink()
    serial = SerialLink(link)
    stream = AvatarStream(serial, AvatarPainter(portrait), fps=FPS).start()
    long = np.concatenate([samples] * 4)  # past AHEAD_S: frames still to come
    cut = threading.Event()

    def barge_in() -> None:
        stream.interrupt()
        with serial.lock:
            link.send({"type": "interrupted"})
        cut.set()

    try:
        stream.deliver(stream.prepare(long, sample_rate=rate), wav_bytes(long, sample_rate=rate))
        threading.Timer(0.3, barge_in).start()
        assert cut.wait(5)
        time.sleep(3 / IDLE_FPS)
    finally:
        stream.stop()
    notice = link.sent.index({"type": "interrupted"})
    after = [item for item in link.sent[notice + 1 :] if isinstance(item, dict)]
    assert after and all(item["sentence"] is None for item in after)  # idling, nothing else
    sent = [f for f, _, _ in _frames(link) if f["sentence"] == 0]
    assert 0 < len(sent) < frame_count(len(long) / rate, FPS)
