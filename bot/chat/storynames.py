"""Which story an admin means, and the names they write for one (/removestory, /storynames)."""

from __future__ import annotations

from retrieval import StoryInfo
from retrieval.text import fold

# What /storynames sets (the metadata keys the loader reads).
NAME_KEYS = frozenset({"artist", "band", "aliases", "title"})


def parse_names(fields: str) -> dict[str, object]:
    """``artist: …; band: …; aliases: a, b`` as sidecar keys; ``{}`` when none is given."""
    names: dict[str, object] = {}
    for field in fields.split(";"):
        key, colon, value = field.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon or key not in NAME_KEYS or not value:
            return {}
        names[key] = (
            [a.strip() for a in value.split(",") if a.strip()] if key == "aliases" else value
        )
    return names


def stories_named(stories: tuple[StoryInfo, ...], name: str) -> list[StoryInfo]:
    """The stories ``name`` means: the one of that id, else those whose artist, band or alias
    it is (ignoring case and accents). Never a fuzzy match: this is for removing one."""
    wanted = fold(name.strip())
    by_id = [story for story in stories if fold(story.story_id) == wanted]
    if by_id:
        return by_id
    return [story for story in stories if wanted in {fold(n) for n in story.names}]
