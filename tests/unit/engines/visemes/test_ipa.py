"""espeak-ng's phonemes map to visemes in every voice's language; modifiers join neighbours."""

from __future__ import annotations

import unicodedata

import pytest
from piper.phonemize_espeak import EspeakPhonemizer

from visiovox.engines.visemes.ipa import SYMBOL_VISEMES, phoneme_segments, phoneme_viseme
from visiovox.engines.visemes.oculus import VISEMES

SENTENCES = {
    "en-us": "The quick brown fox jumps over the lazy dog; she measured church bridges.",
    "pt-br": "Não há pão na mesa, mas o coração do João é grande. Trabalho, filho, chuva.",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю. Щука.",
    "cmn": "我们今天去学校学习中文，你好吗？谢谢。",
}
# Unicode categories of symbols that only modify a neighbour: modifier letters
# (stress, length, palatal), combining marks (nasal tilde), spaces, tone digits.
MODIFIER_CATEGORIES = {"Lm", "Mn", "Sk", "Zs", "Nd"}


def test_every_symbol_maps_to_one_of_the_15_visemes() -> None:
    assert set(SYMBOL_VISEMES.values()) == set(VISEMES)


@pytest.mark.parametrize("voice", sorted(SENTENCES))
def test_espeak_phonemes_of_each_language_are_visemes_or_modifiers(voice: str) -> None:
    phonemes = [
        s for sentence in EspeakPhonemizer().phonemize(voice, SENTENCES[voice]) for s in sentence
    ]
    unmapped = {s for s in phonemes if phoneme_viseme(s) is None}
    assert {unicodedata.category(s) for s in unmapped} <= MODIFIER_CATEGORIES, unmapped
    mapped = [phoneme_viseme(s) for s in phonemes if phoneme_viseme(s) is not None]
    assert len(set(mapped)) >= 8  # a real sentence moves through many mouth shapes


def test_stress_goes_to_the_next_phoneme_length_to_the_previous() -> None:
    segments = phoneme_segments(
        [("^", 0.05), ("m", 0.06), ("ˈ", 0.02), ("u", 0.1), ("ː", 0.05), ("$", 0.1)]
    )
    assert [(s.viseme, s.phonemes) for s in segments] == [
        ("sil", "^"),
        ("PP", "m"),
        ("U", "uː"),
        ("sil", "$"),
    ]
    assert segments[1].end_s == pytest.approx(0.11)
    assert segments[2].end_s - segments[2].start_s == pytest.approx(0.17)
    assert segments[-1].end_s == pytest.approx(0.38)


def test_a_short_word_space_joins_a_long_one_is_a_pause() -> None:
    joined = phoneme_segments([("b", 0.05), (" ", 0.02), ("p", 0.05)])
    paused = phoneme_segments([("b", 0.05), (" ", 0.2), ("p", 0.05)])
    assert [s.viseme for s in joined] == ["PP"]
    assert [s.viseme for s in paused] == ["PP", "sil", "PP"]


def test_a_vowel_cluster_takes_its_first_vowel() -> None:
    assert phoneme_viseme("aɪ") == "aa"
    assert phoneme_viseme("oʊ") == "O"
