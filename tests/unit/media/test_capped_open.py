"""No video decoder allocates a frame over the pixel cap, whatever the container says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import bombs

# Opens the file as the gateway's probe and the worker's frame reader do, and
# reports how much the process's peak memory grew while doing it.
_MEASURE = """
import json, resource, sys
from pathlib import Path
from visiovox.media.errors import MediaError
from visiovox.media.probe import probe_media
from visiovox.media.video_frames import read_frames
from visiovox.media.kinds import MediaKind

path, cap = Path(sys.argv[1]), 4_000_000
codes = []
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for attempt in (
    lambda: probe_media(path, kind=MediaKind.VIDEO, max_pixels=cap),
    lambda: read_frames(path, max_side=None, max_bytes=2**30, max_pixels=cap),
):
    try:
        attempt()
        codes.append(None)
    except MediaError as exc:
        codes.append(exc.code)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"codes": codes, "grown_mb": grown / 1024}))
"""


@pytest.mark.parametrize("declared", [None, (16, 16)], ids=["honest-header", "1x1-lie"])
def test_a_frame_over_the_cap_is_never_decoded(
    tmp_path: Path, declared: tuple[int, int] | None
) -> None:
    path = tmp_path / "bomb.avi"  # 8000x8000 grey: 61 MiB decoded from a few KB
    path.write_bytes(bombs.avi_of_png(8_000, 8_000, declared=declared))
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    measured = json.loads(result.stdout)
    assert measured["codes"] == ["invalid_media", "invalid_media"]
    assert measured["grown_mb"] < 20, measured
