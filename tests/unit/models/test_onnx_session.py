"""The ONNX Runtime session factory on this CPU-only machine, with graphs the test builds."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from visiovox.config import Settings, load_settings
from visiovox.models.onnx_session import create_session, plan_providers, trt_cache_dir, zero_inputs


def relu_graph(path: Path) -> Path:
    """y = relu(x) + n, with a dynamic batch on x and an int64 input n."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    n = helper.make_tensor_value_info("n", TensorProto.INT64, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["r", "nf"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "tiny", [x, n], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        models={"cache_dir": tmp_path / "models"},
        onnx={"providers": ["tensorrt", "cuda", "cpu"], "intra_op_threads": 2},
    )


def test_cpu_worker_gets_cpu_and_a_warm_up(tmp_path: Path, settings: Settings) -> None:
    loaded = create_session(relu_graph(tmp_path / "m.onnx"), settings=settings, device="cpu")
    assert loaded.providers == ("CPUExecutionProvider",)
    assert loaded.warmup_s is not None and loaded.warmup_s > 0
    assert loaded.session.get_session_options().intra_op_num_threads == 2
    [output] = loaded.session.run(
        None, {"x": np.array([[-1, 2, -3]], np.float32), "n": np.array([1])}
    )
    assert output.tolist() == [[1.0, 3.0, 1.0]]


def test_pool_threads_do_not_spin_unless_configured(tmp_path: Path, settings: Settings) -> None:
    graph = relu_graph(tmp_path / "m.onnx")
    entries = ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning")
    quiet = create_session(graph, settings=settings, device="cpu").session.get_session_options()
    assert [quiet.get_session_config_entry(entry) for entry in entries] == ["0", "0"]
    spinning = settings.model_copy(
        update={"onnx": settings.onnx.model_copy(update={"allow_spinning": True})}
    )
    busy = create_session(graph, settings=spinning, device="cpu").session.get_session_options()
    assert [busy.get_session_config_entry(entry) for entry in entries] == ["1", "1"]


def test_missing_gpu_providers_fall_back_to_cpu_and_say_why(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="visiovox.models.onnx_session")
    loaded = create_session(relu_graph(tmp_path / "m.onnx"), settings=settings, device="cuda:0")
    assert loaded.providers == ("CPUExecutionProvider",)
    skipped = dict(loaded.skipped)
    assert set(skipped) == {"tensorrt", "cuda"}
    assert "TensorrtExecutionProvider is not in this onnxruntime build" in skipped["tensorrt"]
    assert "CUDAExecutionProvider is not in this onnxruntime build" in skipped["cuda"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "provider tensorrt skipped" in m and "not in this onnxruntime build" in m for m in warnings
    )
    assert any("warm-up" in r.getMessage() for r in caplog.records)


def test_without_warm_up(tmp_path: Path, settings: Settings) -> None:
    loaded = create_session(
        relu_graph(tmp_path / "m.onnx"), settings=settings, device="cpu", warmup=False
    )
    assert loaded.warmup_s is None


def test_warm_up_inputs_are_zeros_with_dynamic_dims_as_one(tmp_path: Path) -> None:
    session = ort.InferenceSession(
        str(relu_graph(tmp_path / "m.onnx")), providers=["CPUExecutionProvider"]
    )
    feed = zero_inputs(session)
    assert feed["x"].shape == (1, 3) and feed["x"].dtype == np.float32 and not feed["x"].any()
    assert feed["n"].shape == (1,) and feed["n"].dtype == np.int64


def test_gpu_plan_carries_tensorrt_and_cuda_options(settings: Settings) -> None:
    available = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    plan = plan_providers(settings, device="cuda:1", available=available)
    assert plan.skipped == ()
    (trt, trt_options), (cuda, cuda_options), cpu = plan.providers
    assert (trt, cuda, cpu) == tuple(available)
    cache = trt_cache_dir(settings)
    assert cache == settings.models.cache_dir / ".cache" / "trt" / ort.__version__
    assert trt_options["device_id"] == 1 and trt_options["trt_fp16_enable"] is True
    assert (
        trt_options["trt_engine_cache_path"] == str(cache) == trt_options["trt_timing_cache_path"]
    )
    assert cache.is_dir()
    assert cuda_options["device_id"] == 1


def test_provider_order_follows_the_config(tmp_path: Path) -> None:
    settings = load_settings(models={"cache_dir": tmp_path}, onnx={"providers": ["cuda", "cpu"]})
    available = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    plan = plan_providers(settings, device="cuda:0", available=available)
    assert [p if isinstance(p, str) else p[0] for p in plan.providers] == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    cpu_only = plan_providers(settings, device="cpu", available=available)
    assert cpu_only.providers == ("CPUExecutionProvider",)
    assert dict(cpu_only.skipped)["cuda"].startswith("the worker's device is cpu")
