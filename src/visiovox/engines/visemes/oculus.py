"""The 15 Oculus visemes and the ARKit blendshape weights each one stands for.

The visemes are Meta's Oculus Lipsync set (``sil PP FF TH DD kk CH SS nn RR aa
E I O U``), the names Ready Player Me and TalkingHead avatars carry as
``viseme_<name>`` morph targets. A head rigged with Apple's ARKit blendshapes
instead takes ``VISEME_BLENDSHAPES``: for each viseme, the weights (0–1) of the
mouth blendshapes that make its shape. A frame that blends visemes blends their
weights the same way (``blendshape_weights``). Unlisted blendshapes are 0.

The table is this project's own, set from ARKit's definitions (``jawOpen``
opens the jaw; ``mouthClose`` brings the lips together against an open jaw;
``mouthFunnel``/``mouthPucker`` round and push them out; ``mouthRoll*`` turn
them in; ``mouthPress*`` press them together; ``mouthShrug*`` raise them;
``mouthSmile*``/``mouthStretch*`` spread the corners up and sideways):

| viseme | sounds | shape |
| --- | --- | --- |
| sil | silence | mouth at rest, closed |
| PP | p b m | lips pressed shut |
| FF | f v | lower lip under the upper teeth |
| TH | θ ð | tongue between the teeth |
| DD | t d | jaw a little open, lips neutral |
| kk | k g ŋ h | jaw open, tongue back |
| CH | ʃ ʒ tʃ dʒ | lips pushed out, teeth close |
| SS | s z | teeth close, corners spread |
| nn | n l | jaw a little open |
| RR | r ɹ ɚ | lips slightly rounded |
| aa | a ɑ æ ʌ | jaw wide open |
| E | e ɛ ə | jaw half open, spread |
| I | i ɪ j | corners spread, jaw nearly closed |
| O | o ɔ | rounded, jaw open |
| U | u ʊ w y | rounded and pushed out, jaw nearly closed |
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

VISEMES: Final = (
    "sil",
    "PP",
    "FF",
    "TH",
    "DD",
    "kk",
    "CH",
    "SS",
    "nn",
    "RR",
    "aa",
    "E",
    "I",
    "O",
    "U",
)
SILENCE: Final = "sil"

BLENDSHAPES: Final = (
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthShrugLower",
    "mouthShrugUpper",
    "tongueOut",
)


def _both(name: str, weight: float) -> dict[str, float]:
    """A left/right pair at the same weight (``mouthSmile`` -> Left and Right)."""
    return {f"{name}Left": weight, f"{name}Right": weight}


VISEME_BLENDSHAPES: Final = MappingProxyType(
    {
        "sil": {},
        "PP": {
            "jawOpen": 0.05,
            "mouthClose": 0.05,
            **_both("mouthPress", 0.55),
            "mouthRollLower": 0.25,
            "mouthRollUpper": 0.2,
        },
        "FF": {"jawOpen": 0.08, "mouthRollLower": 0.6, "mouthShrugUpper": 0.25},
        "TH": {"jawOpen": 0.15, "tongueOut": 0.35, **_both("mouthStretch", 0.1)},
        "DD": {"jawOpen": 0.2, **_both("mouthStretch", 0.2), "mouthShrugUpper": 0.1},
        "kk": {"jawOpen": 0.25, **_both("mouthStretch", 0.25)},
        "CH": {
            "jawOpen": 0.1,
            "mouthFunnel": 0.5,
            "mouthPucker": 0.3,
            "mouthShrugLower": 0.2,
            "mouthShrugUpper": 0.3,
        },
        "SS": {"jawOpen": 0.05, **_both("mouthSmile", 0.3), **_both("mouthStretch", 0.4)},
        "nn": {"jawOpen": 0.15, **_both("mouthStretch", 0.2)},
        "RR": {"jawOpen": 0.15, "mouthFunnel": 0.35, "mouthPucker": 0.3},
        "aa": {"jawOpen": 0.65, **_both("mouthStretch", 0.1)},
        "E": {"jawOpen": 0.35, **_both("mouthSmile", 0.2), **_both("mouthStretch", 0.35)},
        "I": {"jawOpen": 0.2, **_both("mouthSmile", 0.45), **_both("mouthStretch", 0.3)},
        "O": {"jawOpen": 0.4, "mouthFunnel": 0.6, "mouthPucker": 0.3},
        "U": {"jawOpen": 0.15, "mouthFunnel": 0.4, "mouthPucker": 0.8},
    }
)

# Rows: VISEMES; columns: BLENDSHAPES.
BLENDSHAPE_MATRIX: Final[npt.NDArray[np.float32]] = np.array(
    [[VISEME_BLENDSHAPES[viseme].get(shape, 0.0) for shape in BLENDSHAPES] for viseme in VISEMES],
    dtype=np.float32,
)
VISEME_INDEX: Final = MappingProxyType({name: index for index, name in enumerate(VISEMES)})


def blendshape_weights(viseme_weights: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Blendshape weights of frames whose viseme weights are the rows of ``viseme_weights``."""
    return np.asarray(viseme_weights @ BLENDSHAPE_MATRIX, dtype=np.float32)
