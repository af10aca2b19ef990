"""A process killed while it indexes a story sent from a chat loses nothing.

The story's file enters the corpus folder only once the index holding it is saved
(:meth:`retrieval.live.LiveIndex.edit`): killed before that, the folder is as it was
and the previous index serves, whole.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval import RetrievalSettings, Retriever
from retrieval.embedding import Encoder
from tests.conftest import EVAL_DIR, ROOT, SEED_CORPUS

ADD_SCRIPT = """
import sys
from pathlib import Path
from retrieval import RetrievalSettings, Retriever

settings = RetrievalSettings(corpus_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
retriever = Retriever.open(settings, index_dir=Path(sys.argv[3]))
print("adding", flush=True)
retriever.add_story(Path(sys.argv[4]).read_bytes(), "long-story.txt")
print("added", flush=True)
"""
ARTICLES = EVAL_DIR / "squad-artists-public" / "corpus"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.5, 2.0])
def test_a_build_killed_during_an_upload_changes_nothing(
    session_data_dir: Path, tmp_path: Path, encoder: Encoder, kill_after: float
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    index_dir = tmp_path / "index"
    settings = RetrievalSettings(corpus_dir=corpus, data_dir=session_data_dir)
    Retriever.open(settings, encoder=encoder, index_dir=index_dir).close()
    before = snapshot(corpus)
    # A long story (about 180 KB, four Wikipedia articles): embedding it takes a while.
    story = tmp_path / "long-story.txt"
    story.write_bytes(b"\n\n".join(p.read_bytes() for p in sorted(ARTICLES.iterdir())[:4]))

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-c", ADD_SCRIPT, str(corpus), str(session_data_dir)]
    with subprocess.Popen(
        [*command, str(index_dir), str(story)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line.strip() == "adding", process.stderr.read()
        time.sleep(kill_after)
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        stderr = process.stderr.read()
    assert still_running, f"the upload ended before the kill: {stderr}"

    assert snapshot(corpus) == before
    reopened = Retriever.open(settings, encoder=encoder, index_dir=index_dir)
    try:
        assert sorted(s.artist for s in reopened.stories) == ["Bakhyt Camara", "Talgat Baktybekova"]
        answer = reopened.search("Who is the lead singer of Moonlight Serenaders?")
        assert answer.found and answer.hits[0].artist == "Talgat Baktybekova"
    finally:
        reopened.close()
