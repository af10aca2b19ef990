"""The chunker: passages that map back to the story, respect the limits and lose nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.chunking import Passage, split_passages
from retrieval.corpus import Story, load_corpus
from retrieval.embedding import Encoder
from retrieval.text import count_words, sentence_spans
from tests.core.conftest import SEED_DIR, SQUAD_CORPUS

SEEDS = load_corpus(SEED_DIR)
SQUAD = load_corpus(SQUAD_CORPUS)


def non_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_chunks(
    text: str,
    chunks: list[Passage],
    *,
    max_words: int,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> None:
    """Every invariant a passage list must hold, with messages a reader can act on."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    previous_end = 0
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text, f"offsets of passage {chunk.index}"
        assert chunk.start >= previous_end, f"passage {chunk.index} overlaps the previous one"
        previous_end = chunk.end
        assert chunk.text.strip(), f"passage {chunk.index} is blank"
        assert chunk.words <= max_words, f"passage {chunk.index} has {chunk.words} words"
        if max_tokens is not None and count_tokens is not None:
            tokens = count_tokens(chunk.text)
            assert tokens <= max_tokens, f"passage {chunk.index} has {tokens} tokens"
        check_sentences(chunk)
    # Nothing lost, nothing reordered, nothing repeated.
    assert non_space("".join(c.text for c in chunks)) == non_space(text)


def check_sentences(chunk: Passage) -> None:
    spans = chunk.sentences
    assert spans, f"passage {chunk.index} has no sentences"
    covered = bytearray(len(chunk.text))
    last_end = 0
    for span in spans:
        assert 0 <= span.start < span.end <= len(chunk.text)
        assert span.start >= last_end, "sentence spans overlap or go backwards"
        last_end = span.end
        piece = span.of(chunk.text)
        assert piece == piece.strip(), f"sentence span has surrounding space: {piece!r}"
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    assert spans[0].start == 0 and spans[-1].end == len(chunk.text)
    uncovered = [c for c, flag in zip(chunk.text, covered, strict=True) if not flag]
    assert not "".join(uncovered).strip(), f"text outside every sentence: {uncovered!r}"


# --- real stories ------------------------------------------------------------------------------


@pytest.mark.parametrize("max_words", [160, 80, 40, 20])
@pytest.mark.parametrize("story", SEEDS, ids=lambda s: s.story_id)
def test_seed_passages_hold_every_invariant(story: Story, max_words: int) -> None:
    chunks = split_passages(story.story_id, story.text, max_words=max_words)

    assert chunks
    check_chunks(story.text, chunks, max_words=max_words)


