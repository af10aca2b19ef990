"""The exported model run with ONNX Runtime: fast on CPU, cheap to start.

The model is exported to ONNX once, with an int8 copy for questions
(:mod:`retrieval.onnx_export`): a seed question in about 2.0 ms instead of 4.2 ms on
one core of the 2-core Xeon, at a cosine of 0.99 to the float32 vector.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np

from retrieval.embedding import TokenCounting, normalise
from retrieval.onnx_export import INPUTS, MODEL_FILE, SENTENCE_OUTPUT

# Texts whose word pieces are kept from counting them to embedding them (see count_tokens);
# squad-scale's build counts 89,549, a 5 MB story about 33,000.
COUNTED_KEPT = 300_000


class OnnxEncoder(TokenCounting):
    """The exported model run with ONNX Runtime: fast on CPU, cheap to start.

    Passages go through ``model.onnx``; questions through ``query_model`` (by default
    the same file). Each session is opened on first use, so a bot serving an
    up-to-date index never loads the passage model at all.
    """

    def __init__(
        self,
        export_dir: Path,
        *,
        name: str,
        threads: int = 2,
        query_model: Path | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / "meta.json").read_text())
        self.name = name
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_seq_length"])
        self._inputs = list(meta["inputs"])
        self._threads = threads
        self._load_counter(export_dir / "tokenizer.json")
        # Not padded: each batch is padded to its own longest text in _feeds.
        self._tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()
        self._passage_model = export_dir / MODEL_FILE
        self._query_model = query_model or self._passage_model
        self._sessions: dict[Path, Any] = {}
        self._opening = threading.Lock()
        # Word pieces of texts counted and not embedded yet, oldest first (count_tokens).
        self._counted: dict[str, np.ndarray] = {}
        self._keeping = threading.Lock()
        # Single-threaded query sessions run side by side, for several questions at once
        # (see _lanes).
        self._pool: ThreadPoolExecutor | None = None
        self._lane_sessions: list[Any] = []

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for ``text``, special tokens included.

        They are kept until ``text`` is embedded (the oldest dropped beyond
        :data:`COUNTED_KEPT` texts): a build counts each sentence to split the stories and
        then embeds the same sentences, and tokenising them again took 6-7 s of
        squad-scale's build (docs/BENCHMARKS.md).
        """
        ids = self._counter.encode(text).ids
        if len(ids) <= self.max_tokens:
            with self._keeping:
                if len(self._counted) >= COUNTED_KEPT:
                    self._counted.pop(next(iter(self._counted)))
                self._counted[text] = np.array(ids, dtype=np.int32)
        return len(ids)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed passages with the float32 model, in length-sorted batches."""
        return self._encode(self._passage_model, texts, batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """Embed questions with the query model.

        The int8 model quantises activations with one scale per call, so in a batch a
        question's vector would depend on its neighbours (scores moved by 0.01): it
        embeds one question per call, and a question always gets the same vector.
        Several questions are spread over ``threads`` single-threaded sessions running
        side by side, which uses the cores better than one session's thread pool on
        one small input after another. The caller runs the first lane itself: a named
        squad-scale question's two texts took 3.2-3.3 ms instead of 3.8-4.4 with every
        lane on a pool thread (docs/BENCHMARKS.md, session 17).
        """
        if self._query_model == self._passage_model:
            return self._encode(self._query_model, texts, batch_size)
        self.open_query_model()  # every query session opens with the first question
        if self._threads == 1 or len(texts) <= 1:
            return self._encode(self._query_model, texts, 1)
        pool, sessions = self._lanes()
        lanes = sessions[: len(texts)]
        chunks = [texts[i :: len(lanes)] for i in range(len(lanes))]
        others = [
            pool.submit(self._encode_lane, s, c) for s, c in zip(lanes[1:], chunks[1:], strict=True)
        ]
        parts = [self._encode_lane(lanes[0], chunks[0]), *(f.result() for f in others)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, part in enumerate(parts):
            out[i :: len(lanes)] = part
        return out

    def open_query_model(self) -> None:
        """Open the sessions the first question opens (to open them while the index loads)."""
        self._session(self._query_model)
        if self._query_model != self._passage_model and self._threads > 1:
            self._lanes()

    def _lanes(self) -> tuple[ThreadPoolExecutor, list[Any]]:
        """The lanes' single-threaded query sessions, and threads for all lanes but the
        first (run by the caller), made on first use. Sessions take concurrent runs."""
        with self._opening:
            if self._pool is None:
                self._lane_sessions = [
                    _open_session(self._query_model, 1) for _ in range(self._threads)
                ]
                self._pool = ThreadPoolExecutor(self._threads - 1, thread_name_prefix="encoder")
            return self._pool, self._lane_sessions

    def _encode_lane(self, session: Any, texts: Sequence[str]) -> np.ndarray:
        pieces = (np.array(self._tokenizer.encode(text).ids, dtype=np.int32) for text in texts)
        return np.vstack([self._run(session, [ids]) for ids in pieces])

    def _encode(self, model: Path, texts: Sequence[str], batch_size: int) -> np.ndarray:
        session = self._session(model)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        pieces = self._pieces(texts)
        # Batches of texts of about the same number of word pieces pad least. Ordered by
        # characters, squad-scale passages were padded by 14% and their sentences (in the
        # build's runs) by 22%; by word pieces, 0.5% and 2.3% (docs/BENCHMARKS.md).
        order = sorted(range(len(texts)), key=lambda i: len(pieces[i]))
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self._run(session, [pieces[i] for i in rows])
        return out

    def _pieces(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's word pieces: kept from counting it, or tokenised now."""
        with self._keeping:
            pieces: list[np.ndarray | None] = [self._counted.pop(t, None) for t in texts]
        missing = [i for i, ids in enumerate(pieces) if ids is None]
        if missing:
            encodings = self._tokenizer.encode_batch_fast([texts[i] for i in missing])
            for i, encoding in zip(missing, encodings, strict=True):
                pieces[i] = np.array(encoding.ids, dtype=np.int32)
        return cast(list[np.ndarray], pieces)  # every text has its pieces now

    def _session(self, model: Path) -> Any:
        session = self._sessions.get(model)
        if session is None:
            with self._opening:
                session = self._sessions.get(model)
                if session is None:
                    session = self._sessions[model] = _open_session(model, self._threads)
        return session

    def _run(self, session: Any, pieces: list[np.ndarray]) -> np.ndarray:
        vectors = session.run([SENTENCE_OUTPUT], self._feeds(pieces))[0]
        return normalise(np.asarray(vectors, dtype=np.float32))

    def _feeds(self, pieces: list[np.ndarray]) -> dict[str, np.ndarray]:
        """The model's inputs for tokenised texts, padded to the longest of them (one text
        each: every token is of type 0)."""
        shape = (len(pieces), max(len(ids) for ids in pieces))
        feeds = {name: np.zeros(shape, dtype=np.int64) for name in INPUTS}
        for row, ids in enumerate(pieces):
            feeds["input_ids"][row, : len(ids)] = ids
            feeds["attention_mask"][row, : len(ids)] = 1
        return {k: feeds[k] for k in self._inputs}


def _open_session(model: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # The pool's threads spin while a run lasts (waking them between an operator's parts
    # costs more) but stop as soon as it returns: spinning on, a worker held the second
    # core while the question was ranked. Six alternating pairs of 300 squad-scale
    # searches: the p50 lower in five (by up to 1.7 ms), the CPU lower in all six (by
    # 16-46%; docs/BENCHMARKS.md, session 16).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
