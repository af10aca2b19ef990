"""Frozen result types returned by the retrieval core."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)``."""

    start: int
    end: int

    def of(self, text: str) -> str:
        """The part of ``text`` this span covers."""
        return text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """What the bot knows about one story: who it is about and where it came from."""

    story_id: str
    title: str
    artist: str
    band: str | None = None
    aliases: tuple[str, ...] = ()
    path: str = ""
    passages: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the story answers to: artist, band and aliases."""
        names = [self.artist, *([self.band] if self.band else []), *self.aliases]
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True, slots=True)
class StoryChange:
    """A story added, replaced or removed while the bot runs, once the index holds the change."""

    story: StoryInfo  # as indexed now (added) or as it was (removed)
    replaced: StoryInfo | None = None  # the story an added file replaced
    set_aside: tuple[str, ...] = ()  # where the old version's files were kept
    stories: int = 0  # stories in the index after the change
    digest: str = ""  # SHA-256 of the file added or removed
    notes: tuple[str, ...] = ()  # what the loader noticed reading it, e.g. not UTF-8


@dataclass(frozen=True, slots=True)
class Hit:
    """One passage returned for a question."""

    text: str
    story: StoryInfo
    score: float
    best_sentence: Span
    dense_score: float = 0.0
    lexical_score: float = 0.0
    passage_id: int = -1
    start: int = 0
    end: int = 0

    @property
    def artist(self) -> str:
        """The artist of the story this passage comes from."""
        return self.story.artist

    @property
    def sentence(self) -> str:
        """The sentence of the passage that best answers the question."""
        return self.best_sentence.of(self.text)


@dataclass(frozen=True, slots=True)
class Answer:
    """The core's answer to one question: passages, or an honest "no answer"."""

    question: str
    hits: tuple[Hit, ...] = ()
    # Stories the question names (by artist, band or alias), best match first.
    mentioned: tuple[StoryInfo, ...] = ()
    # Why there is no answer, when there is none.
    reason: str | None = None
    # Passages that ranked after these hits, for "more".
    remaining: int = 0
    # The question as searched, when misspelt words were corrected ("did you mean").
    corrected: str | None = None
    # The story of a follow-up question, when the answer comes from it alone.
    followed: StoryInfo | None = None
    # The story of a follow-up question, when it held nothing relevant (answered elsewhere).
    passed_over: StoryInfo | None = None
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def found(self) -> bool:
        """True when the answer has passages to show."""
        return bool(self.hits)
