"""An input the probe timed under its ``InputSpec.min_duration_s`` is refused at submission."""

from __future__ import annotations

import pytest

from visiovox.api.errors import ApiError
from visiovox.api.submission import new_job
from visiovox.jobs.model import InputFile, Job
from visiovox.pipelines.registry import get_spec


def _wav(field: str, duration_s: float | None) -> InputFile:
    return InputFile(
        field=field, name=f"{field}.wav", content_type="audio/wav", size=1000, duration_s=duration_s
    )


def _submit(reference_s: float | None) -> Job:
    return new_job(
        get_spec("voice-convert"),
        job_id="j_test",
        owner="alice",
        params={},
        inputs=[_wav("audio", 1.0), _wav("reference", reference_s)],
    )


def test_a_short_reference_is_refused_with_its_own_code() -> None:
    with pytest.raises(ApiError) as refused:
        _submit(2.9)
    assert (refused.value.status, refused.value.code) == (422, "reference_too_short")
    assert "reference lasts 2.90 s" in refused.value.message


@pytest.mark.parametrize("reference_s", [3.0, 59.0, None])
def test_a_long_enough_or_untimed_reference_passes(reference_s: float | None) -> None:
    # None: the probe could not time it, and the worker checks the decoded length.
    job = _submit(reference_s)
    assert [item.field for item in job.inputs] == ["audio", "reference"]
    assert job.pipeline == "voice-convert"
