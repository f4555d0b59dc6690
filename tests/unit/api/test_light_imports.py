"""The gateway never loads an engine: no onnxruntime, cv2, faster_whisper, piper, llama_cpp, dlib.

Checked in a fresh interpreter (this one may have imported them for other
tests) after the app starts, lists pipelines and models, takes a params-only job and an
audio upload for ``stt``, so every import the gateway makes on those paths counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.unit.api.helpers import wav_bytes
from visiovox.config import Settings

HEAVY = ("onnxruntime", "cv2", "faster_whisper", "piper", "llama_cpp", "dlib", "visiovox.engines")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from fastapi.testclient import TestClient
    from visiovox.api.app import create_app
    from visiovox.config import Settings

    settings = Settings.model_validate_json(sys.argv[1])
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/pipelines").status_code == 200
        assert client.get("/v1/models").status_code == 200
        assert client.post("/v1/jobs/noop", json={}).status_code == 202
        audio = Path(sys.argv[2]).read_bytes()
        response = client.post("/v1/jobs/stt", files={"file": ("a.wav", audio)})
        assert response.status_code == 202, response.text
    heavy = json.loads(sys.argv[3])
    print(json.dumps(sorted(
        name for name in sys.modules if any(name == h or name.startswith(h + ".") for h in heavy)
    )))
    """
)


def test_the_gateway_imports_no_engine(settings: Settings, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(wav_bytes(0.3))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, settings.model_dump_json(), str(audio), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
