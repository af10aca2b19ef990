"""Opening the encoder the settings ask for: the packaged model, never from a hub."""

from __future__ import annotations

from pathlib import Path

from retrieval.embedding import Encoder, QueryPrecision, fingerprint, offline, resolve_model
from retrieval.files import folder_lock
from retrieval.onnx_encoder import OnnxEncoder
from retrieval.onnx_export import EXPORT_VERSION, MODEL_FILE, QUANTISED_FILE, export_onnx, quantise
from retrieval.settings import RetrievalSettings
from retrieval.torch_encoder import TorchEncoder


def open_encoder(settings: RetrievalSettings) -> Encoder:
    """The encoder the settings ask for."""
    return load_encoder(
        settings.model,
        backend=settings.backend,
        data_dir=settings.data_dir,
        threads=settings.threads,
        query_precision=settings.query_precision,
    )


def query_path(settings: RetrievalSettings) -> str:
    """Which model embeds questions under ``settings``, as one string.

    Question vectors differ between exports (the int8 copy is quantised from each), so
    caches of them, and of the no-answer bar measured with them, are keyed by this.
    """
    if settings.backend != "onnx":
        return f"{settings.backend}/float32"
    return f"onnx/{settings.query_precision}/export-v{EXPORT_VERSION}"


def export_needed(settings: RetrievalSettings) -> bool:
    """Whether opening the encoder will first export the model to ONNX (once per machine)."""
    if settings.backend != "onnx":
        return False
    model_dir = resolve_model(settings.model)
    return not (_export_dir(model_dir, settings.data_dir) / MODEL_FILE).is_file()


def _export_dir(model_dir: Path, data_dir: Path) -> Path:
    return data_dir / "models" / f"{model_dir.name}-{fingerprint(model_dir)}-v{EXPORT_VERSION}"


def load_encoder(
    model: str,
    *,
    backend: str,
    data_dir: Path,
    threads: int,
    query_precision: QueryPrecision = "int8",
) -> Encoder:
    """Load the encoder for ``model`` with the given backend (``"onnx"`` or ``"torch"``).

    ``query_precision`` applies to the ONNX backend; torch always runs in float32.
    """
    offline()
    model_dir = resolve_model(model)
    if backend == "torch":
        return TorchEncoder(model_dir, name=model, threads=threads)
    export_dir = _export_dir(model_dir, data_dir)
    passage_model = export_dir / MODEL_FILE
    query_model = export_dir / QUANTISED_FILE if query_precision == "int8" else passage_model
    if not (passage_model.is_file() and query_model.is_file()):
        # One process exports and quantises; another starting meanwhile waits and finds
        # them done (ONNX Runtime's quantiser writes a scratch file beside the model: two
        # at once broke each other's).
        with folder_lock(export_dir.parent):
            if not passage_model.is_file():
                export_onnx(model_dir, export_dir)
            if not query_model.is_file():
                quantise(passage_model, query_model)
    return OnnxEncoder(export_dir, name=model, threads=threads, query_model=query_model)
