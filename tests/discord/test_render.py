"""The Discord renderer alone: escaping, bold best sentence, citations and every limit."""

from __future__ import annotations

import re

import discord
import pytest

from bot.chat import ActionKind, PassageView, Reply, ReplyKind
from bot.discord.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    FIELDS_PER_EMBED,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    Outgoing,
    escape,
    render,
    split_raw,
    split_text,
    truncate,
)
from retrieval import Span

NASTY = "**bold** __under__ ~~strike~~ `code` ||spoiler|| > quote @everyone @here <@123456789012345678> <@&123456789012345678> "  # noqa: E501
PINGS = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")


def passage(text: str, best: tuple[int, int] | None = None, artist: str = "Talgat") -> PassageView:
    start, end = best if best is not None else (0, len(text))
    return PassageView(
        text=text, best_sentence=Span(start, end), artist=artist, story_title="Moonlight", score=0.5
    )


def answer(*passages: PassageView, question: str = "Who is she?") -> Reply:
    return Reply(
        kind=ReplyKind.ANSWER,
        passages=passages,
        answer_id="a1",
        actions=(ActionKind.MORE,),
        question=question,
    )


def assert_within_limits(messages: list[Outgoing]) -> None:
    for message in messages:
        assert message.content or message.embeds
        assert len(message.content or "") <= CONTENT_LIMIT
        assert len(message.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in message.embeds) <= EMBED_TOTAL_LIMIT
        for embed in message.embeds:
            assert len(embed.title or "") <= TITLE_LIMIT
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert len(embed.footer.text or "") <= FOOTER_LIMIT
            assert len(embed.fields) <= FIELDS_PER_EMBED


def visible(messages: list[Outgoing]) -> str:
    return "\n".join(
        [m.content or "" for m in messages]
        + [f"{e.title}\n{e.description}\n{e.footer.text}" for m in messages for e in m.embeds]
    )


def test_answer_is_an_embed_with_bold_best_sentence_and_citation() -> None:
    text = "She was born in Almaty. She sings in Moonlight Serenaders. She likes tea."
    best = (text.index("She sings"), text.index(" She likes"))
    [message] = render(answer(passage(text, best)))
    [embed] = message.embeds
    assert embed.title == "Talgat"
    assert embed.description == (
        "She was born in Almaty. **She sings in Moonlight Serenaders.** She likes tea."
    )
    assert embed.footer.text == "Talgat, “Moonlight”"
    assert message.content == "❓ Who is she?"


def test_markdown_and_mentions_from_stories_are_escaped() -> None:
    text = NASTY * 3
    [message] = render(answer(passage(text, (0, len(NASTY))), question="@everyone **who**?"))
    shown = visible([message])
    assert not PINGS.search(shown)
    assert "**bold**" not in shown.replace("\\*\\*bold\\*\\*", "")
    assert "\\*\\*bold\\*\\*" in shown
    assert "@\u200beveryone" in shown and "<@\u200b123456789012345678>" in shown


@pytest.mark.parametrize("lead", ["", "  ", "\x1f", "\u2003", "\x0b\t"])
def test_markup_at_a_line_start_is_escaped_after_any_indentation(lead: str) -> None:
    # Hypothesis found "\x1f- end.": the part's strip() took the U+001F off after escaping,
    # leaving "- end." to render as a list.
    text = f"{lead}- end.\n{lead}# two\n{lead}> three"
    [message] = render(answer(passage(text, (0, 0))))  # no best sentence: no bold around it
    [embed] = message.embeds
    assert embed.description is not None
    for line in embed.description.split("\n"):
        assert not re.match(r"\s*[-#>]", line), line


@pytest.mark.parametrize("size", [5_000, 13_000, 40_000])
def test_long_passages_split_within_every_limit(size: int) -> None:
    text = (NASTY + "The end of a sentence. ") * (size // (len(NASTY) + 23) + 1)
    best = (len(NASTY) + 23, len(text) - 100)  # a bold "sentence" longer than an embed
    messages = render(answer(passage(text, best), passage(text), passage("Short one.")))
    assert len(messages) > 1
    assert_within_limits(messages)
    shown = visible(messages)
    assert not PINGS.search(shown)
    for message in messages:
        for embed in message.embeds:
            # Bold markup is never cut in half: every description has balanced, unescaped **.
            unescaped = re.sub(r"\\.", "", embed.description or "")
            assert unescaped.count("**") % 2 == 0
            assert embed.footer.text == "Talgat, “Moonlight”"
    # Nothing is lost: the last words of every passage are shown.
    assert shown.count("Short one.") == 1


def test_long_plain_text_splits_at_line_boundaries() -> None:
    lines = [f"• Artist number {i} @here with_underscores" for i in range(400)]
    reply = Reply(kind=ReplyKind.INFO, text="\n".join(lines))
    messages = render(reply)
    assert len(messages) > 1
    assert_within_limits(messages)
    assert all(m.content and m.content.startswith("• Artist") for m in messages)
    assert "Artist number 399" in messages[-1].content  # type: ignore[operator]
    assert not PINGS.search(visible(messages))


def test_words_longer_than_a_message_are_cut_safely() -> None:
    parts = split_text("x" * 2 * CONTENT_LIMIT + " " + "_" * 3000, CONTENT_LIMIT)
    assert all(len(p) <= CONTENT_LIMIT for p in parts)
    assert "".join(parts).replace("\\", "").count("_") == 3000


def test_split_raw_keeps_all_text() -> None:
    text = "One. Two!\n\nThree? “Four.” " + "word " * 900
    assert "".join(split_raw(text, 100)) == text


def test_embeds_pack_into_at_most_ten_per_message() -> None:
    many = [passage(f"Passage number {i}.") for i in range(23)]
    messages = render(answer(*many))
    assert [len(m.embeds) for m in messages] == [10, 10, 3]
    assert_within_limits(messages)


def test_truncate_never_leaves_a_dangling_escape() -> None:
    cut = truncate(escape("a" * 10 + "*" * 20), 15)
    assert len(cut) <= 15 and not re.search(r"(?<!\\)(\\\\)*\\…$", cut)


def test_escape_uses_discord_helpers() -> None:
    assert escape("@everyone *hi*") == discord.utils.escape_mentions(
        discord.utils.escape_markdown("@everyone *hi*")
    )
