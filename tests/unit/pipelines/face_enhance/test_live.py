"""Enhancement in a live face swap session: refused on a CPU worker, loaded on a GPU one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.enhancers import stand_in_settings
from tests.faces import ASTRONAUT, HOPPER
from visiovox.config import Settings
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.pipelines.face_enhance.live import require_live_device
from visiovox.pipelines.face_swap_live import spec as live_spec
from visiovox.pipelines.face_swap_live.run import LiveSwap
from visiovox.pipelines.testing import LocalContext, run_pipeline


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return stand_in_settings(tmp_path_factory.mktemp("live-enhance-models"))


def pool_on(settings: Settings, device: str) -> Iterator[EnginePool]:
    pool = EnginePool(settings=settings, device=device)
    yield pool
    pool.close()


@pytest.fixture
def cpu_pool(settings: Settings) -> Iterator[EnginePool]:
    yield from pool_on(settings, "cpu")


@pytest.fixture
def gpu_pool(settings: Settings) -> Iterator[EnginePool]:
    # No CUDA here: the ONNX session factory falls back to CPU; the session sees cuda:0.
    yield from pool_on(settings, "cuda:0")


@pytest.mark.parametrize("enhance", ["gfpgan", "codeformer"])
def test_a_cpu_hosted_session_asking_for_enhancement_is_refused_at_once(
    tmp_path: Path, cpu_pool: EnginePool, enhance: str
) -> None:
    ctx = LocalContext(root=tmp_path / "job", pool=cpu_pool, device="cpu")
    with pytest.raises(PipelineError) as caught:
        run_pipeline(live_spec.SPEC, {"enhance": enhance}, ctx)
    assert caught.value.code == "unsupported_on_device"
    assert f"enhance={enhance}" in caught.value.message and "GPU" in caught.value.message
    assert ctx.link.sent == []  # refused before the session said anything
    assert not any(stats.loaded for stats in cpu_pool.stats())  # nor loaded any engine


def test_only_enhancement_needs_a_gpu() -> None:
    require_live_device("cpu", "none")
    require_live_device("cuda:1", "codeformer")
    with pytest.raises(PipelineError):
        require_live_device("cpu", "gfpgan")


def test_a_gpu_hosted_session_holds_the_enhancer(tmp_path: Path, gpu_pool: EnginePool) -> None:
    ctx = LocalContext(root=tmp_path / "job", pool=gpu_pool, device="cuda:0")
    params = live_spec.LiveFaceSwapParams.model_validate({"enhance": "codeformer"})
    try:
        LiveSwap(ctx, params)
        held = {stats.name: stats.in_use for stats in gpu_pool.stats()}
    finally:
        ctx.release_engines()
    assert held.get("face.enhance_codeformer") == 1


def decoded(jpeg: bytes) -> np.ndarray:
    return np.asarray(cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR))


def session_answer(root: Path, pool: EnginePool, **params: object) -> bytes:
    """The JPEG a cuda:0-hosted session answers to the astronaut frame (hopper the source)."""
    ctx = LocalContext(root=root, pool=pool, device="cuda:0")
    link = ctx.link
    frame = ASTRONAUT.read_bytes()

    def answer(item: dict[str, object] | bytes) -> None:
        if item == {"type": "ready"}:
            link.put_frame(frame, seq=0)
        elif isinstance(item, bytes):
            link.put_command({"type": "end_session"}, frames=1)

    link.on_send = answer
    link.put_audio(HOPPER.read_bytes())  # the first binary message: the source face
    summary = run_pipeline(live_spec.SPEC, {"jpeg_quality": 95, **params}, ctx)
    assert summary is not None and summary["frames_out"] == 1, link.messages()
    (jpeg,) = [item for item in link.sent if isinstance(item, bytes)]
    return jpeg


def test_a_gpu_hosted_session_enhances_the_faces_it_swaps(
    tmp_path: Path, gpu_pool: EnginePool
) -> None:
    plain = session_answer(tmp_path / "plain", gpu_pool)
    enhanced = session_answer(tmp_path / "enhanced", gpu_pool, enhance="gfpgan", enhance_blend=1.0)
    # The GFPGAN stand-in paints white discs on the face's five points (y 100..140).
    whiter = (decoded(enhanced).min(axis=2) > 230) & (decoded(plain).min(axis=2) < 200)
    rows, _ = np.nonzero(whiter)
    assert len(rows) >= 10, len(rows)  # five discs of about 1.7 px radius: 27 here
    assert rows.min() >= 90 and rows.max() <= 150


def test_enhance_in_start_session_is_checked() -> None:
    with pytest.raises(ValueError):
        live_spec.LiveFaceSwapParams.model_validate({"enhance": "gpen"})
    with pytest.raises(ValueError):
        live_spec.LiveFaceSwapParams.model_validate({"enhance_blend": 2})
