"""Fixtures of the reliability suite: a fixed hypothesis profile and checks of what users see.

The checks here say, for each platform, what a well-formed reply is: Telegram HTML with
only the renderer's own tags, Discord messages within every limit and with every piece of
markdown and every mention from the input neutralised.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import discord
from hypothesis import HealthCheck, settings

from bot.discord.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    Outgoing,
)
from bot.telegram.render import LIMIT, telegram_length

# Derandomised (the same examples on every run, in CI too), no deadline, no database.
settings.register_profile(
    "reliability",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
RELIABLE = settings.get_profile("reliability")

# The tags artistbot's Telegram renderer writes; Telegram allows a few more, we use these.
TELEGRAM_TAGS = frozenset({"b", "i"})
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot);")


class _TelegramHTML(HTMLParser):
    """Parses one message as Telegram would: tags must be allowed and balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TELEGRAM_TAGS and not attrs, f"tag <{tag} {attrs}> is not ours"
        assert tag not in self.stack, f"nested <{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_text(message: str) -> str:
    """The text a Telegram user sees for one HTML message; fails on malformed HTML."""
    assert message, "an empty message"
    assert telegram_length(message) <= LIMIT, telegram_length(message)
    # Every "&" starts an entity, every "<" a tag of ours: nothing raw from the input.
    for match in re.finditer("&", message):
        assert _ENTITY.match(message, match.start()), message[match.start() : match.start() + 12]
    for match in re.finditer("<", message):
        assert re.match(r"</?[bi]>", message[match.start() : match.start() + 4]), message[
            match.start() : match.start() + 12
        ]
    parser = _TelegramHTML()
    parser.feed(message)
    parser.close()
    assert not parser.stack, f"unclosed {parser.stack}"
    return "".join(parser.text)


# -- Discord -------------------------------------------------------------------------------

# Markdown an unescaped character could start; our renderer's only own markup is "**".
# ("<" only matters as the start of a mention, channel, emoji, command or timestamp.)
_ACTIVE = set("*_`~|[")
_LINE_START = re.compile(r"^[ \t]*(?:>|#|-|\d+\.)", re.M)
_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>|<a?:\w+:\d+>|</[\w ]+:\d+>|<t:")


def unescaped(text: str) -> str:
    """``text`` with Discord's backslash escapes resolved (what a reader sees)."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)


def check_discord_markdown(text: str, *, bold_allowed: bool) -> None:
    """No markdown or mention in ``text`` except the renderer's own ``**`` pairs."""
    residue = re.sub(r"\\[^0-9A-Za-z\s]", "", text)  # drop escaped characters
    assert not _MENTION.search(residue), f"a live mention in {text!r}"
    if bold_allowed:
        assert residue.count("**") % 2 == 0, f"unpaired bold in {text!r}"
        residue = residue.replace("**", "")
    active = _ACTIVE & set(residue)
    assert not active, f"unescaped {sorted(active)} in {text!r}"
    start = _LINE_START.search(re.sub(r"\\[^0-9A-Za-z\s]", "\\\\", text))
    assert start is None, f"a line starts with markdown in {text!r}"


def check_discord_message(part: Outgoing, options: dict[str, object]) -> None:
    """One message within Discord's limits, mentions off, markdown neutralised."""
    assert part.content or part.embeds, "an empty message"
    if part.content is not None:
        assert 0 < len(part.content) <= CONTENT_LIMIT
        check_discord_markdown(part.content, bold_allowed=False)
    assert len(part.embeds) <= EMBEDS_PER_MESSAGE
    assert sum(len(e) for e in part.embeds) <= EMBED_TOTAL_LIMIT
    for embed in part.embeds:
        assert embed.title is None or 0 < len(embed.title) <= TITLE_LIMIT
        assert embed.description is not None and 0 < len(embed.description) <= DESCRIPTION_LIMIT
        assert embed.footer.text is None or len(embed.footer.text) <= FOOTER_LIMIT
        check_discord_markdown(embed.title or "", bold_allowed=False)
        check_discord_markdown(embed.description, bold_allowed=True)
    mentions = options["allowed_mentions"]
    assert isinstance(mentions, discord.AllowedMentions)
    assert mentions.to_dict() == {"parse": [], "replied_user": False} or mentions.to_dict() == {
        "parse": []
    }
