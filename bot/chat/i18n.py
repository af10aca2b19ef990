"""The bot's own words in the asker's language: English, Russian or Kazakh.

The English sentences of :mod:`bot.chat.texts` are the message ids; their Russian and
Kazakh translations are gettext catalogs (``bot/chat/locale/<lang>/LC_MESSAGES/
messages.po``), read once with Babel. The language is the question's (from its script,
:func:`retrieval.languages.detect`), else the one the platform reports for the user
(Telegram's ``language_code``, Discord's interaction locale), else English.
Passages are never translated: they stay in the stories' language.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

from retrieval.languages import LANGUAGES, Language, detect

DOMAIN = "messages"


def language_of(text: str, platform_language: str | None = None) -> Language:
    """The language to reply in: the text's if not English, else the platform's, else en."""
    written = detect(text)
    if written != "en":
        return written
    return supported(platform_language)


def supported(code: str | None) -> Language:
    """``"ru-RU"``, ``"ru"`` → ``"ru"``; an unsupported or missing code → ``"en"``."""
    base = (code or "").replace("_", "-").split("-")[0].casefold()
    for language in LANGUAGES:
        if language == base:
            return language
    return "en"


def gettext(language: str, message: str) -> str:
    """``message`` (an English sentence of :mod:`bot.chat.texts`) in ``language``."""
    if language == "en":
        return message
    return _catalog(language).get(message) or message


def translate(language: str, message: str, /, **fields: object) -> str:
    """``message`` in ``language``, its ``{fields}`` filled in after translation."""
    return gettext(language, message).format(**fields)


@cache
def _catalog(language: str) -> dict[str, str]:
    path = resources.files("bot.chat").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    except FileNotFoundError:
        return {}
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
