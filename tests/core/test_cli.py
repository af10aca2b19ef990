"""The ``artistbot`` command line: index, ask, repl, eval, and its refusals.

Commands run in process through click's CliRunner (and the console script once, as a
user runs it), in a private data directory that links to the session's ONNX export, so
no model is exported again and the session's own index is never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from retrieval.embedding import Encoder
from tests.conftest import story_file
from tests.core.conftest import ROOT, SEED_QUESTIONS

ARTISTBOT = Path(sys.executable).with_name("artistbot")
CONTRACT_KEYS = {
    "questions",
    "negatives",
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "best_sentence_hit",
    "negatives_rejected",
    "answerable_rejected",
    "p50_ms",
    "p99_ms",
    "mean_passage_words",
    "max_passage_words",
}
GRANDMOTHER = "What instrument did Bakhyt Camara's grandmother play?"


def new_data_dir(parent: Path, session_data_dir: Path) -> Path:
    """An empty data directory that shares the session's exported model (read-only)."""
    data = parent / "data"
    data.mkdir()
    shared = session_data_dir / "models"
    shared.mkdir(exist_ok=True)  # a test run alone exports the model here first
    (data / "models").symlink_to(shared, target_is_directory=True)
    return data


def environment(data_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str | None]:
    """The variables a user would set; every other ARTISTBOT_* variable is unset."""
    env: dict[str, str | None] = {n: None for n in os.environ if n.startswith("ARTISTBOT_")}
    env.update(
        {
            "ARTISTBOT_RETRIEVAL__DATA_DIR": str(data_dir),
            "ARTISTBOT_RETRIEVAL__CORPUS_DIR": str(corpus_dir),
            "HF_HUB_OFFLINE": "1",
            **extra,
        }
    )
    return env


def invoke(args: list[str], env: Mapping[str, str | None], stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, input=stdin, catch_exceptions=False)


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``directory`` (links not followed), with size and mtime."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            continue
        info = path.stat()
        out[str(path.relative_to(directory))] = (info.st_size, info.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory,
    session_data_dir: Path,
    seed_corpus: Path,
    encoder: Encoder,  # the session's ONNX export exists before it is linked
) -> dict[str, str | None]:
    """A data directory indexed with ``artistbot index``; the environment pointing at it."""
    data = new_data_dir(tmp_path_factory.mktemp("cli"), session_data_dir)
    env = environment(data, seed_corpus)
    result = invoke(["index"], env)
    assert result.exit_code == 0, result.output
    assert "index ready: 2 stories" in result.stdout
    # It waits for the multilingual vectors and says what they cost (a process that embeds
    # them says how many passages; this one may reuse the session's, kept in memory).
    cost = r"multilingual vectors: (6 passages .* in |up to date \()[\d.]+ s"
    assert re.search(cost, result.stdout)
    return env


def test_index_builds_in_the_configured_data_dir(indexed: dict[str, str | None]) -> None:
    data = Path(str(indexed["ARTISTBOT_RETRIEVAL__DATA_DIR"]))

    assert (data / "index" / "CURRENT").is_file()
    assert len(list((data / "index" / "multilingual").glob("*.npz"))) == 2  # one per story
    result = invoke(["index"], indexed)  # again: up to date, nothing to do

    assert result.exit_code == 0, result.output
    assert "index ready: 2 stories" in result.stdout
    assert str(data / "index") in result.stdout
    assert "multilingual vectors: up to date" in result.stdout


def test_index_says_when_multilingual_vectors_are_off(
    tmp_path: Path, session_data_dir: Path, seed_corpus: Path
) -> None:
    env = environment(
        new_data_dir(tmp_path, session_data_dir),
        seed_corpus,
        ARTISTBOT_RETRIEVAL__MULTILINGUAL="off",
    )
    result = invoke(["index"], env)

    assert result.exit_code == 0, result.output
    assert "multilingual vectors: off" in result.stdout


def test_ask_prints_the_artist_and_passage(
    indexed: dict[str, str | None], seed_corpus: Path
) -> None:
    result = invoke(["ask", GRANDMOTHER], indexed)

    assert result.exit_code == 0, result.output
    assert "Bakhyt Camara" in result.stdout
    assert "balalaika" in result.stdout
    first = result.stdout.split("[1] ", 1)[1].split("\n    — ", 1)[0]
    passage = first.replace("»", "").replace("«", "")
    stories = [p.read_text(encoding="utf-8") for p in seed_corpus.iterdir()]
    assert any(passage.split("\n")[0] in s for s in stories)


def test_ask_json(indexed: dict[str, str | None]) -> None:
    result = invoke(["ask", "--json", "-k", "2", GRANDMOTHER], indexed)

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["found"] is True
    assert len(answer["hits"]) == 2
    top = answer["hits"][0]
    assert top["artist"] == "Bakhyt Camara"
    assert top["best_sentence"] in top["text"]
    assert "balalaika" in top["text"]


def test_ask_without_an_answer_says_so(indexed: dict[str, str | None]) -> None:
    result = invoke(["ask", "--json", "?!"], indexed)

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["found"] is False and answer["hits"] == [] and answer["reason"]


