"""The corpus loader: repaired text, skipped bad files, and who each story is about."""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

import pytest

from retrieval.corpus import MAX_STORY_BYTES, Story, StoryCache, load_corpus, load_story
from tests.core.conftest import BAKHYT, SEED_DIR, TALGAT

GOOD_TEXT = (
    "Ilse Marang played the harmonium in a small hall by the harbour. "
    "The audience stayed long after the last song, asking for one more."
)


def by_id(stories: list[Story]) -> dict[str, Story]:
    return {story.story_id: story for story in stories}


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and name in r.getMessage()
    ]


# --- text repair ---------------------------------------------------------------------------


def test_seed_mojibake_is_repaired() -> None:
    assert "â€“" in (SEED_DIR / f"{BAKHYT}.txt").read_text(encoding="utf-8")  # the defect is real

    story = by_id(load_corpus(SEED_DIR))[BAKHYT]

    assert "â€" not in story.text
    assert "something special – something that would inspire" in story.text


def test_every_seed_story_is_clean_nfc_text() -> None:
    stories = load_corpus(SEED_DIR)

    assert sorted(s.story_id for s in stories) == [TALGAT, BAKHYT]
    for story in stories:
        assert unicodedata.is_normalized("NFC", story.text)
        assert "\ufeff" not in story.text
        assert "\r" not in story.text
        assert "â€" not in story.text


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + GOOD_TEXT.encode())

    (story,) = load_corpus(tmp_path)

    assert story.text.startswith("Ilse Marang")
    assert "\ufeff" not in story.text


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_bytes(GOOD_TEXT.encode("utf-16"))

    (story,) = load_corpus(tmp_path)

    assert story.text.strip() == GOOD_TEXT


