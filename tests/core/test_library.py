"""The story files a chat adds and removes: safe names, sidecars, old versions kept aside."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from retrieval.corpus import load_corpus
from retrieval.library import StoryLibrary, StoryRejected, safe_file_name
from tests.conftest import story_file

STORY = story_file("Aruzhan Sadykova", "Golden Domra", "a shepherd from Taraz")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("aruzhan.txt", "aruzhan.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ada\\My Story (final).MD", "My-Story-final.md"),
        (".hidden.txt", "hidden.txt"),
        ("Frédéric Chopin.txt", "Frédéric-Chopin.txt"),
    ],
)
def test_a_file_name_from_a_chat_is_never_a_path(sent: str, kept: str) -> None:
    assert safe_file_name(sent) == kept


def test_names_without_a_usable_part_get_one_and_other_kinds_are_refused() -> None:
    assert safe_file_name("???.txt").startswith("story-")
    with pytest.raises(StoryRejected, match=r"only \.md or \.txt files are stories"):
        safe_file_name("poster.png")


def test_a_written_story_keeps_the_names_read_from_its_text(tmp_path: Path) -> None:
    library = StoryLibrary(tmp_path / "corpus", tmp_path / "removed")
    (tmp_path / "corpus").mkdir()
    staged = library.stage(STORY, "aruzhan.txt")
    library.write(staged)

    sidecar = tomllib.loads((tmp_path / "corpus" / "aruzhan.toml").read_text())
    assert sidecar["artist"] == "Aruzhan Sadykova" and sidecar["band"] == "Golden Domra"
    # The loader reads it as staged: same names, same digest (nothing re-embedded later).
    [loaded] = load_corpus(tmp_path / "corpus")
    assert loaded.info == staged.story.info and loaded.digest == staged.story.digest
    assert loaded.info.artist == "Aruzhan Sadykova"  # not "aruzhan", from the file name


def test_replacing_and_removing_keep_every_old_version(tmp_path: Path) -> None:
    corpus, removed = tmp_path / "corpus", tmp_path / "removed"
    corpus.mkdir()
    library = StoryLibrary(corpus, removed)
    library.write(library.stage(STORY, "aruzhan.md"))
    newer = story_file("Aruzhan Sadykova", "Golden Domra", "a blacksmith")

    kept = library.write(library.stage(newer, "aruzhan.txt"))  # same story id, other suffix
    assert sorted(p.name for p in corpus.iterdir()) == ["aruzhan.toml", "aruzhan.txt"]
    assert [p.read_bytes() for p in kept if p.suffix == ".md"] == [STORY]
    with pytest.raises(StoryRejected, match="already hold it, as story aruzhan"):
        library.stage(newer, "copy.txt")

    library.remove("aruzhan")
    assert list(corpus.iterdir()) == []
    name, data = library.kept("aruzhan")
    assert (name, data) == ("aruzhan.txt", newer)  # the newest kept version
    with pytest.raises(StoryRejected, match="there is no story aruzhan"):
        library.remove("aruzhan")
