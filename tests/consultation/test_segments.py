from __future__ import annotations

import pytest

from gateway.consultation.segments import (
    GSM_BASIC,
    encoding,
    length,
    non_gsm_characters,
    segment_count,
)


def test_empty_text_is_one_segment() -> None:
    assert segment_count("") == 1
    assert encoding("") == "GSM-7"


@pytest.mark.parametrize(
    ("size", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_limits(size: int, segments: int) -> None:
    assert segment_count("a" * size) == segments


@pytest.mark.parametrize(
    ("size", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_limits(size: int, segments: int) -> None:
    text = "ж" * size
    assert encoding(text) == "UCS-2"
    assert segment_count(text) == segments


@pytest.mark.parametrize("char", list("^{}\\[]~|€\f"))
def test_extension_characters_count_two_septets(char: str) -> None:
    assert encoding(char) == "GSM-7"
    assert length(char) == 2
    assert segment_count(char * 80) == 1
    assert segment_count(char * 81) == 2
    assert segment_count("a" * 159 + char) == 2


def test_extension_character_is_not_split_across_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit 2 x 153, but the escape pair cannot be split
    text = "a" * 152 + "{" + "a" * 152
    assert length(text) == 306
    assert segment_count(text) == 3
    assert segment_count("a" * 151 + "{" + "a" * 153) == 2


def test_emoji_switches_to_ucs2_and_counts_two_units() -> None:
    assert encoding("Thanks 👍") == "UCS-2"
    assert length("👍") == 2
    assert segment_count("👍" * 35) == 1
    assert segment_count("👍" * 35 + "a") == 2


def test_surrogate_pair_is_not_split_across_parts() -> None:
    text = "ж" * 66 + "👍" + "ж" * 66  # 134 units; the emoji straddles the 67-unit boundary
    assert length(text) == 134
    assert segment_count(text) == 3


def test_accents_in_the_gsm_table_stay_gsm7() -> None:
    assert encoding("café à l'école, señor, Müller, Ørsted") == "GSM-7"
    assert encoding("forêt") == "UCS-2"
    assert encoding("ça") == "UCS-2"  # only the capital Ç is in GSM 03.38
    assert non_gsm_characters("forêt, ça, forêt") == ["ê", "ç"]


def test_one_non_gsm_character_makes_the_whole_text_ucs2() -> None:
    text = "a" * 100 + "’"  # a curly apostrophe
    assert encoding(text) == "UCS-2"
    assert segment_count(text) == 2
    assert segment_count(text.replace("’", "'")) == 1


def test_basic_table() -> None:
    specials = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r !\"#%&'()*+,-./:;<=>?"
    assert len(GSM_BASIC) == 127  # 128 codes minus the escape
    for char in specials + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert char in GSM_BASIC, char
    for char in "`\t\x0bêçÀÈ":
        assert encoding(char) == "UCS-2", char
