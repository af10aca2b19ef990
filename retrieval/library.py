"""Story files added, replaced and removed while the bot runs, old versions kept aside.

:class:`StoryLibrary` checks a story by the loader's own rules
(:func:`retrieval.corpus.parse_story`) before anything is written, and changes the
corpus folder only once the index holding the change is saved
(:meth:`retrieval.live.LiveIndex.edit`): a failed or killed build leaves the folder as
it was. A story removed or replaced is moved into a folder of removed stories
(``data/removed/``), never deleted, and can be restored from there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retrieval.corpus import STORY_SUFFIXES, Story, Unusable, iter_story_paths, parse_story
from retrieval.files import fsync, write_bytes_atomic, write_text_atomic
from retrieval.results import StoryInfo

log = logging.getLogger(__name__)

# Where stories removed or replaced from a chat are kept, in the data directory.
REMOVED_DIR = "removed"
# A file name from a chat keeps its letters, digits, "-" and "_", at most this many.
MAX_STEM_CHARS = 80
# A removed file is kept as "<UTC time>_<its name>".
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_KEPT = re.compile(r"\d{8}T\d{6}\.\d{6}Z_(?P<name>.+)")
_UNSAFE = re.compile(r"[^\w-]+")


class StoryRejected(ValueError):
    """A story that cannot be added, removed or restored; the message says why, for the user."""


class StoryExists(StoryRejected):
    """A story of that file name is indexed: adding would replace it (ask first)."""

    def __init__(self, story: StoryInfo) -> None:
        super().__init__(f"story {story.story_id} has that name")
        self.story = story


class IndexBusy(StoryRejected):
    """Another change to the stories is being indexed right now."""

    def __init__(self) -> None:
        super().__init__("another change to the stories is being indexed; try again in a moment")


@dataclass(frozen=True, slots=True)
class Staged:
    """A checked story, not yet in the corpus: the file it will be, and its bytes."""

    path: Path
    story: Story
    data: bytes
    sidecar: str  # the metadata file written next to it: the names as understood now
    notes: tuple[str, ...] = ()  # what the loader would warn about, e.g. "read as Windows-1252"


class StoryLibrary:
    """The story files of ``corpus_dir``; what leaves it is kept in ``removed_dir``."""

    def __init__(self, corpus_dir: Path, removed_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self.removed_dir = removed_dir

    def files(self) -> dict[str, Path]:
        """Each story id (a file name without its suffix) and its file."""
        return {path.stem: path for path in iter_story_paths(self.corpus_dir)}

    def stage(self, data: bytes, name: str) -> Staged:
        """Check ``data`` as the story file ``name`` (made safe: only its last part, letters,
        digits, "-" and "_"). Raises :class:`StoryRejected` when it is no story by the
        loader's rules, or the corpus already holds exactly these bytes."""
        path = self.corpus_dir / safe_file_name(name)
        notes: list[str] = []
        try:
            # Names read from the text (or its header) alone: a file name like "aruzhan.txt"
            # would make the loader take "aruzhan" for the artist (retrieval.artists).
            probe = parse_story(data, path.with_name(f"0{path.suffix}"), warn=lambda _: None)
        except Unusable as exc:
            raise StoryRejected(
                f"{exc}; send the story as plain text, a .txt or .md file"
            ) from None
        meta = _names(probe.info)
        story = parse_story(data, path, sidecar=meta, warn=notes.append)
        for story_id, existing in self.files().items():
            if _holds(existing, data):
                raise StoryRejected(f"the stories already hold it, as story {story_id}")
        return Staged(path, story, data, _toml(meta), tuple(notes))

    def stage_names(self, story: StoryInfo, names: dict[str, object]) -> Staged:
        """The story ``story`` with ``names`` (artist, band, aliases, title) in its sidecar
        instead of the names it has now; its text is unchanged."""
        path = self.files().get(story.story_id)
        if path is None:
            raise StoryRejected(f"there is no story {story.story_id}")
        meta = {**_names(story), **names}
        data = path.read_bytes()
        try:
            staged = parse_story(data, path, sidecar=meta)
        except Unusable as exc:
            raise StoryRejected(str(exc)) from None
        return Staged(path, staged, data, _toml(meta))

    def write_names(self, staged: Staged) -> None:
        """Write the sidecar of ``staged`` (from :meth:`stage_names`); the story stays."""
        write_text_atomic(staged.path.with_suffix(".toml"), staged.sidecar)

    def write(self, staged: Staged) -> tuple[Path, ...]:
        """Put ``staged`` into the corpus; the story it replaces is set aside (and returned)."""
        old = self.files().get(staged.story.story_id)
        # Copied aside before the new file is written, gone from the corpus only after:
        # a failure on the way never loses a story.
        kept = self._copy_aside(old) if old is not None else ()
        write_text_atomic(staged.path.with_suffix(".toml"), staged.sidecar)
        write_bytes_atomic(staged.path, staged.data)
        if old is not None and old != staged.path:
            old.unlink()
            fsync(self.corpus_dir)
        log.info("story %s written to %s", staged.story.story_id, staged.path)
        return kept

    def remove(self, story_id: str) -> tuple[Path, ...]:
        """Move the story ``story_id``'s file (and sidecar) out of the corpus; where they went."""
        path = self.files().get(story_id)
        if path is None:
            raise StoryRejected(f"there is no story {story_id}")
        kept = self._copy_aside(path)
        self._unlink(path)
        return kept

    def removed(self) -> list[Path]:
        """The story files kept aside, newest first."""
        if not self.removed_dir.is_dir():
            return []
        kept = [
            p
            for p in self.removed_dir.iterdir()
            if _KEPT.fullmatch(p.name) and p.suffix.lower() in STORY_SUFFIXES
        ]
        return sorted(kept, key=lambda p: p.name, reverse=True)

    def kept(self, name: str) -> tuple[str, bytes]:
        """The original file name and bytes of the kept file ``name`` (or of the newest kept
        version of the story file ``name``)."""
        for path in self.removed():
            match = _KEPT.fullmatch(path.name)
            assert match is not None
            if name in (path.name, match["name"], Path(match["name"]).stem):
                return match["name"], path.read_bytes()
        raise StoryRejected(f"no removed story is called {name}")

    def _copy_aside(self, path: Path) -> tuple[Path, ...]:
        """Copy ``path`` and its sidecar into the removed folder, under dated names."""
        self.removed_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime(_STAMP)
        copies = []
        for source in (path, path.with_suffix(".toml")):
            if source.is_file():
                target = self.removed_dir / f"{stamp}_{source.name}"
                shutil.copy2(source, target)
                copies.append(target)
        fsync(self.removed_dir)
        return tuple(copies)

    def _unlink(self, path: Path, *, keep: Path | None = None) -> None:
        """Remove ``path`` and its sidecar from the corpus (but not ``keep``, the new file)."""
        for old in (path, path.with_suffix(".toml")):
            if old != keep:
                old.unlink(missing_ok=True)
        fsync(self.corpus_dir)


def _names(info: StoryInfo) -> dict[str, object]:
    """The metadata sidecar's keys for ``info``: who the story is about, as understood."""
    meta: dict[str, object] = {"artist": info.artist, "title": info.title}
    if info.band:
        meta["band"] = info.band
    meta["aliases"] = list(info.aliases)
    return meta


def _toml(meta: dict[str, object]) -> str:
    """``meta`` (strings and lists of strings) as TOML: JSON's strings are TOML's too."""
    lines = ["# Who this story is about, as the bot understood it; edit and /reload to fix."]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    return "\n".join(lines) + "\n"


def safe_file_name(name: str) -> str:
    """A story file name of our own making for ``name`` from outside: never a path."""
    base = Path(unicodedata.normalize("NFKC", name).replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in STORY_SUFFIXES:
        kinds = " or ".join(sorted(STORY_SUFFIXES))
        raise StoryRejected(f"only {kinds} files are stories; save it as one and send it again")
    stem = _UNSAFE.sub("-", Path(base).stem).strip("-_.")[:MAX_STEM_CHARS].strip("-_.")
    if not stem:
        stem = "story-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{stem}{suffix}"


def _holds(path: Path, data: bytes) -> bool:
    """True when the file ``path`` holds exactly ``data``."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