def test_repl_commands_and_quit(indexed: dict[str, str | None]) -> None:
    lines = [
        GRANDMOTHER,
        ":k 1",
        ":scores",
        ":more",
        ":artists",
        ":help",
        ":quit",
        "this line is never read",
    ]

    result = invoke(["repl"], indexed, stdin="\n".join(lines) + "\n")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "artistbot: 2 stories" in out
    assert "balalaika" in out
    assert "showing 1 passages" in out
    assert "scores on" in out and "dense" in out
    assert "Talgat Baktybekova (Moonlight Serenaders)" in out
    assert "Bakhyt Camara (The Steppe Serenaders)" in out
    assert ":quit" in out and ":about ARTIST" in out and ":reload" in out  # the help text
    assert out.rstrip().endswith("bye")


def test_repl_ends_cleanly_at_end_of_input(indexed: dict[str, str | None]) -> None:
    result = invoke(["repl"], indexed, stdin="Who fronts Moonlight Serenaders?\n:more")

    assert result.exit_code == 0, result.output
    assert "Talgat Baktybekova" in result.stdout
    assert result.stdout.rstrip().endswith("bye")


def test_repl_more_before_a_question(indexed: dict[str, str | None]) -> None:
    result = invoke(["repl"], indexed, stdin=":more\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("bye")
    assert "Traceback" not in result.output


def test_eval_json_has_the_contract_and_leaves_the_data_dir_alone(
    tmp_path: Path, session_data_dir: Path, seed_corpus: Path
) -> None:
    data = new_data_dir(tmp_path, session_data_dir)
    configured = tmp_path / "configured-corpus"  # the corpus of the default index
    configured.mkdir()
    before = snapshot(data)

    result = invoke(
        [
            "eval",
            "--corpus",
            str(seed_corpus),
            "--questions",
            str(SEED_QUESTIONS),
            "--k",
            "5",
            "--json",
        ],
        environment(data, configured),
    )

    assert result.exit_code == 0, result.output
    (line,) = result.stdout.strip().splitlines()  # one JSON object, nothing else
    figures = json.loads(line)
    assert isinstance(figures, dict)
    assert set(figures) >= CONTRACT_KEYS
    assert figures["questions"] == 49 and figures["negatives"] == 12
    for key in CONTRACT_KEYS:
        assert isinstance(figures[key], int | float), key
    assert 0 <= figures["hit@1"] <= figures["hit@3"] <= figures["hit@5"] <= 1
    assert figures["max_passage_words"] <= 160
    # No default index was created, and nothing else in the data directory changed.
    assert not (data / "index").exists()
    assert snapshot(data) == before
    assert sorted(p.name for p in data.iterdir()) == ["models"]


def test_eval_refuses_a_broken_question_file(
    indexed: dict[str, str | None], seed_corpus: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "Who?"}\n', encoding="utf-8")

    result = CliRunner().invoke(
        cli,
        ["eval", "--corpus", str(seed_corpus), "--questions", str(questions), "--json"],
        env=indexed,
    )

    assert result.exit_code != 0
    assert "questions.jsonl:1" in result.output


# --- refusals, through the console script as a user meets them --------------------------------


def run_artistbot(
    args: list[str], env: Mapping[str, str | None]
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ARTISTBOT_")}
    full.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run(
        [str(ARTISTBOT), *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_invalid_env_value_names_the_setting(tmp_path: Path, seed_corpus: Path) -> None:
    env = environment(tmp_path / "data", seed_corpus, ARTISTBOT_RETRIEVAL__TOP_K="zero")

    result = run_artistbot(["index"], env)

    assert result.returncode != 0
    assert "retrieval.top_k" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "config",
    [
        '[telegram]\ntoken = "123456:AAE-super-secret-value"\n',
        '[discord]\nbot_token = "123456:AAE-super-secret-value"\n',
        'token = "123456:AAE-super-secret-value"\n',
    ],
    ids=["telegram.token", "discord.bot_token", "top-level token"],
)
def test_config_file_with_a_token_is_refused(
    tmp_path: Path, seed_corpus: Path, config: str
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(config, encoding="utf-8")

    result = run_artistbot(
        ["--config", str(config_file), "index"], environment(tmp_path / "data", seed_corpus)
    )

    assert result.returncode != 0
    assert "token" in result.stderr and "environment" in result.stderr
    assert "super-secret-value" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_answers_a_question(indexed: dict[str, str | None]) -> None:
    result = run_artistbot(["ask", "--json", GRANDMOTHER], indexed)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["artist"] == "Bakhyt Camara"


@pytest.mark.parametrize(
    ("command", "variable", "how"),
    [("telegram", "TELEGRAM_BOT_TOKEN", "@BotFather"), ("discord", "DISCORD_BOT_TOKEN", "portal")],
)
def test_a_bot_without_its_token_says_how_to_set_it(
    tmp_path: Path, seed_corpus: Path, command: str, variable: str, how: str
) -> None:
    env = {**environment(tmp_path / "data", seed_corpus), variable: None}

    result = invoke([command], env)

    assert result.exit_code == 1
    assert f"{variable} is not set" in result.output and how in result.output
    assert not (tmp_path / "data").exists()  # nothing was loaded


def test_ask_reads_a_question_that_is_not_utf8(indexed: dict[str, str | None]) -> None:
    # Bytes that are not UTF-8 reach Python's argv as lone surrogates ("surrogateescape").
    question = "who is talgat \udcff\udcfe caf\udce9 baktybekova"

    for args in (["ask", question], ["ask", "--json", question]):
        result = invoke(args, indexed)
        assert result.exit_code == 0, result.output
        assert "Talgat Baktybekova" in result.stdout and "Traceback" not in result.output
    assert json.loads(result.stdout)["question"] == "who is talgat ÿþ café baktybekova"


def test_ask_refuses_an_overlong_question_like_the_chats(indexed: dict[str, str | None]) -> None:
    question = "who is talgat " * 800

    refused = invoke(["ask", question], indexed)
    lifted = invoke(["ask", "--no-limit", "--json", question], indexed)

    assert refused.exit_code == 2 and "too long" in refused.output
    assert "--no-limit" in refused.output
    assert lifted.exit_code == 0 and json.loads(lifted.stdout)["found"] is True


def test_ask_says_a_corpus_warning_once_until_the_file_changes(
    tmp_path: Path, session_data_dir: Path, seed_corpus: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    (corpus / "broken.txt").write_text("Aigerim plays the dombra.\n", encoding="utf-8")
    (corpus / "broken.toml").write_text("artist = = 'x'\n", encoding="utf-8")
    env = environment(new_data_dir(tmp_path, session_data_dir), corpus)

    first = run_artistbot(["ask", GRANDMOTHER], env)
    second = run_artistbot(["ask", GRANDMOTHER], env)
    (corpus / "broken.toml").write_text("artist = [\n", encoding="utf-8")
    third = run_artistbot(["ask", GRANDMOTHER], env)

    assert first.returncode == second.returncode == third.returncode == 0, first.stderr
    assert "skipping broken.txt: its metadata file broken.toml is not valid TOML" in first.stderr
    assert "broken" not in second.stderr  # the same broken file: said already
    assert "broken.toml" in third.stderr  # changed, still broken: said again
    assert "INFO" not in first.stderr  # a person's command prints no log lines


def test_repl_says_what_was_wrong_in_its_own_words(indexed: dict[str, str | None]) -> None:
    lines = [":more", ":about", ":frobnicate", ":", ":k 0", ":k abc", ":k 99", ":k 2"]

    out = invoke(["repl"], indexed, stdin="\n".join(lines) + "\n").stdout

    assert "Ask a question first, then :more shows further passages." in out
    assert "Usage: :about <artist>" in out
    assert "Unknown command :frobnicate." in out
    assert "Type a command after the colon" in out
    for given in ("0", "abc", "99"):
        assert f":k takes a number of passages from 1 to 20, not {given}" in out
    assert "showing 2 passages" in out
    assert "/more" not in out and "/about" not in out
    assert out.count("Type a question, or a command") == 0  # no help reprinted


def test_stories_add_list_remove_restore_and_log(
    tmp_path: Path, session_data_dir: Path, seed_corpus: Path, encoder: Encoder
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    env = environment(new_data_dir(tmp_path, session_data_dir), corpus)
    story = tmp_path / "aruzhan.txt"
    story.write_bytes(story_file("Aruzhan Sadykova", "Golden Domra", "a shepherd from Taraz"))

    added = invoke(["stories", "add", str(story)], env)
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("Added story aruzhan. Here is what I understood:\n")
    assert "Aruzhan Sadykova\nBand: Golden Domra\n" in added.stdout
    listed = invoke(["stories", "list"], env)
    assert "• aruzhan: Aruzhan Sadykova (Golden Domra), “Aruzhan Sadykova”, 1 passage" in (
        listed.stdout
    )
    # Removing asks first: "no" at the prompt changes nothing; --yes removes.
    kept = invoke(["stories", "remove", "Aruzhan Sadykova"], env, stdin="n\n")
    assert kept.exit_code == 1 and "not changed" in kept.output
    assert (corpus / "aruzhan.txt").is_file()
    removed = invoke(["stories", "remove", "aruzhan", "--yes"], env)
    assert removed.stdout.startswith("Removed story aruzhan (Aruzhan Sadykova)")
    assert not (corpus / "aruzhan.txt").exists()
    assert "_aruzhan.txt" in invoke(["stories", "restore"], env).stdout
    restored = invoke(["stories", "restore", "aruzhan"], env)
    assert restored.stdout.startswith("Put back story aruzhan as it was. 3 stories in all.")
    assert (corpus / "aruzhan.txt").read_bytes() == story.read_bytes()
    log = invoke(["stories", "log"], env).stdout.splitlines()
    assert [line.split()[3:5] for line in log] == [
        ["added", "aruzhan"],
        ["removed", "aruzhan"],
        ["restored", "aruzhan"],
    ]
    refused = invoke(["stories", "add", str(tmp_path / "aruzhan.txt")], env)
    assert refused.exit_code == 1
    assert "the stories already hold it, as story aruzhan" in refused.output
