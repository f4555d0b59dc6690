"""The assistant asks an upstream model (``llm.openai_http``) to answer in the user's language."""

from __future__ import annotations

from pathlib import Path

from tests.unit.engines.llm.chat_server import ChatServer, serve_chat
from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.pipelines.assistant.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline


def test_the_system_prompt_asks_for_the_users_language(tmp_path: Path) -> None:
    with serve_chat(ChatServer(pieces=("Olá", "."))) as server:
        settings = load_settings(
            models={"cache_dir": tmp_path / "models"},
            llm={"engine": "llm.openai_http", "base_url": server.base_url, "api_key": None},
            tts={"language_voices": {"pt": "joe"}},
        )
        pool = EnginePool(settings=settings, device="cpu")
        try:
            ctx = LocalContext(root=tmp_path / "job", pool=pool)
            history = [{"role": "system", "content": "Be brief."}]
            params = {"text": "Qual é a capital do Brasil?", "language": "pt", "history": history}
            result = run_pipeline(SPEC, params, ctx)
        finally:
            pool.close()
    assert result is not None and result["text"] == "Olá."
    assert (result["language"], result["voice"]) == ("pt", "joe")
    assert server.bodies[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "The user speaks Portuguese. Answer in Portuguese."},
        {"role": "user", "content": "Qual é a capital do Brasil?"},
    ]
