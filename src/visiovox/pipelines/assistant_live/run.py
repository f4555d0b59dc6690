"""The live assistant's loop on the worker: messages in, turns detected by the VAD, replies out.

The listener (``listener.py``, its own thread) turns client messages, as they
arrive, into pending items: VAD events of the streamed PCM, whole-WAV
utterances and commands. This loop handles each in turn. A turn is STT → LLM →
TTS (``reply.py``), with the avatar's frames painted and sent on a thread of
their own when the session asked for them (``avatar_stream.py``); while a reply
runs, new input is polled between pieces, and speech (or a new utterance, a
text, ``end_session``) interrupts it: ``interrupted`` is sent (the avatar's
unsent frames forgotten first), the new utterance becomes the next turn. At the first
pause in speech (``live.speculative_pause_ms``) the utterance so far is
transcribed and the reply prepared up to its first audio while the listener
keeps waiting for the end of speech; the work is abandoned as soon as the
speech goes on, and used only if the utterance ends where the pause was.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from visiovox.engines.llm.base import ChatMessage, LLMEngine
from visiovox.engines.stt.base import STTEngine
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.vad.base import SpeechDetector, VoiceEventKind, ms_to_samples
from visiovox.errors import PipelineError
from visiovox.pipelines.assistant.spec import LLM, STT, TTS
from visiovox.pipelines.assistant_live.audio import RATE, Samples
from visiovox.pipelines.assistant_live.avatar import AvatarPainter, Portrait, load_portrait
from visiovox.pipelines.assistant_live.avatar_stream import AvatarStream, SerialLink
from visiovox.pipelines.assistant_live.listener import POLL_S, Listener, speech_detector
from visiovox.pipelines.assistant_live.messages import (
    Command,
    Complete,
    EndReason,
    EndSession,
    EndTurn,
    Error,
    Interrupted,
    Outgoing,
    Processing,
    Ready,
    ResponseDone,
    Say,
    SessionEnded,
    SpeechStarted,
    Transcription,
)
from visiovox.pipelines.assistant_live.reply import LiveReply, ReplyOutcome
from visiovox.pipelines.assistant_live.spec import LiveAssistantParams
from visiovox.pipelines.assistant_live.turns import (
    Guess,
    Heard,
    Pending,
    PortraitImage,
    Rejected,
    Utterance,
    interrupts,
    turn_timings,
)
from visiovox.pipelines.assistant_live.visemes import SentenceVisemes
from visiovox.pipelines.context import LiveLink, RunContext
from visiovox.pipelines.voice_choice import answer_in, choose_voice


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, LiveAssistantParams)
    return Conversation.start(ctx, params).run()


class Conversation:
    """Hosts one live session until it ends; ``run`` answers the session's summary."""

    def __init__(
        self,
        *,
        ctx: RunContext,
        params: LiveAssistantParams,
        detector: SpeechDetector,
        stt: STTEngine,
        llm: LLMEngine,
        tts: TTSEngine,
        portrait: Portrait | None = None,
        visemes: SentenceVisemes | None = None,
    ) -> None:
        self._ctx = ctx
        self._visemes = visemes
        self._link: LiveLink = ctx.live()
        self._avatar: AvatarStream | None = None
        if portrait is not None:  # the avatar's thread sends too: one send at a time
            link = SerialLink(self._link)
            self._link = link
            self._avatar = AvatarStream(link, AvatarPainter(portrait), fps=params.fps)
        self._params = params
        self._stt = stt
        self._llm = llm
        self._tts = tts
        settings = ctx.settings
        self._idle_timeout_s = settings.live.idle_timeout_s
        self._max_history = settings.assistant.max_history_messages
        self._system = [m for m in params.history if m.role == "system"][:1]
        self._history = [
            ChatMessage(role=m.role, content=m.content)
            for m in params.history
            if m.role != "system"
        ]
        self._pending: deque[Pending] = deque()
        self._listener = Listener(self._link, detector)
        # From the last voiced sample to the end of an utterance the VAD reports.
        self._pad = ms_to_samples(settings.vad.speech_pad_ms)
        self._guess: Guess | None = None
        self._talking_until = 0.0  # when the client's playback of the last reply ends
        self._turns = 0
        self._interruptions = 0
        # The language of the last utterance (the session's, when fixed): its voice speaks.
        self._language = params.language
        self._fallbacks_logged: set[str] = set()

    @classmethod
    def start(cls, ctx: RunContext, params: LiveAssistantParams) -> Conversation:
        """Take the session's engines for its whole life (none are acquired per turn)."""
        return cls(
            ctx=ctx,
            params=params,
            detector=speech_detector(ctx),
            stt=ctx.engine(STT, STTEngine),  # type: ignore[type-abstract]  # mypy#4717
            llm=ctx.engine(LLM, LLMEngine),  # type: ignore[type-abstract]
            tts=ctx.engine(TTS, TTSEngine),  # type: ignore[type-abstract]
            portrait=load_portrait(ctx, None, size=params.size) if params.avatar else None,
            visemes=SentenceVisemes.of(ctx, fps=params.fps) if params.visemes else None,
        )

    def run(self) -> dict[str, Any]:
        self._send(Ready())
        if self._avatar is not None:
            self._avatar.start()
        self._listener.start()
        try:
            reason = self._loop()
        finally:
            self._listener.stop()
            if self._avatar is not None:
                self._avatar.stop()
            self._drop_guess()
        self._send(SessionEnded(reason))
        summary: dict[str, Any] = {
            "turns": self._turns,
            "interruptions": self._interruptions,
            "dropped": self._link.dropped,
            "ended": reason.value,
        }
        if self._avatar is not None:
            stats = self._avatar.stats
            summary["avatar"] = {
                "frames": stats.talking,
                "idle_frames": stats.idle,
                "late": stats.late,
            }
        return summary

    def _send(self, message: Outgoing) -> None:
        self._link.send(message.to_json())

    def _loop(self) -> EndReason:
        """Handle input until the session ends; answers why it ended."""
        while True:
            self._ctx.check_cancelled()
            if self._avatar is not None:
                self._avatar.check()
            if not self._pending:
                self._pull(timeout_s=POLL_S)
            if not self._pending:  # nothing, or audio that changed nothing yet
                if time.monotonic() - self._listener.last_input > self._idle_timeout_s:
                    return EndReason.IDLE
                continue
            if self._handle(self._pending.popleft()):
                return EndReason.END_SESSION

    # -- input ------------------------------------------------------------------------

    def _pull(self, *, timeout_s: float) -> None:
        """Move what the listener heard into the pending items."""
        self._pending.extend(self._listener.take(timeout_s=timeout_s))

    def _barged_in(self) -> bool:
        """Poll for input during a reply; True if any of it interrupts the reply."""
        self._ctx.check_cancelled()
        self._pull(timeout_s=0)
        return any(interrupts(item) for item in self._pending)

    # -- handling ---------------------------------------------------------------------

    def _handle(self, item: Pending) -> bool:
        """Handle one pending item; True when the session should end."""
        if isinstance(item, Utterance):
            self._answer(self._transcribe(item.samples), detected_at=time.perf_counter())
        elif isinstance(item, Heard):
            self._on_voice(item)
        elif isinstance(item, Rejected):
            self._error(item.code, item.message)  # the session goes on
        elif isinstance(item, PortraitImage):
            self._new_portrait(item.data)
        else:
            return self._on_command(item)
        return False

    def _on_voice(self, heard: Heard) -> None:
        event = heard.event
        if event.kind is VoiceEventKind.SPEECH_START:
            self._drop_guess()
            self._send(SpeechStarted())
            if time.monotonic() < self._talking_until:
                self._talking_until = 0.0
                self._interrupted()  # the reply is sent but the client still plays it
        elif event.kind is VoiceEventKind.PAUSE and event.end is not None:
            self._guess_at_pause(event.start, event.end, pause=heard.pause)
        elif event.end is not None:
            self._end_of_speech(event.start, event.end, detected_at=heard.at)

    def _guess_at_pause(self, start: int, end: int, *, pause: int) -> None:
        """Transcribe and prepare the reply now, in case the speech ends here; give up as
        soon as it goes on (a comma, a breath)."""
        self._drop_guess()
        went_on: Callable[[], bool] = lambda: self._listener.went_on(pause)  # noqa: E731
        started = time.perf_counter()
        text = self._transcribe(self._listener.slice(start, end))
        reply = self._reply(text, held=True) if text and not went_on() else None
        if reply is not None:
            try:
                reply.prepare(should_stop=went_on)
            except PipelineError:
                reply.drop()  # the real turn reports it
                reply = None
        guess = Guess(start, end, text, time.perf_counter() - started, reply)
        if went_on():
            if reply is not None:
                reply.drop()
            return
        self._guess = guess

    def _drop_guess(self) -> None:
        if self._guess is not None and self._guess.reply is not None:
            self._guess.reply.drop()
        self._guess = None

    def _end_of_speech(self, start: int, end: int, *, detected_at: float) -> None:
        guess = self._guess
        timings = {"speech_s": (end - start) / RATE}
        arrived_at = self._listener.arrived_at(max(start, end - self._pad))
        if arrived_at is not None:  # from the last voiced audio's arrival to its detection
            timings["end_detected"] = max(0.0, detected_at - arrived_at)
        if guess is not None and (guess.start, guess.end) == (start, end):
            self._guess = None
            heard, reply = guess.text, guess.reply
            timings.update(transcribe=0.0, speculative=guess.seconds)
        else:
            self._drop_guess()
            self._send(Processing("transcribe"))
            transcribing = time.perf_counter()
            heard, reply = self._transcribe(self._listener.slice(start, end)), None
            timings["transcribe"] = time.perf_counter() - transcribing
        self._listener.close_turn(end)
        self._answer(heard, detected_at=detected_at, timings=timings, reply=reply)

    def _on_command(self, command: Command) -> bool:
        if isinstance(command, EndSession):
            return True
        if isinstance(command, Say) and command.text.strip():
            self._answer(command.text.strip(), detected_at=time.perf_counter())
        elif isinstance(command, EndTurn):
            start, end = self._listener.end_turn_now()
            self._end_of_speech(start, end, detected_at=time.perf_counter())
        else:
            self._error("invalid_message", "send audio, end_turn, text, ping or end_session")
        return False

    # -- a turn -----------------------------------------------------------------------

    def _transcribe(self, samples: Samples) -> str:
        transcript = self._stt.transcribe(samples, language=self._params.language, utterance=True)
        text = transcript.text.strip()
        if text and transcript.language:
            self._language = transcript.language
        return text

    def _voice(self) -> str:
        """The voice of the language last heard, unless the session fixed one (``voice_choice``)."""
        choice = choose_voice(
            self._ctx.settings, engine=TTS, voice=self._params.voice, language=self._language
        )
        if choice.fallback is not None and choice.fallback not in self._fallbacks_logged:
            self._fallbacks_logged.add(choice.fallback)
            self._ctx.log(choice.fallback)
        return choice.voice

    def _reply(self, heard: str, *, held: bool = False) -> LiveReply:
        # The bundled SmolLM2 answers in English whatever it is asked; an upstream model
        # (llm.openai_http) is asked to answer in the user's language.
        asked = (
            [ChatMessage(role="system", content=answer_in(self._language))]
            if self._language and self._ctx.settings.llm.engine == "llm.openai_http"
            else []
        )
        messages = [
            *(ChatMessage(role=m.role, content=m.content) for m in self._system),
            *self._history,
            *asked,
            ChatMessage(role="user", content=heard),
        ]
        return LiveReply(
            link=self._link,
            llm=self._llm,
            tts=self._tts,
            voice=self._voice(),
            messages=messages,
            max_tokens=self._params.max_tokens,
            temperature=self._params.temperature,
            held=held,
            avatar=self._avatar,
            visemes=self._visemes,
        )

    def _answer(
        self,
        heard: str,
        *,
        detected_at: float,
        timings: dict[str, float] | None = None,
        reply: LiveReply | None = None,
    ) -> None:
        """Answer what was heard; ``reply`` is one prepared at the pause, if any."""
        if not heard:
            self._drop_guess()
            self._error("nothing_heard", "no speech was recognised in the utterance")
            return
        if reply is None:
            self._drop_guess()  # a suspended reply holds the model
        self._send(Transcription(heard))
        self._send(Processing("generate"))
        try:
            reply = reply or self._reply(heard)
            outcome = reply.finish(should_stop=self._barged_in)
        except PipelineError as exc:
            self._error(exc.code, exc.message)
            return
        self._turns += 1
        self._remember(heard, outcome)
        if outcome.interrupted:
            self._interrupted()
            return
        self._talking_until = time.monotonic() + outcome.audio_s
        self._send(ResponseDone(outcome.text))
        self._send(
            Complete(
                transcription=heard,
                text=outcome.text,
                usage=outcome.usage.to_json(),
                sentences=outcome.sentences,
                audio_s=round(outcome.audio_s, 3),
                speculative="speculative" in (timings or {}),
                dropped=self._link.dropped,
                timings=turn_timings(timings or {}, outcome, detected_at),
            )
        )

    def _remember(self, heard: str, outcome: ReplyOutcome) -> None:
        exchange = [
            ChatMessage(role="user", content=heard),
            ChatMessage(role="assistant", content=outcome.text),
        ]
        self._history = [*self._history, *exchange][-self._max_history :]
        stored = [{"role": m["role"], "content": m["content"]} for m in exchange]
        self._link.remember(self._params.session_id, stored)

    def _interrupted(self) -> None:
        self._interruptions += 1
        if self._avatar is not None:
            self._avatar.interrupt()  # no frame of the reply after the notice
        self._send(Interrupted())

    def _new_portrait(self, data: bytes) -> None:
        """Paint the avatar from ``data`` from now on; a bad one keeps the current one."""
        if self._avatar is None:
            self._error("invalid_message", "a portrait needs start_session with avatar: true")
            return
        try:
            portrait = load_portrait(self._ctx, data, size=self._params.size)
        except PipelineError as exc:
            self._error(exc.code, f"{exc.message}; the avatar keeps its current portrait")
            return
        self._avatar.use(portrait)

    def _error(self, code: str, message: str) -> None:
        self._send(Error(code, message))
