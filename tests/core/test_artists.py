"""Which stories a question names: exact, typo-tolerant, and not fooled by ordinary words."""

from __future__ import annotations

import pytest

from retrieval.artists import ArtistMatcher
from retrieval.results import StoryInfo

LUCIA = StoryInfo(
    "b", "b", "Lucía Condori", band="The Lake Nightingales", aliases=("Lake Nightingales",)
)
XIMENA = StoryInfo("a", "a", "Ximena Huamán", band="Sierra Nightingales")
# Whole words of a language model's vocabulary (the retriever passes the real one in).
LEXICON = ("condor", "the", "lake", "camera", "who", "wrote", "el", "pasa")


@pytest.fixture()
def matcher() -> ArtistMatcher:
    return ArtistMatcher([LUCIA, XIMENA], vocabulary=("the", "lake"), lexicon=LEXICON)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what did lucia condori sing first", ["b"]),
        ("wher was lucia condory born", ["b"]),  # a typo in the surname
        ("is ximna huaman the lead singer", ["a"]),  # typos in both names
        ("where did the lake nightingales form", ["b"]),
        ("sierra nightingales setlist?", ["a"]),
    ],
)
def test_names_are_found_despite_case_accents_and_typos(
    matcher: ArtistMatcher, question: str, expected: list[str]
) -> None:
    assert [story for story, _ in matcher.find(question)] == expected


def test_a_dictionary_word_one_letter_from_a_name_is_not_that_name(
    matcher: ArtistMatcher,
) -> None:
    # "condor" is 92% like "condori", but it is a word, not a misspelt surname.
    assert matcher.find("who wrote el condor pasa?") == []


def test_a_short_word_does_not_stand_in_for_another_in_a_band_name(
    matcher: ArtistMatcher,
) -> None:
    # "the nightingales" is 85% like "lake nightingales" as a whole string; it names
    # neither of the two bands called "... Nightingales".
    assert matcher.find("what did the nightingales singer lift above her head") == []


def test_a_misspelt_word_of_a_band_name_still_counts(matcher: ArtistMatcher) -> None:
    assert [s for s, _ in matcher.find("lake nightingale gig last night")] == ["b"]
