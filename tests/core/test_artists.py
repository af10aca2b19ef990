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


def test_stories_named_equally_well_come_in_story_order() -> None:
    # Two stories of one artist: the question names both, and the first story's passages
    # join the candidates. Which is first must not change from one process to the next.
    stories = [StoryInfo(f"s{i}", f"Part {i}", "Ximena Huamán") for i in range(6)]
    for order in (stories, stories[::-1]):
        found = ArtistMatcher(order).find("where was ximena huaman born")
        assert [story for story, _ in found] == [s.story_id for s in order]


# --- initials -----------------------------------------------------------------------------------

AIGERIM = StoryInfo("c", "c", "Aigerim Nurlanova", aliases=("Aigerim", "A. N."))
# Ordinary words the initials could be mistaken for, as the model's vocabulary holds them.
WORDS = (*LEXICON, "a", "an", "in", "n", "what", "does", "artist", "play", "tb")


def initials_matcher(*stories: StoryInfo) -> ArtistMatcher:
    return ArtistMatcher([LUCIA, *stories], vocabulary=("the", "lake", "a", "an"), lexicon=WORDS)


@pytest.mark.parametrize(
    "question",
    [
        "what does A. N. play",
        "what does A.N. play",
        "what does A.N play",
        "what does a.n. play",
        "what does AN play",
        "what does A N play",
        "is A. N.'s band touring",
        "is A.N.’s band touring",
        "WHAT DOES A.N. PLAY",  # in capitals, the dots still say "initials"
        "A. N.",  # /about A. N.
        "A.N.",
        "AN",  # /about AN: one word in capitals is initials, not shouting
    ],
)
def test_initials_name_their_story_however_they_are_dotted(question: str) -> None:
    assert [s for s, _ in initials_matcher(AIGERIM).find(question)] == ["c"]


@pytest.mark.parametrize(
    "question",
    [
        "what does an artist play",  # the article
        "what does a n play",  # plain letters spell "an", a word
        "WHAT DOES AN ARTIST PLAY",  # all in capitals: the capitals say nothing
        "an",
        "A",  # one letter is never a name
    ],
)
def test_initials_written_as_an_ordinary_word_name_nobody(question: str) -> None:
    assert initials_matcher(AIGERIM).find(question) == []


@pytest.mark.parametrize("alias", ["A. N.", "A.N.", "A N", "AN", "a. n."])
def test_every_way_of_writing_initials_in_a_header_is_the_same_name(alias: str) -> None:
    matcher = initials_matcher(StoryInfo("c", "c", "Aigerim Nurlanova", aliases=(alias,)))

    assert [s for s, _ in matcher.find("what does A. N. play")] == ["c"]
    assert [s for s, _ in matcher.find("what does AN play")] == ["c"]
    assert matcher.find("what does an artist play") == []


def test_initials_that_make_no_word_match_in_lower_case() -> None:
    talgat = StoryInfo("t", "t", "Talgat Baktybekova", aliases=("T. B.",))
    bolat = StoryInfo("b", "b", "Bolat Dzhaksybekov", aliases=("B. D.",))
    matcher = initials_matcher(talgat, bolat)

    assert [s for s, _ in matcher.find("what does bd play")] == ["b"]  # "bd" is no word
    assert matcher.find("what does tb play") == []  # "tb" is in the vocabulary given
    assert [s for s, _ in matcher.find("what does T.B. play")] == ["t"]


def test_initials_inside_a_longer_name_match_as_typed() -> None:
    king = StoryInfo("k", "k", "B.B. King")
    matcher = initials_matcher(king)

    for question in ("who was B.B. King", "who was B. B. King", "who was bb king"):
        assert [s for s, _ in matcher.find(question)] == ["k"], question


def test_removing_initials_from_a_question_keeps_the_article() -> None:
    matcher = initials_matcher(AIGERIM)

    left = matcher.without_initials("what does A. N.'s band play in a bar", {"c"})

    assert left.split() == ["what", "does", "band", "play", "in", "a", "bar"]
    assert matcher.without_initials("what does an artist play", {"c"}).split()[2] == "an"
