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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.derived_names import derive_names
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


class Notices:
    """Warnings about corpus files, each said once until the file it names changes.

    A warning's key is its text and the size and modification time of the files it is
    about, so ``artistbot ask`` does not repeat a broken file's warning on every run; a
    fixed file's warning is forgotten, and a broken file changed again is warned about
    again. ``seen`` are the keys said before (persisted by :func:`retrieval.indexing.refresh`).
    """

    def __init__(self, seen: Iterable[str] = ()) -> None:
        self.seen = frozenset(seen)
        self.said: set[str] = set()

    def warn(self, files: Iterable[Path], message: str) -> None:
        """Log ``message`` about ``files`` unless it was said about them as they are now."""
        key = "|".join([message, *(_stamp(f) for f in files)])
        self.said.add(key)
        if key not in self.seen:
            log.warning("%s", message)


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path}:gone"
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


class StoryCache:
    """Stories already loaded, by file and content: a reload repairs only changed files."""

    def __init__(self) -> None:
        self._stories: dict[tuple[str, str], Story] = {}

    def get(self, path: Path, digest: str) -> Story | None:
        """The story loaded earlier from ``path`` with this content digest, if any."""
        return self._stories.get((str(path), digest))

    def learn(self, infos: Sequence[StoryInfo], digests: dict[str, str]) -> None:
        """Know the stories an index already holds, so that their files are not repaired.

        An indexed story is known by its file and digest with its stored :class:`StoryInfo`
        and no text: its text is only needed to split it, which an unchanged story never
        is. A cold start over squad-scale's 434 stories spent seconds repairing them all.
        """
        for info in infos:
            digest = digests.get(info.story_id)
            if digest is not None:
                self._stories.setdefault((info.path, digest), Story(info, "", digest))

    def keep(self, stories: dict[Path, Story]) -> None:
        """Remember exactly these stories (by the file each came from)."""
        self._stories = {(str(path), story.digest): story for path, story in stories.items()}


def load_corpus(
    directory: Path, *, cache: StoryCache | None = None, notices: Notices | None = None
) -> list[Story]:
    """Load every readable story in ``directory``; unreadable files are skipped with a warning.

    With a ``cache``, files whose bytes (and sidecar) are unchanged since the cache last saw
    them are not decoded, repaired and analysed again; ``notices`` says each warning once.
    """
    notices = notices or Notices()
    stories: dict[str, Story] = {}
    loaded: dict[Path, Story] = {}
    for path in iter_story_paths(directory):
        story = load_story(path, cache=cache, notices=notices)
        if story is None:
            continue
        if story.story_id in stories:
            first = Path(stories[story.story_id].info.path).name
            notices.warn(
                [path], f"skipping {path.name}: {first} already tells story {story.story_id!r}"
            )
            continue
        stories[story.story_id] = story
        loaded[path] = story
    if cache is not None:
        cache.keep(loaded)
    return list(stories.values())


class Unusable(ValueError):
    """Bytes that make no story; the message says why (without naming the file)."""


def load_story(
    path: Path, *, cache: StoryCache | None = None, notices: Notices | None = None
) -> Story | None:
    """Load one story file, or return ``None`` (with a warning naming it) if it is unusable."""
    notices = notices or Notices()
    sidecar_path = path.with_suffix(".toml")
    try:
        size = path.stat().st_size
        if size > MAX_STORY_BYTES:
            raise Unusable(_too_big(size))
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:
        notices.warn([path], f"skipping {path.name}: {exc}")
        return None
    try:
        sidecar = _read_sidecar(sidecar_path)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as exc:
        problem = f"its metadata file {sidecar_path.name} is not valid TOML ({exc})"
        notices.warn([path, sidecar_path], f"skipping {path.name}: {problem}")
        return None
    digest = _digest(raw, sidecar)
    known = cache.get(path, digest) if cache is not None else None
    if known is not None:
        return known
    try:
        return parse_story(
            raw,
            path,
            sidecar=sidecar,
            digest=digest,
            warn=lambda message: notices.warn([path], message),
        )
    except Unusable as exc:
        notices.warn([path], f"skipping {path.name}: {exc}")
        return None


def parse_story(
    raw: bytes,
    path: Path,
    *,
    sidecar: dict[str, object] | None = None,
    digest: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> Story:
    """The story ``raw`` tells when it is the file ``path`` (with this sidecar's metadata).

    The loader's rules, for bytes from anywhere (a file, a chat): over the size limit,
    binary, undecodable or empty text raises :class:`Unusable`; ``warn`` hears the rest.
    """
    if len(raw) > MAX_STORY_BYTES:
        raise Unusable(_too_big(len(raw)))
    sidecar = sidecar or {}
    text = decode(raw, path.name, warn=warn)
    text, header = _split_header(repair(text))
    if not text.strip():
        raise Unusable("it has no text")
    meta = {**header, **sidecar}
    info = _story_info(path, text, meta)
    return Story(info=info, text=text, digest=digest or _digest(raw, sidecar))


def _too_big(size: int) -> str:
    return f"{size} bytes is over the {MAX_STORY_BYTES}-byte limit"


def _digest(raw: bytes, sidecar: dict[str, object]) -> str:
    return hashlib.sha256(raw + repr(sorted(sidecar.items())).encode()).hexdigest()


def decode(raw: bytes, name: str, *, warn: Callable[[str], None] | None = None) -> str:
    """Decode file bytes as UTF-8 (or UTF-16 with a BOM), else as Windows-1252.

    Binary or undecodable bytes raise :class:`Unusable`; ``warn`` hears that a file was
    read as Windows-1252 (by default, a logged warning).
    """
    warn = warn or (lambda message: log.warning("%s", message))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:8192]:
        raise Unusable("it looks binary")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise Unusable("it is neither UTF-8 nor Windows-1252 text") from None
    warn(f"{name} is not UTF-8; read it as Windows-1252")
    return text


def _read_sidecar(sidecar: Path) -> dict[str, object]:
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