def paragraphs_of(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def check_paragraphs_kept_whole(
    text: str,
    chunks: list[Passage],
    max_words: int,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> None:
    """A paragraph that fits in a passage is never split over two."""
    for paragraph in paragraphs_of(text):
        if count_words(paragraph) <= max_words and count_tokens(paragraph) <= max_tokens:
            assert any(paragraph in c.text for c in chunks), paragraph[:60]


@pytest.mark.parametrize("max_words", [160, 60])
def test_squad_passages_hold_every_invariant_with_the_token_limit(
    max_words: int, encoder: Encoder
) -> None:
    longest = max(count_words(p) for s in SQUAD for p in paragraphs_of(s.text))
    assert longest > 160  # the corpus really has paragraphs over the limit

    for story in SQUAD:
        chunks = split_passages(
            story.story_id,
            story.text,
            max_words=max_words,
            max_tokens=encoder.max_tokens,
            count_tokens=encoder.count_tokens,
        )
        check_chunks(
            story.text,
            chunks,
            max_words=max_words,
            max_tokens=encoder.max_tokens,
            count_tokens=encoder.count_tokens,
        )
        check_paragraphs_kept_whole(
            story.text, chunks, max_words, encoder.count_tokens, encoder.max_tokens
        )


def test_seed_sentence_spans_are_the_sentences_of_the_passage() -> None:
    for story in SEEDS:
        for chunk in split_passages(story.story_id, story.text, max_words=160):
            assert list(chunk.sentences) == sentence_spans(chunk.text)


@pytest.mark.parametrize("max_words", [160, 60, 30])
def test_a_seed_paragraph_that_fits_is_never_split(max_words: int, encoder: Encoder) -> None:
    for story in SEEDS:
        chunks = split_passages(story.story_id, story.text, max_words=max_words)
        check_paragraphs_kept_whole(
            story.text, chunks, max_words, encoder.count_tokens, encoder.max_tokens
        )


# --- limits ----------------------------------------------------------------------------------


def numbers_text(sentences: int, per_sentence: int, seed: int = 7) -> str:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sentences):
        numbers = " ".join(str(n) for n in rng.integers(10**11, 10**12, per_sentence))
        out.append(f"Catalogue {numbers}.")
    return " ".join(out)


@pytest.mark.parametrize(("sentences", "per_sentence"), [(1, 150), (10, 14)])
def test_token_limit_is_kept_when_words_are_few_but_tokens_many(
    encoder: Encoder, sentences: int, per_sentence: int
) -> None:
    text = numbers_text(sentences, per_sentence)
    assert count_words(text) < 160
    assert encoder.count_tokens(text) > encoder.max_tokens

    chunks = split_passages(
        "numbers",
        text,
        max_words=160,
        max_tokens=encoder.max_tokens,
        count_tokens=encoder.count_tokens,
    )

    assert len(chunks) >= 2
    check_chunks(
        text,
        chunks,
        max_words=160,
        max_tokens=encoder.max_tokens,
        count_tokens=encoder.count_tokens,
    )


def test_without_a_token_counter_only_words_count(encoder: Encoder) -> None:
    text = numbers_text(1, 150)

    chunks = split_passages("numbers", text, max_words=160)

    assert [c.text for c in chunks] == [text]


@pytest.mark.parametrize("max_words", [160, 37, 20])
def test_giant_sentence_without_punctuation_is_split(max_words: int) -> None:
    text = " ".join(f"word{i}" for i in range(1000))

    chunks = split_passages("giant", text, max_words=max_words)

    assert len(chunks) >= 1000 / max_words
    check_chunks(text, chunks, max_words=max_words)
    # The cut spreads the words over the pieces: no tiny leftover passage at the end.
    assert min(c.words for c in chunks) >= max_words / 2


def test_long_paragraph_is_split_at_sentence_ends() -> None:
    sentence = "The band played another long song about the open steppe and the wind"
    text = " ".join(f"{sentence} number {i}." for i in range(30))  # ~ 420 words, one paragraph

    chunks = split_passages("para", text, max_words=160)

    assert len(chunks) >= 3
    check_chunks(text, chunks, max_words=160)
    for chunk in chunks:
        assert chunk.text.startswith("The band") and chunk.text.endswith(".")


def test_empty_and_blank_text_give_no_passages() -> None:
    assert split_passages("empty", "", max_words=160) == []
    assert split_passages("blank", "  \n\n \t\n", max_words=160) == []


# --- paragraphs ---------------------------------------------------------------------------------


def paragraph(n: int, words: int = 30) -> str:
    """A paragraph of ``words`` words, in sentences of ten."""
    sentences = [f"Verse {n}.{i} tells of the band on the long road." for i in range(words // 10)]
    text = " ".join(sentences)
    assert count_words(text) == words
    return text


def test_short_heading_shares_a_passage_with_the_next_paragraph() -> None:
    text = f"Chapter One\n\n{paragraph(1)}\n\n{paragraph(2)}"

    chunks = split_passages("heading", text, max_words=160)

    assert chunks[0].text.startswith("Chapter One\n\n" + paragraph(1))
    check_chunks(text, chunks, max_words=160)


def test_consecutive_paragraphs_are_packed_up_to_the_limit() -> None:
    paragraphs = [paragraph(n) for n in range(5)]  # 150 words in all
    text = "\n\n".join(paragraphs)

    chunks = split_passages("packed", text, max_words=160)

    assert [c.text for c in chunks] == [text]


def test_packed_paragraphs_are_spread_evenly() -> None:
    paragraphs = [paragraph(n) for n in range(8)]  # 240 words: two passages of 120
    text = "\n\n".join(paragraphs)

    chunks = split_passages("even", text, max_words=160)

    assert [c.words for c in chunks] == [120, 120]
    for p in paragraphs:
        assert any(p in c.text for c in chunks)


def test_paragraph_over_the_limit_is_cut_between_sentences() -> None:
    long_paragraph = " ".join(paragraph(n, 60) for n in range(4))  # 240 words, one paragraph
    text = f"{paragraph(9)}\n\n{long_paragraph}\n\n{paragraph(10)}"

    chunks = split_passages("cut", text, max_words=160)

    check_chunks(text, chunks, max_words=160)
    start = text.index(long_paragraph)
    cuts = [c.end for c in chunks if start < c.end < start + len(long_paragraph)]
    assert cuts, "the long paragraph was not cut"
    assert all(text[cut - 1] == "." for cut in cuts)
    for whole in (paragraph(9), paragraph(10)):
        assert any(whole in c.text for c in chunks)


def test_short_paragraph_is_not_joined_past_the_limit() -> None:
    heading = "A short heading"
    body = " ".join(["word"] * 158) + "."
    text = f"{heading}\n\n{body}"

    chunks = split_passages("full", text, max_words=160)

    assert [c.text for c in chunks] == [heading, body]


# --- any text ----------------------------------------------------------------------------------

_PIECES = st.one_of(
    st.from_regex(r"[A-Za-zÀ-ÿ]{1,9}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{0,8}", fullmatch=True),
    st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    st.sampled_from([".", "!", "?", "…", ",", '"', "(", ")", "Mr.", "J.", "—", "'"]),
)
_GAPS = st.sampled_from([" ", " ", " ", " ", "  ", "\n", "\n\n", " \n \n ", "\t"])
_TEXTS = st.lists(st.tuples(_PIECES, _GAPS), min_size=0, max_size=400).map(
    lambda parts: "".join(p + g for p, g in parts)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS, max_words=st.sampled_from([20, 23, 40, 160]))
def test_any_text_holds_every_invariant(text: str, max_words: int) -> None:
    chunks = split_passages("any", text, max_words=max_words)

    if text.strip():
        check_chunks(text, chunks, max_words=max_words)
    else:
        assert chunks == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS, max_tokens=st.sampled_from([40, 64, 256]))
def test_any_text_keeps_the_token_limit(text: str, max_tokens: int, encoder: Encoder) -> None:
    chunks = split_passages(
        "any", text, max_words=160, max_tokens=max_tokens, count_tokens=encoder.count_tokens
    )

    if text.strip():
        check_chunks(
            text, chunks, max_words=160, max_tokens=max_tokens, count_tokens=encoder.count_tokens
        )
