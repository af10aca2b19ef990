"""Exporting the model to ONNX once, and quantising an int8 copy of it for questions.

The sentence-transformers pipeline (encoder, pooling, normalisation) is exported into
the data directory (:func:`export_onnx`) and run by :mod:`retrieval.onnx_encoder`;
questions go through the int8 copy (:func:`quantise`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

# 3: the sentence vector is the only output (2 also gave each token's, for late chunking).
# 4: attention exported as plain matrix products (see export_onnx).
EXPORT_VERSION = 4
MODEL_FILE = "model.onnx"
# The exported model's output: the pooled, normalised sentence vector.
SENTENCE_OUTPUT = "sentence_embedding"
QUANTISED_FILE = "model.int8.onnx"
# The tokenizer's outputs a BERT-style model may take (meta.json lists those it does).
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(model_dir: Path, export_dir: Path) -> None:
    """Export the sentence-transformers pipeline (encoder, pooling, normalisation) to ONNX.

    Runs once per model; writes into a temporary folder that is renamed into place.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    log.info("exporting %s to ONNX (once)", model_dir.name)
    # "eager" attention exports as plain matrix products and a softmax. PyTorch's fused
    # attention (the default) exports as a longer graph with NaN guards that ONNX Runtime
    # runs slower on this 2-core Xeon: passages 71 -> 88 a second, an int8 question 2.3
    # -> 2.0 ms. Passage vectors are the same to 2e-7, so built indices stay valid.
    model = SentenceTransformer(
        str(model_dir),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},
    ).eval()
    features = model.preprocess(["an example sentence", "another"])
    inputs = [k for k in INPUTS if k in features]

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
    axes[SENTENCE_OUTPUT] = {0: "batch"}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pipeline(),
                tuple(features[k] for k in inputs),
                str(tmp / "model.onnx"),
                input_names=inputs,
                output_names=[SENTENCE_OUTPUT],
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


def quantise(model: Path, target: Path) -> None:
    """Write an int8 copy of ``model`` (dynamic quantisation, per-channel weights) to ``target``.

    Per-channel weights keep question vectors within a cosine of about 0.99 of the
    float32 model's; per-tensor weights fall to 0.95. Written to a temporary file
    that is renamed into place, so a killed run leaves no half-written model.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log.info("quantising %s to int8 for questions (once)", model.parent.name)
    tmp = target.with_name(f".{os.getpid()}.{target.name}")
    try:
        with _quiet_root_logger():
            quantize_dynamic(str(model), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    # onnxruntime.quantization advises on pre-processing through the root logger.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
