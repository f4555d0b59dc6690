"""The registry: names to specs, and each spec's ``run`` resolved only when asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel

from visiovox.pipelines.registry import PIPELINES, all_specs, get_spec, resolve_run
from visiovox.pipelines.spec import PipelineSpec


def test_every_pipeline_names_a_run_function_that_resolves() -> None:
    assert [spec.name for spec in all_specs()] == list(PIPELINES)
    for spec in all_specs():
        assert callable(resolve_run(spec)), spec.name


def test_a_run_is_resolved_once() -> None:
    tts = get_spec("tts")
    assert resolve_run(tts) is resolve_run(tts)


@pytest.mark.parametrize("reference", ["visiovox.pipelines.noop", "visiovox.pipelines.noop:", ""])
def test_a_run_reference_names_a_module_and_a_function(reference: str) -> None:
    with pytest.raises(ValueError, match=r"package\.module:function"):
        PipelineSpec(name="bad", summary="", params=BaseModel, run=reference)


def test_reading_every_spec_imports_no_run_module_and_no_engine() -> None:
    code = (
        "import sys\n"
        "from visiovox.pipelines.registry import all_specs\n"
        "all_specs()\n"
        "print(sorted(m for m in sys.modules if m.startswith('visiovox.')"
        " and (m.endswith('.run') or m.startswith('visiovox.engines'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