def test_text_is_normalised_to_nfc(tmp_path: Path) -> None:
    decomposed = "Zoe\u0301 Arce\u0301ne sang at the Cafe\u0301 Ne\u0301ron every Friday night."
    (tmp_path / "accents.txt").write_text(decomposed, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert "Zoé Arcéne" in story.text
    assert "Café Néron" in story.text
    assert unicodedata.is_normalized("NFC", story.text)


def test_windows_line_ends_become_newlines(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(b"First paragraph here.\r\n\r\nSecond one.\r\n")

    (story,) = load_corpus(tmp_path)

    assert "\r" not in story.text
    assert "First paragraph here.\n\nSecond one." in story.text


def test_windows_1252_text_is_read_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "Renée played Für Elise – twice, for €5."
    (tmp_path / "legacy.txt").write_bytes(text.encode("cp1252"))

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        (story,) = load_corpus(tmp_path)

    assert story.text.strip() == text
    assert warnings_about(caplog, "legacy.txt")


def test_correct_typography_is_left_alone(tmp_path: Path) -> None:
    text = "She called the song “Night Ferry” – it’s still her favourite."
    (tmp_path / "quotes.txt").write_text(text, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.text.strip() == text


# --- which files are stories ---------------------------------------------------------------


def test_txt_and_md_are_read_other_suffixes_ignored(tmp_path: Path) -> None:
    for name in (
        "one.txt",
        "two.md",
        "three.TXT",
        "notes.rst",
        "data.json",
        "page.html",
        "four.txt.bak",
        "five",
        ".hidden.txt",
    ):
        (tmp_path / name).write_text(GOOD_TEXT, encoding="utf-8")

    ids = sorted(s.story_id for s in load_corpus(tmp_path))

    assert ids == ["one", "three", "two"]


def test_a_missing_corpus_directory_loads_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        assert load_corpus(tmp_path / "nowhere") == []
    assert warnings_about(caplog, "nowhere")


def test_two_files_with_the_same_stem_do_not_share_a_story_id(tmp_path: Path) -> None:
    (tmp_path / "voss.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "voss.md").write_text(
        "Oskar Lind drums for the band Fjord Static.", encoding="utf-8"
    )

    ids = [s.story_id for s in load_corpus(tmp_path)]

    assert len(ids) == len(set(ids))


BAD_FILES: dict[str, bytes] = {
    "empty.txt": b"",
    "blank.txt": b"  \n\t\n   \n",
    "binary.txt": b"Some text\x00\x00\x01\x02 then bytes" * 10,
    "undecodable.txt": b"\x81\x8d\x8f\x90\x9d",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    (tmp_path / name).write_bytes(BAD_FILES[name])
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        stories = load_corpus(tmp_path)

    assert [s.story_id for s in stories] == ["good"]
    assert warnings_about(caplog, name), caplog.text


def test_too_large_file_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.write(b"A story that goes on. ")
        handle.truncate(MAX_STORY_BYTES + 1)
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        stories = load_corpus(tmp_path)

    assert [s.story_id for s in stories] == ["good"]
    assert warnings_about(caplog, "huge.txt")


def test_symlink_leaving_the_corpus_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = tmp_path / "outside.txt"
    secret.write_text("Private notes that are not part of the corpus at all.", encoding="utf-8")
    (corpus / "escape.txt").symlink_to(secret)
    (corpus / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        stories = load_corpus(corpus)

    assert [s.story_id for s in stories] == ["good"]
    assert warnings_about(caplog, "escape.txt")


def test_symlink_inside_the_corpus_is_followed(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "good.txt")

    stories = by_id(load_corpus(tmp_path))

    assert set(stories) == {"alias", "good"}
    assert stories["alias"].text == stories["good"].text


def test_all_bad_files_together_leave_the_good_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name, raw in BAD_FILES.items():
        (tmp_path / name).write_bytes(raw)
    for seed in SEED_DIR.iterdir():
        (tmp_path / seed.name).write_bytes(seed.read_bytes())

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        stories = load_corpus(tmp_path)

    assert sorted(s.story_id for s in stories) == [TALGAT, BAKHYT]
    for name in BAD_FILES:
        assert warnings_about(caplog, name)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text(GOOD_TEXT, encoding="utf-8")
    locked.chmod(0)
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    try:
        with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
            stories = load_corpus(tmp_path)
    finally:
        locked.chmod(0o644)

    assert [s.story_id for s in stories] == ["good"]
    assert warnings_about(caplog, "locked.txt")


# --- metadata --------------------------------------------------------------------------------

BODY = (
    "Late in the evening the lights went down. A single voice rose over the drums, and the "
    "whole room fell silent for the first verse."
)


def test_front_matter_header_sets_names_and_is_not_text(tmp_path: Path) -> None:
    header = "---\nartist: Nadia Orlov\nband: The Paper Lanterns\naliases: Nadi, N.O.\n---\n"
    (tmp_path / "story.md").write_text(header + BODY, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Nadia Orlov"
    assert story.info.band == "The Paper Lanterns"
    assert set(story.info.aliases) == {"Nadi", "N.O."}
    assert story.text.strip() == BODY
    assert "artist:" not in story.text and "---" not in story.text


def test_sidecar_toml_sets_names(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "story.toml").write_text(
        'artist = "Nadia Orlov"\nband = "The Paper Lanterns"\naliases = ["Nadi", "N.O."]\n',
        encoding="utf-8",
    )

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Nadia Orlov"
    assert story.info.band == "The Paper Lanterns"
    assert set(story.info.aliases) == {"Nadi", "N.O."}
    assert story.text.strip() == BODY


def test_sidecar_string_aliases_are_comma_separated(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "story.toml").write_text(
        'artist = "Nadia Orlov"\naliases = "Nadi, N.O."\n', encoding="utf-8"
    )

    (story,) = load_corpus(tmp_path)

    assert set(story.info.aliases) == {"Nadi", "N.O."}


def test_sidecar_wins_over_header(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text("---\nartist: Old Name\n---\n" + BODY, encoding="utf-8")
    (tmp_path / "story.toml").write_text('artist = "Nadia Orlov"\n', encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Nadia Orlov"
    assert story.text.strip() == BODY


def test_header_of_unknown_keys_stays_text(tmp_path: Path) -> None:
    text = "---\nThis line is a dash-framed quote, not metadata.\n---\n" + BODY
    (tmp_path / "story.md").write_text(text, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert "not metadata" in story.text


def test_changing_the_sidecar_changes_the_digest(tmp_path: Path) -> None:
    story_file = tmp_path / "story.txt"
    story_file.write_text(BODY, encoding="utf-8")
    sidecar = tmp_path / "story.toml"
    sidecar.write_text('artist = "Nadia Orlov"\n', encoding="utf-8")
    before = load_story(story_file)
    sidecar.write_text('artist = "Nadia Orlova"\n', encoding="utf-8")
    after = load_story(story_file)

    assert before is not None and after is not None
    assert before.digest != after.digest
    assert after.info.artist == "Nadia Orlova"


def test_broken_sidecar_is_reported_and_does_not_stop_loading(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "story.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "story.toml").write_text('artist = "unterminated\n', encoding="utf-8")
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="retrieval.corpus"):
        stories = by_id(load_corpus(tmp_path))

    assert "good" in stories
    assert warnings_about(caplog, "story")


def test_seed_names_are_derived_without_metadata() -> None:
    stories = by_id(load_corpus(SEED_DIR))

    assert stories[TALGAT].info.artist == "Talgat Baktybekova"
    assert stories[TALGAT].info.band == "Moonlight Serenaders"
    assert stories[BAKHYT].info.artist == "Bakhyt Camara"
    assert stories[BAKHYT].info.band == "The Steppe Serenaders"


INVENTED = """\
Mirela Voss tuned her cello in the wings while the hall filled up. For ten years she had
played with the string band "Glass Harbour", touring small towns along the Baltic coast.

Born in Tallinn, Mirela Voss learned to play on her grandfather's instrument. Critics
later wrote that Mirela Voss made the cello sound like a human voice.

When the concert ended, Mirela Voss thanked the audience in three languages."""


def test_new_story_without_metadata_gets_a_sensible_artist(tmp_path: Path) -> None:
    (tmp_path / "002_9a1b2c3d4e5f6a7b.txt").write_text(INVENTED, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Mirela Voss"
    assert story.info.band == "Glass Harbour"
    assert "Mirela Voss" in story.info.names


def test_plainly_named_file_does_not_become_the_artist(tmp_path: Path) -> None:
    (tmp_path / "concert_notes.txt").write_text(INVENTED, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Mirela Voss"


def test_artist_named_file_gives_the_artist(tmp_path: Path) -> None:
    (tmp_path / "Mirela_Voss.txt").write_text(INVENTED, encoding="utf-8")

    (story,) = load_corpus(tmp_path)

    assert story.info.artist == "Mirela Voss"


# --- reloading ---------------------------------------------------------------------------


def test_a_cache_reuses_unchanged_stories_and_rereads_changed_ones(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "edited.txt").write_text(GOOD_TEXT, encoding="utf-8")
    cache = StoryCache()
    first = by_id(load_corpus(tmp_path, cache=cache))

    (tmp_path / "edited.txt").write_text(GOOD_TEXT + "\n\nShe came back in May.", encoding="utf-8")
    (tmp_path / "new.txt").write_text(GOOD_TEXT, encoding="utf-8")
    second = by_id(load_corpus(tmp_path, cache=cache))

    assert second["kept"] is first["kept"]  # not decoded and repaired again
    assert second["edited"].text.endswith("She came back in May.")
    assert second["edited"].digest != first["edited"].digest
    assert set(second) == {"kept", "edited", "new"}
    assert second == by_id(load_corpus(tmp_path))  # the same stories as without a cache


def test_a_cache_forgets_removed_stories(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_text(GOOD_TEXT, encoding="utf-8")
    cache = StoryCache()
    load_corpus(tmp_path, cache=cache)

    (tmp_path / "gone.txt").unlink()
    assert load_corpus(tmp_path, cache=cache) == []

    (tmp_path / "gone.txt").write_text(GOOD_TEXT + " Again.", encoding="utf-8")
    assert [s.text for s in load_corpus(tmp_path, cache=cache)] == [GOOD_TEXT + " Again."]
