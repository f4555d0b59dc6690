"""The live voice conversion's loop on the worker: the reference, then chunks converted in order.

Without a ``voice``, the first binary message is the reference
(``reference.py``): a bad one is answered with an ``error`` (``no_speech``,
``reference_too_short`` or a media code) and the next binary message is taken
as the reference again; a good one fixes the plan and ``ready`` goes out.
With a registered ``voice`` the RVC engine (its shared models already in the
cache: a live session never waits for a download, ``model_unavailable``)
converts, and ``ready`` goes out at once. Every later binary message is a
PCM16 mono chunk at the session's rate; blocks are converted as soon as the
engine's look-ahead past them has arrived (``blocks.py``) and sent as PCM16,
so the output is the input, converted, in order and of the same length (what
the input stream's cap dropped is missing from both). About once a second a
``stats`` message goes out; ``end_session`` or the idle timeout sends what is
left and ``session_ended``.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from typing import Any

import numpy as np
from pydantic import BaseModel

from visiovox.engines.vad.base import VADEngine
from visiovox.engines.voice.base import ConversionPlan, VoiceConverter
from visiovox.engines.voice.rvc import RvcConverter, RvcSettings, RvcVoice
from visiovox.errors import PipelineError
from visiovox.jobs.voices import voice_files
from visiovox.media.resample import resample
from visiovox.pipelines.assistant_live.audio import PcmDecoder
from visiovox.pipelines.context import LiveLink, RunContext
from visiovox.pipelines.face_swap_live.run import require_cached
from visiovox.pipelines.face_swap_live.stats import SessionStats
from visiovox.pipelines.voice_convert.rvc import RVC_ENGINE
from visiovox.pipelines.voice_convert.spec import OFFLINE_ENGINE, VAD
from visiovox.pipelines.voice_convert.speech import VAD_RATE
from visiovox.pipelines.voice_convert_live.blocks import BlockConverter, Samples
from visiovox.pipelines.voice_convert_live.pitch import PitchLevel
from visiovox.pipelines.voice_convert_live.reference import reference_plan
from visiovox.pipelines.voice_convert_live.spec import LiveVoiceParams

# Longest wait for client messages (it ends as soon as one comes, so a chunk never waits
# for it); also how soon a cancel or the idle timeout is noticed.
POLL_S = 0.1
# Seconds between two ``stats`` messages.
STATS_EVERY_S = 1.0
# RVC's windows need more of the past than PSOLA's: its content encoder's receptive field.
RVC_CONTEXT_S = 1.0
RVC_LOOKAHEAD_S = 0.1


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, LiveVoiceParams)
    return LiveVoice(ctx, params).run()


class LiveVoice:
    """Hosts one live voice session until it ends; ``run`` answers its summary."""

    def __init__(self, ctx: RunContext, params: LiveVoiceParams) -> None:
        self._ctx = ctx
        self._params = params
        self._rate = params.sample_rate
        self._blocks: BlockConverter | None = None
        if params.voice is not None:
            self._blocks = self._rvc_blocks(params.voice)
        else:
            self._engine = ctx.engine(OFFLINE_ENGINE, VoiceConverter)  # type: ignore[type-abstract]  # mypy#4717
            self._vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717
        self._link: LiveLink = ctx.live()
        self._pcm = PcmDecoder()
        self._stats = SessionStats()
        self._chunks_in = 0
        self._waiting: deque[tuple[int, float]] = deque()  # (end sample, when read) per chunk
        self._last_input = time.monotonic()

    def run(self) -> dict[str, Any]:
        if self._blocks is not None:
            self._link.send({"type": "ready"})
        reason = self._loop()
        if self._blocks is not None:
            self._send(self._blocks.finish())
        self._link.send({"type": "session_ended", "reason": reason})
        return {
            "chunks_in": self._chunks_in,
            "chunks_out": self._stats.frames_out,
            "audio_s": round(self._blocks.sent / self._rate, 3) if self._blocks else 0.0,
            "lost": self._link.dropped,
            "ended": reason,
        }

    def _loop(self) -> str:
        """Handle input until the session ends; answers why it ended."""
        idle_timeout_s = self._ctx.settings.live.idle_timeout_s
        while True:
            self._ctx.check_cancelled()
            inputs = self._link.receive(timeout_s=POLL_S)
            if inputs:
                self._last_input = time.monotonic()
            for item in inputs:
                if item.audio is not None:
                    self._binary(item.audio)
                elif item.command is not None and item.command.get("type") == "end_session":
                    return "end_session"
                else:
                    self._error("invalid_message", "send PCM16 chunks or end_session")
            while self._blocks is not None and self._blocks.ready():
                self._send(self._blocks.convert())
            if self._blocks is not None and self._stats.due(STATS_EVERY_S):
                self._report()
            if time.monotonic() - self._last_input > idle_timeout_s:
                return "idle"

    def _binary(self, data: bytes) -> None:
        if self._blocks is None:
            self._reference(data)
            return
        self._blocks.feed(self._pcm.decode(data))
        self._chunks_in += 1
        self._waiting.append((self._blocks.received, time.perf_counter()))

    def _reference(self, data: bytes) -> None:
        try:
            plan = reference_plan(
                data,
                rate=self._rate,
                engine=self._engine,
                vad=self._vad,
                pitch_shift=self._params.pitch_shift,
            )
        except PipelineError as exc:
            self._error(exc.code, exc.message)
            return
        level = PitchLevel(self._engine, plan, rate=self._rate)
        self._blocks = BlockConverter(
            lambda window: self._psola(window, level.plan_for(window)),
            rate=self._rate,
            lookahead_s=self._engine.lookahead_s,
        )
        self._link.send({"type": "ready", "f0_median_hz": round(plan.f0_median_hz, 1)})

    def _psola(self, window: Samples, plan: ConversionPlan) -> Samples:
        with warnings.catch_warnings():
            # Praat warns of every window without a voiced frame (a pause): nothing is wrong.
            warnings.filterwarnings("ignore", message="There were no voiced segments found")
            return self._engine.convert(window, sample_rate=self._rate, plan=plan)

    def _rvc_blocks(self, voice_id: str) -> BlockConverter:
        """RVC with the registered voice ``voice_id``: its models must be cached now."""
        require_cached(self._ctx.settings, RVC_ENGINE)
        files = voice_files(self._ctx.settings.storage)
        meta = files.read_meta(voice_id)
        if meta is None:
            raise PipelineError("voice_not_found", f"no voice {voice_id!r}")
        bank = files.bank(voice_id)
        voice = RvcVoice(
            model=files.model(voice_id),
            sample_rate=meta.sample_rate,
            bank=bank if bank.exists() else None,
        )
        engine = self._ctx.engine(RVC_ENGINE, RvcConverter)
        knobs = RvcSettings(pitch_shift=self._params.pitch_shift or 0.0)

        def convert(window: Samples) -> Samples:
            out = engine.convert(
                resample(window, rate=self._rate, to=VAD_RATE), voice=voice, knobs=knobs
            )
            back = resample(out.samples, rate=out.sample_rate, to=self._rate)
            fitted = np.zeros(len(window), np.float32)
            fitted[: min(len(back), len(window))] = back[: len(window)]
            return fitted

        return BlockConverter(
            convert, rate=self._rate, lookahead_s=RVC_LOOKAHEAD_S, context_s=RVC_CONTEXT_S
        )

    def _send(self, samples: Samples) -> None:
        """Send converted samples as PCM16; the chunks they complete are answered."""
        if not len(samples):
            return
        assert self._blocks is not None
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        self._link.send_audio(pcm.tobytes())
        now = time.perf_counter()
        while self._waiting and self._waiting[0][0] <= self._blocks.sent:
            _, at = self._waiting.popleft()
            self._stats.answered((now - at) * 1000.0)

    def _report(self) -> None:
        report = self._stats.report(self._chunks_in)
        self._stats.dropped = self._link.dropped
        self._link.send(
            {
                "type": "stats",
                "chunks_in": self._chunks_in,
                "chunks_out": self._stats.frames_out,
                "latency_ms_p50": report["latency_ms_p50"],
                "latency_ms_p95": report["latency_ms_p95"],
                "dropped": self._link.dropped,
            }
        )
        self._ctx.live_figures(self._stats.figures(self._chunks_in))

    def _error(self, code: str, message: str) -> None:
        self._link.send({"type": "error", "code": code, "message": message})
