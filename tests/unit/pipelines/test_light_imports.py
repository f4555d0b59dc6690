"""The gateway imports pipeline specs and media; neither may pull in an engine runtime."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("onnxruntime", "faster_whisper", "ctranslate2", "piper", "cv2", "llama_cpp", "torch")


def test_specs_and_media_stay_light() -> None:
    code = (
        "import sys\n"
        "import visiovox.pipelines.tts.spec, visiovox.pipelines.stt.spec\n"
        "import visiovox.pipelines.testing, visiovox.pipelines.registry\n"
        "visiovox.pipelines.registry.all_specs()\n"
        "import visiovox.media.sniff, visiovox.media.probe, visiovox.media.audio\n"
        "import visiovox.media.subtitles, visiovox.models.manifest, visiovox.models.cache\n"
        "import visiovox.engines.tts.base, visiovox.engines.stt.base\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
