"""Dense vectors of the sentences, and the FAISS index that searches them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.core.errors import IndexDamagedError
from index.store.files import reading

VECTORS, FAISS = "vectors.npy", "faiss.index"
# HNSW graph parameters: measured with `eventbot bench --scale` (README, "Scale").
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 640


def build_ann(vectors: np.ndarray, index_type: str) -> Any:
    """A FAISS inner-product index over unit vectors (inner product = cosine)."""
    dimension = vectors.shape[1]
    ann: Any
    if index_type == "hnsw":
        ann = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        ann.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        ann.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        ann = faiss.IndexFlatIP(dimension)
    if len(vectors):
        ann.add(vectors)
    return ann


def save(folder: Path, vectors: np.ndarray, ann: Any) -> None:
    with open(folder / VECTORS, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    faiss.write_index(ann, str(folder / FAISS))


def load_vectors(folder: Path) -> np.ndarray:
    path = folder / VECTORS
    with reading(path):
        vectors = np.load(path, allow_pickle=False)
    if vectors.dtype != np.float32 or vectors.ndim != 2:
        raise IndexDamagedError(f"index file {path} is damaged (not a float32 matrix)")
    return vectors


def load_ann(folder: Path) -> Any:
    path = folder / FAISS
    with reading(path):
        if not path.is_file():  # faiss's own message for a missing file is C++ text
            raise FileNotFoundError(path)
        if not os.access(path, os.R_OK):
            raise PermissionError(path)
        ann = faiss.read_index(str(path))
    if hasattr(ann, "hnsw"):
        ann.hnsw.efSearch = HNSW_EF_SEARCH  # a search-time setting: this version's, not the builder's
    return ann
