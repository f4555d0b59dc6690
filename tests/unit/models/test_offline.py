"""Offline mode: the switches that turn it on, and the error a missing model then gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.models.conftest import payload, url_entry
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import Settings
from visiovox.models.cache import ensure_model
from visiovox.models.errors import ModelUnavailable
from visiovox.models.transfer import FetchOptions


@pytest.mark.parametrize(
    "variable", ["VISIOVOX_OFFLINE", "HF_HUB_OFFLINE", "VISIOVOX_MODELS__OFFLINE"]
)
def test_each_switch_turns_offline_on(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().models.offline is False
    monkeypatch.setenv(variable, "1")
    assert Settings().models.offline is True
    assert FetchOptions.from_settings(Settings()).offline is True


def test_a_false_switch_leaves_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert Settings().models.offline is False


def test_offline_error_names_the_model_and_the_pull_command(tmp_path: Path) -> None:
    body = payload(1000)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        with pytest.raises(ModelUnavailable) as caught:
            ensure_model(entry, tmp_path, options=FetchOptions(offline=True))
    assert mirror.gets == []
    error = caught.value
    assert error.code == "model_unavailable" and error.model_id == "tiny"
    assert error.message.startswith("model tiny is not available")
    assert "offline mode" in error.message
    assert "`visiovox models pull tiny`" in error.message


def test_offline_still_uses_what_the_cache_holds(tmp_path: Path) -> None:
    body = payload(1000)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        ensure_model(entry, tmp_path)
        folder = ensure_model(entry, tmp_path, options=FetchOptions(offline=True))
    assert (folder / "w.bin").read_bytes() == body
