"""espeak-ng's IPA phonemes (Piper's phonemes) to Oculus visemes, with their durations.

Piper speaks every voice from espeak-ng phonemes, one Unicode code point each,
so one table of IPA symbols serves every language of its voices; it covers
English, Portuguese, Russian and Mandarin (pinyin through espeak's ``cmn``)
and most other European ones. The table (``VISEME_SYMBOLS``) groups symbols by
the viseme their mouth shape is closest to:

| viseme | symbols |
| --- | --- |
| sil | ``^ $ _`` (Piper's start, end and padding), punctuation ``. , ; : ! ? ¡ ¿ — … " ( )`` |
| PP | ``p b m ɓ ʙ`` |
| FF | ``f v ɱ ʋ ɸ β`` |
| TH | ``θ ð`` |
| DD | ``t d ɗ ʈ ɖ ɾ ɽ`` |
| kk | ``k g ɡ ŋ x ɣ q ɢ χ ʁ h ɦ ħ ʕ ʔ c ɟ`` |
| CH | ``ʃ ʒ ɕ ʑ ʂ ʐ ç ʝ ʧ ʤ ʨ ʥ`` |
| SS | ``s z ʦ ʣ`` |
| nn | ``n ɲ ɳ ɴ l ɫ ɭ ʎ ʟ ɬ ɮ`` |
| RR | ``r ɹ ɻ ʀ ɚ ɝ`` |
| aa | ``a ɑ ɐ æ ʌ ä ɶ`` |
| E | ``e ɛ ə ɜ ɘ ɤ`` |
| I | ``i ɪ ɨ ᵻ ɯ j`` |
| O | ``o ɔ ɒ ɞ ø œ ɵ`` |
| U | ``u ʊ ʉ y ʏ w ɥ ʍ`` |

Symbols that only modify a neighbour take no viseme of their own: a stress
mark (``ˈ ˌ``) gives its time to the phoneme after it; a length mark (``ː ˑ``),
a diacritic (combining marks such as Portuguese nasal ``◌̃``), a modifier letter
(Russian palatal ``ʲ``, aspiration ``ʰ``), a tone letter or digit, a word
space shorter than ``PAUSE_S`` and any symbol the table lacks give their time
to the phoneme before it. A longer space is a pause (``sil``). Mandarin's
tones come as digits after the syllable, so they lengthen its last phoneme;
espeak writes the retroflex ``ʈʂ`` as ``ts.``, whose dot reads as a short ``sil``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from visiovox.engines.visemes.oculus import SILENCE
from visiovox.engines.visemes.timeline import VisemeSegment

VISEME_SYMBOLS: Final = {
    "sil": '^$_.,;:!?¡¿—–…"()«»',
    "PP": "pbmɓʙ",
    "FF": "fvɱʋɸβ",
    "TH": "θð",
    "DD": "tdɗʈɖɾɽ",
    "kk": "kgɡŋxɣqɢχʁhɦħʕʔcɟ",
    "CH": "ʃʒɕʑʂʐçʝʧʤʨʥ",
    "SS": "szʦʣ",
    "nn": "nɲɳɴlɫɭʎʟɬɮ",
    "RR": "rɹɻʀɚɝ",
    "aa": "aɑɐæʌäɶ",
    "E": "eɛəɜɘɤ",
    "I": "iɪɨᵻɯj",
    "O": "oɔɒɞøœɵ",
    "U": "uʊʉyʏwɥʍ",
}
SYMBOL_VISEMES: Final = {
    symbol: viseme for viseme, symbols in VISEME_SYMBOLS.items() for symbol in symbols
}
# Marks that belong to the phoneme after them.
LEADING_MARKS: Final = frozenset("ˈˌ")
WORD_SPACE: Final = " "
# A word space at least this long is a pause in the speech, not a join between words.
PAUSE_S: Final = 0.08


def phoneme_viseme(symbol: str) -> str | None:
    """The viseme of one phoneme symbol; None for one that modifies a neighbour.

    A voice that joins vowel clusters into one phoneme (``aɪ``) takes the viseme
    of the cluster's first symbol the table knows.
    """
    for part in symbol:
        viseme = SYMBOL_VISEMES.get(part)
        if viseme is not None:
            return viseme
    return None


def phoneme_segments(phonemes: Iterable[tuple[str, float]]) -> list[VisemeSegment]:
    """Viseme segments, back to back from 0 s, of ``(symbol, seconds)`` phonemes in order.

    The segments' total time is the phonemes' total time: a modifier's time goes
    to its neighbour (see the module's docstring), and neighbours with the same
    viseme merge into one segment.
    """
    segments: list[VisemeSegment] = []
    time_s = 0.0
    carried_s = 0.0  # a stress mark's time, waiting for the phoneme after it
    for symbol, seconds in phonemes:
        if symbol in LEADING_MARKS:
            carried_s += seconds
            continue
        viseme = phoneme_viseme(symbol)
        if symbol == WORD_SPACE:
            viseme = SILENCE if seconds >= PAUSE_S else None
        if viseme is None and segments:
            time_s += seconds
            segments[-1] = segments[-1].extended(end_s=time_s, phonemes=symbol)
            continue
        viseme = viseme or SILENCE
        start_s = time_s
        time_s += carried_s + seconds
        carried_s = 0.0
        if segments and segments[-1].viseme == viseme:
            segments[-1] = segments[-1].extended(end_s=time_s, phonemes=symbol)
        else:
            segments.append(
                VisemeSegment(viseme=viseme, start_s=start_s, end_s=time_s, phonemes=symbol)
            )
    if carried_s and segments:
        segments[-1] = segments[-1].extended(end_s=time_s + carried_s)
    return segments
