"""Enhancement in a live face swap session: refused on a CPU worker, loaded on a GPU one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.enhancers import stand_in_settings
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


def test_enhance_in_start_session_is_checked() -> None:
    with pytest.raises(ValueError):
        live_spec.LiveFaceSwapParams.model_validate({"enhance": "gpen"})
    with pytest.raises(ValueError):
        live_spec.LiveFaceSwapParams.model_validate({"enhance_blend": 2})
