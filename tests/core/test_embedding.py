"""The encoders: the int8 question path against the float32 model it was made from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from retrieval import RetrievalSettings
from retrieval.embedding import Encoder
from retrieval.models import open_encoder
from retrieval.onnx_export import QUANTISED_FILE

SEED_QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "seeds" / "questions.jsonl"


def seed_questions() -> list[str]:
    lines = SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def test_int8_questions_point_where_float32_ones_do(
    encoder: Encoder, retrieval_settings: RetrievalSettings
) -> None:
    reference = open_encoder(retrieval_settings.model_copy(update={"query_precision": "float32"}))
    questions = seed_questions()

    fast = encoder.encode_queries(questions)
    exact = reference.encode_queries(questions)

    assert fast.shape == exact.shape == (len(questions), encoder.dimension)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * exact).sum(axis=1)
    assert cosines.min() > 0.98, f"worst question: {questions[int(cosines.argmin())]!r}"
    # Passages are embedded by the float32 model whatever the question precision.
    passage = "Talgat played the dombra on every stage."
    assert np.allclose(encoder.encode([passage]), reference.encode([passage]), atol=1e-6)


def test_a_question_gets_the_same_vector_whatever_it_is_embedded_with(encoder: Encoder) -> None:
    questions = seed_questions()
    alone = np.stack([encoder.encode_queries([q])[0] for q in questions[:8]])

    together = encoder.encode_queries(questions[:8], batch_size=8)
    shuffled = encoder.encode_queries(questions[7::-1], batch_size=8)[::-1]

    assert np.array_equal(together, alone)
    assert np.array_equal(shuffled, alone)


def test_a_passage_gets_its_own_vector_batched_with_texts_of_other_lengths(
    encoder: Encoder,
) -> None:
    # Texts are ordered by word pieces and padded per batch; padding must not leak into a
    # vector, nor the order into which text gets which vector.
    story = (SEED_QUESTIONS.parents[2] / "corpus").glob("*.txt")
    words = " ".join(path.read_text(encoding="utf-8") for path in sorted(story)).split()
    texts = [" ".join(words[i : i + n]) for i, n in enumerate([3, 180, 40, 1, 90, 12, 250, 7])]

    alone = np.stack([encoder.encode([t])[0] for t in texts])
    together = encoder.encode(texts, batch_size=3)

    assert np.allclose(together, alone, atol=1e-5)
    assert (together @ alone.T).argmax(axis=1).tolist() == list(range(len(texts)))


def test_sentences_counted_while_splitting_embed_as_they_would_uncounted(
    encoder: Encoder, retrieval_settings: RetrievalSettings
) -> None:
    # A fresh encoder: nothing counted before this test.
    counted = open_encoder(retrieval_settings)
    sentences = [
        "Her first record sold out in a week.",
        "The dombra, a two-stringed lute, is older than the steppe's oldest songs.",
        "Tonight they were about to perform for the president himself.",
    ]
    long = " ".join(["word"] * 300)  # over the model's limit: truncated when embedded

    counts = [counted.count_tokens(text) for text in [*sentences, long]]
    vectors = counted.encode([long, *sentences], batch_size=2)

    assert counts[:3] == [counted.count_tokens(t) for t in sentences]  # counting twice is fine
    assert counts[3] > encoder.max_tokens
    assert np.allclose(vectors, encoder.encode([long, *sentences], batch_size=2), atol=1e-6)
    again = counted.encode(sentences, batch_size=2)  # nothing kept now: tokenised afresh
    assert np.allclose(again, vectors[1:], atol=1e-6)


def test_the_int8_copy_is_made_once_next_to_the_export(
    encoder: Encoder, retrieval_settings: RetrievalSettings
) -> None:
    copies = list((retrieval_settings.data_dir / "models").glob(f"*/{QUANTISED_FILE}"))
    assert len(copies) == 1
    made = copies[0].stat().st_mtime_ns

    again = open_encoder(retrieval_settings)
    again.encode_queries(["who plays the dombra?"])

    assert copies[0].stat().st_mtime_ns == made
    assert not [p for p in copies[0].parent.iterdir() if p.name.startswith(".")]


def test_two_processes_opening_the_model_at_once_both_get_it(
    encoder: Encoder, retrieval_settings: RetrievalSettings, tmp_path: Path
) -> None:
    # Two bots (or a bot and `artistbot index`) starting together on a machine where the
    # int8 copy is not made yet: one makes it, the other waits for it, neither fails.
    [export] = (retrieval_settings.data_dir / "models").glob(f"*/{QUANTISED_FILE}")
    fresh = tmp_path / "data" / "models" / export.parent.name
    shutil.copytree(export.parent, fresh, ignore=shutil.ignore_patterns(QUANTISED_FILE, "*.lock"))
    settings = retrieval_settings.model_copy(update={"data_dir": tmp_path / "data"})
    script = (
        "import sys\n"
        "from retrieval import RetrievalSettings\n"
        "from retrieval.models import open_encoder\n"
        "settings = RetrievalSettings.model_validate_json(sys.argv[1])\n"
        "print(open_encoder(settings).encode_queries(['who plays the dombra?'])[0][:4].tolist())\n"
    )
    command = [sys.executable, "-c", script, settings.model_dump_json()]

    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    outputs = [run.communicate(timeout=300) for run in runs]

    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()[-2000:]
    assert outputs[0][0] == outputs[1][0]  # the same vector from the same int8 copy
    assert (fresh / QUANTISED_FILE).is_file()
    assert not [p for p in fresh.iterdir() if p.name.startswith((".", "model-"))]
