"""Enhancement in a live face swap session: on GPU workers only.

GFPGAN and CodeFormer take hundreds of milliseconds a face on a CPU, far over
a live frame's budget, so a session hosted by a CPU worker that asks for
``enhance`` is refused with ``unsupported_on_device`` before it loads anything;
offline ``face-swap`` and ``face-enhance`` jobs run them on any device.
"""

from __future__ import annotations

from visiovox.errors import PipelineError


def require_live_device(device: str, enhance: str) -> None:
    """Refuse ``enhance`` (other than ``none``) in a live session on a non-CUDA ``device``."""
    if enhance == "none" or device.startswith("cuda"):
        return
    raise PipelineError(
        "unsupported_on_device",
        f"enhance={enhance} in a live session needs a GPU worker and this session is hosted "
        f"on {device} (the enhancers take hundreds of ms a face on a CPU); use enhance=none, "
        "or enhance in a face-swap or face-enhance job",
    )
