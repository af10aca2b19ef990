"""Loading stories from the corpus directory.

A story is one ``.txt`` or ``.md`` file. Its artist, band and aliases come from an
optional metadata header or sidecar file, and are otherwise derived from the text
(:mod:`retrieval.artists`). Bad files are skipped with a warning; loading never fails
because of one file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from retrieval.artists import derive_names
from retrieval.results import StoryInfo
from retrieval.text import repair

log = logging.getLogger(__name__)

STORY_SUFFIXES = frozenset({".txt", ".md"})
MAX_STORY_BYTES = 20 * 1024 * 1024
_HEADER = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADER_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>.*?)\s*$")
_META_KEYS = frozenset({"title", "artist", "band", "aliases"})


@dataclass(frozen=True, slots=True)
class Story:
    """One loaded story: repaired text plus who it is about."""

    info: StoryInfo
    text: str
    digest: str

    @property
    def story_id(self) -> str:
        """Stable identifier: the file name without its suffix."""
        return self.info.story_id


def iter_story_paths(directory: Path) -> Iterator[Path]:
    """Story files directly in ``directory``, sorted by name; links leaving it are skipped."""
    if not directory.is_dir():
        log.warning("corpus directory %s does not exist", directory)
        return
    root = directory.resolve()
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in STORY_SUFFIXES or path.name.startswith("."):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            log.warning("skipping %s: it links outside the corpus directory", path.name)
            continue
        if path.is_file():
            yield path


class StoryCache:
    """Stories already loaded, by file and content: a reload repairs only changed files."""

    def __init__(self) -> None:
        self._stories: dict[tuple[str, str], Story] = {}

    def get(self, path: Path, digest: str) -> Story | None:
        """The story loaded earlier from ``path`` with this content digest, if any."""
        return self._stories.get((str(path), digest))

    def keep(self, stories: dict[Path, Story]) -> None:
        """Remember exactly these stories (by the file each came from)."""
        self._stories = {(str(path), story.digest): story for path, story in stories.items()}


def load_corpus(directory: Path, *, cache: StoryCache | None = None) -> list[Story]:
    """Load every readable story in ``directory``; unreadable files are skipped with a warning.

    With a ``cache``, files whose bytes (and sidecar) are unchanged since the cache last saw
    them are not decoded, repaired and analysed again.
    """
    stories: dict[str, Story] = {}
    loaded: dict[Path, Story] = {}
    for path in iter_story_paths(directory):
        story = load_story(path, cache=cache)
        if story is None:
            continue
        if story.story_id in stories:
            first = Path(stories[story.story_id].info.path).name
            log.warning("skipping %s: %s already tells story %r", path.name, first, story.story_id)
            continue
        stories[story.story_id] = story
        loaded[path] = story
    if cache is not None:
        cache.keep(loaded)
    return list(stories.values())


def load_story(path: Path, *, cache: StoryCache | None = None) -> Story | None:
    """Load one story file, or return ``None`` (with a warning naming it) if it is unusable."""
    try:
        size = path.stat().st_size
        if size > MAX_STORY_BYTES:
            log.warning(
                "skipping %s: %d bytes is over the %d-byte limit", path.name, size, MAX_STORY_BYTES
            )
            return None
        raw = path.read_bytes()
        sidecar = _read_sidecar(path)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        log.warning("skipping %s: %s", path.name, exc)
        return None
    digest = hashlib.sha256(raw + repr(sorted(sidecar.items())).encode()).hexdigest()
    known = cache.get(path, digest) if cache is not None else None
    if known is not None:
        return known
    text = decode(raw, path.name)
    if text is None:
        return None
    text, header = _split_header(repair(text))
    if not text.strip():
        log.warning("skipping %s: it has no text", path.name)
        return None
    meta = {**header, **sidecar}
    info = _story_info(path, text, meta)
    return Story(info=info, text=text, digest=digest)


def decode(raw: bytes, name: str) -> str | None:
    """Decode file bytes as UTF-8 (or UTF-16 with a BOM); ``None`` for binary or undecodable."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:8192]:
        log.warning("skipping %s: it looks binary", name)
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        log.warning("skipping %s: it is neither UTF-8 nor Windows-1252 text", name)
        return None
    log.warning("%s is not UTF-8; read it as Windows-1252", name)
    return text


def _read_sidecar(path: Path) -> dict[str, object]:
    sidecar = path.with_suffix(".toml")
    if not sidecar.is_file():
        return {}
    with sidecar.open("rb") as handle:
        data = tomllib.load(handle)
    return {k: v for k, v in data.items() if k in _META_KEYS}


def _split_header(text: str) -> tuple[str, dict[str, object]]:
    match = _HEADER.match(text)
    if match is None:
        return text, {}
    meta: dict[str, object] = {}
    for line in match.group("body").splitlines():
        field = _HEADER_LINE.match(line)
        if field is None or field["key"].lower() not in _META_KEYS:
            return text, {}  # not a metadata header after all
        meta[field["key"].lower()] = field["value"].strip().strip("\"'")
    return text[match.end() :], meta


def _aliases(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(a.strip() for a in value.split(",") if a.strip())
    if isinstance(value, list):
        return tuple(str(a).strip() for a in value if str(a).strip())
    return ()


def _story_info(path: Path, text: str, meta: dict[str, object]) -> StoryInfo:
    derived = derive_names(text, path.stem)
    artist = str(meta.get("artist") or derived.artist)
    band = str(meta["band"]) if meta.get("band") else derived.band
    title = str(meta.get("title") or derived.title or artist)
    aliases = _aliases(meta["aliases"]) if "aliases" in meta else ()
    if not aliases or "artist" not in meta:
        aliases = tuple(dict.fromkeys([*aliases, *derived.aliases]))
    return StoryInfo(
        story_id=path.stem,
        title=title,
        artist=artist,
        band=band,
        aliases=tuple(a for a in aliases if a not in (artist, band)),
        path=str(path),
    )
