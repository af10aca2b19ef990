"""Typed settings of the retrieval core.

The application loads them from ``config/default.toml`` and the environment
(see :mod:`bot.settings`); the core only ever receives a validated object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MAX_WORDS = 160
DEFAULT_TOP_K = 3


class RetrievalSettings(BaseModel):
    """Everything that decides how stories become an index and how it is searched."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    corpus_dir: Path = Path("corpus")
    data_dir: Path = Path("data")
    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    backend: Literal["onnx", "torch"] = "onnx"
    # Questions are embedded by an int8 copy of the ONNX model (2.5x faster, cosine 0.99
    # to float32) or by the float32 model itself; passages always use float32.
    query_precision: Literal["int8", "float32"] = "int8"
    threads: int = Field(default=2, ge=1, le=64)
    # How candidate passages are found: the vectors grouped around trained centroids and
    # only the groups nearest the question scanned, as float16 ("ivf"; every vector below
    # 1,000 passages), every vector scanned as float16 ("fp16") or float32 ("flat"), or a
    # neighbour graph ("hnsw"). Candidates are then scored from the float32 vectors.
    index_type: Literal["ivf", "fp16", "flat", "hnsw"] = "ivf"
    # A passage's vector: the mean of its sentences' vectors, weighted by their words
    # ("pooled": one pass of the model over the text), or the passage embedded whole too
    # ("whole": a second pass, builds 2.2x slower, no better within noise; docs/BENCHMARKS.md).
    passage_vectors: Literal["pooled", "whole"] = "pooled"
    max_words: int = Field(default=DEFAULT_MAX_WORDS, ge=20, le=400)
    top_k: int = Field(default=DEFAULT_TOP_K, ge=1, le=20)
    # How dense and lexical scores are fused: weight of the dense score in [0, 1].
    dense_weight: float = Field(default=0.8, ge=0.0, le=1.0)
    # BM25 scaled by the best candidate's score ("max") or by the most the question
    # could score ("query").
    lexical_scale: Literal["max", "query"] = "max"
    # Added to the fused score of passages from a story the question names.
    artist_boost: float = Field(default=0.3, ge=0.0, le=1.0)
    # Rank a question that names a story by its other words too (a second embedding:
    # better passages, about 1 ms more for such questions).
    rank_without_names: bool = True
    # ... keeping this weight on the whole question, names included: the names still say
    # which of the story's passages are about them.
    named_question_weight: float = Field(default=0.3, ge=0.0, le=1.0)
    # Weight of the whole passage's cosine against its best sentence's, in the dense score.
    passage_weight: float = Field(default=0.15, ge=0.0, le=1.0)
    # "No answer" unless the best passage's dense score beats what unrelated questions
    # reach on this index (their ``null_quantile``; see retrieval.relevance), or a fixed
    # ``min_dense`` when set; or it reaches min_dense_with_terms and holds min_coverage
    # of the question's term weight (idf).
    null_quantile: float = Field(default=0.99, ge=0.5, le=1.0)
    min_dense: float | None = Field(default=None, ge=-1.0, le=1.0)
    min_dense_floor: float = Field(default=0.2, ge=-1.0, le=1.0)
    min_dense_with_terms: float = Field(default=0.25, ge=-1.0, le=1.0)
    min_coverage: float = Field(default=0.75, ge=0.0, le=1.0)
    # Candidates taken from each retriever before fusion.
    candidates: int = Field(default=50, ge=5, le=1000)
    # Texts per model call when passages and their sentences are embedded. Small batches
    # run faster on the 2-core Xeon (squad-scale sentences: 36-41 passages a second at 8,
    # 29 at 32; whole passages 41-43 at 8, 32-34 at 32; docs/BENCHMARKS.md, session 9).
    # Still so with batches ordered by word pieces, on the 2-core EPYC (session 10): whole
    # passages 77 a second at 8, 58-64 at 32; sentences about the same at 8, 16 and 32.
    encode_batch_size: int = Field(default=8, ge=1, le=1024)
    # Questions in Russian and Kazakh, searched with multilingual-e5 vectors stored beside
    # the MiniLM ones: "on", "off", or "auto" (on while the corpus has at most
    # multilingual_max_passages passages: e5 embeds a passage and its sentences in
    # 0.5-2 s, built in the background while English answers already work).
    multilingual: Literal["auto", "on", "off"] = "auto"
    multilingual_max_passages: int = Field(default=1000, ge=0)

    def multilingual_for(self, passages: int) -> bool:
        """Whether an index of ``passages`` passages gets its multilingual vectors."""
        if self.multilingual == "auto":
            return passages <= self.multilingual_max_passages
        return self.multilingual == "on"

    def resolved(self, root: Path) -> RetrievalSettings:
        """Return a copy whose relative directories are resolved against ``root``."""
        return self.model_copy(
            update={
                "corpus_dir": _under(root, self.corpus_dir),
                "data_dir": _under(root, self.data_dir),
            }
        )


def _under(root: Path, path: Path) -> Path:
    return path if path.is_absolute() else (root / path).resolve()
