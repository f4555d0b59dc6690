"""The pipelines a deployment offers, by name: spec modules imported on first lookup.

The registry maps each name to the module that holds its spec, and resolves a
spec's ``run`` reference to the function on first use; the gateway only ever
asks for specs, so it never imports a run module (nor the engines those import).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import cast

from visiovox.pipelines.spec import PipelineSpec, RunFunction

PIPELINES: dict[str, str] = {
    "noop": "visiovox.pipelines.noop.spec",
    "noop-gpu": "visiovox.pipelines.noop.spec:GPU_SPEC",
    "tts": "visiovox.pipelines.tts.spec",
    "visemes": "visiovox.pipelines.visemes.spec",
    "stt": "visiovox.pipelines.stt.spec",
    "face-swap": "visiovox.pipelines.face_swap.spec",
    "face-enhance": "visiovox.pipelines.face_enhance.spec",
    "chat": "visiovox.pipelines.chat.spec",
    "assistant": "visiovox.pipelines.assistant.spec",
    "lip-sync": "visiovox.pipelines.lip_sync.spec",
    "talking-avatar": "visiovox.pipelines.talking_avatar.spec",
    "assistant-live": "visiovox.pipelines.assistant_live.spec",
    "face-swap-live": "visiovox.pipelines.face_swap_live.spec",
    "voice-validate": "visiovox.pipelines.voice_validate.spec",
    "voice-convert": "visiovox.pipelines.voice_convert.spec",
    "voice-convert-live": "visiovox.pipelines.voice_convert_live.spec",
}


class UnknownPipeline(KeyError):
    """No pipeline is registered under that name."""


@cache
def get_spec(name: str) -> PipelineSpec:
    """The spec of pipeline ``name``: ``module`` means its ``SPEC``, ``module:ATTR`` another."""
    try:
        module_name, _, attr = PIPELINES[name].partition(":")
    except KeyError as exc:
        raise UnknownPipeline(name) from exc
    spec = getattr(importlib.import_module(module_name), attr or "SPEC")
    if not isinstance(spec, PipelineSpec):
        raise TypeError(f"{PIPELINES[name]} is not a PipelineSpec")
    return spec


def all_specs() -> list[PipelineSpec]:
    return [get_spec(name) for name in PIPELINES]


def resolve_run(spec: PipelineSpec) -> RunFunction:
    """The function ``spec.run`` names, its module imported on first use (the worker's)."""
    return _function(spec.run)


@cache
def _function(reference: str) -> RunFunction:
    module_name, _, attr = reference.partition(":")
    function = getattr(importlib.import_module(module_name), attr)
    if not callable(function):
        raise TypeError(f"{reference} is not a function")
    return cast(RunFunction, function)
