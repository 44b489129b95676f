"""The index on disk. Each stored component saves, loads and checks itself; this module owns the folder.

Layout under INDEX_DIR: `CURRENT` names the live build folder under `builds/`. A build is written to
a fresh folder and only then made live by replacing `CURRENT` (an atomic rename), so a build that
dies half way leaves the previous index whole. A build folder holds:

| file | component |
| --- | --- |
| `manifest.json`, `sentences.json` | `catalog`: what built the index, and the sentence records |
| `vectors.npy`, `faiss.index` | `dense`: sentence vectors and their FAISS index |
| `paragraphs.npz` | `paragraphs.ParagraphVectors` |
| `clauses.npz` | `clauses.ClauseVectors` |
| `bm25_sentences/`, `bm25_paragraphs/`, `words.json` | `lexical.Lexical` |
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexDamagedError, IndexMissingError
from index.records import Sentence
from index.store import catalog, dense
from index.store.catalog import FORMAT_VERSION, Manifest
from index.store.clauses import ClauseVectors
from index.store.files import fsync_dir, reading, write_bytes
from index.store.lexical import Lexical
from index.store.paragraphs import ParagraphVectors, _stack

__all__ = [
    "FORMAT_VERSION",
    "ClauseVectors",
    "IndexData",
    "Lexical",
    "Manifest",
    "ParagraphVectors",
    "Shard",
    "current_build",
    "load_index",
    "read_manifest",
    "save_index",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shard:
    """Sentences with every vector made from them: one document's share of an index, or a whole index's."""

    sentences: tuple[Sentence, ...]
    vectors: np.ndarray
    paragraphs: ParagraphVectors
    clauses: ClauseVectors

    def take(self, rows: Sequence[int]) -> Shard:
        """Some rows (one document's, in order) as a shard of their own."""
        return Shard(
            tuple(self.sentences[i] for i in rows), self.vectors[list(rows)], self.paragraphs.take(rows), self.clauses.take(rows)
        )

    @staticmethod
    def concat(shards: Sequence[Shard], dimension: int) -> Shard:
        """Shards one after the other, as one."""
        return Shard(
            tuple(s for shard in shards for s in shard.sentences),
            _stack([shard.vectors for shard in shards], dimension),
            ParagraphVectors.concat([shard.paragraphs for shard in shards], dimension),
            ClauseVectors.concat([shard.clauses for shard in shards], dimension),
        )


@dataclass(frozen=True, slots=True)
class IndexData:
    """A whole loaded index; `vectors[i]`, FAISS id i and BM25 row i belong to `sentences[i]`."""

    manifest: Manifest
    shard: Shard
    ann: Any  # faiss.Index; faiss ships no type hints
    lexical: Lexical

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return self.shard.sentences

    @property
    def vectors(self) -> np.ndarray:
        return self.shard.vectors


def current_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when no index has been built."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexDamagedError(f"cannot read {pointer}: {exc.strerror}") from None
    return index_dir / "builds" / name


def read_manifest(index_dir: Path) -> Manifest | None:
    """Only the manifest (cheap: no vectors), or None when no index exists."""
    folder = current_build(index_dir)
    return None if folder is None else catalog.load_manifest(folder)


def load_index(index_dir: Path, *, model: str, dimension: int | None = None) -> IndexData:
    """Load and check the live index; any fault is one IndexDamagedError line naming the problem."""
    folder = current_build(index_dir)
    if folder is None:
        raise IndexMissingError(f"no index in {index_dir}")
    with reading(folder, "index folder"):
        if not folder.is_dir():
            raise FileNotFoundError(folder)
    manifest = catalog.load_manifest(folder)
    if manifest.model != model:
        raise IndexDamagedError(f"index was built with model {manifest.model!r} but the embedder is {model!r}")
    if dimension is not None and manifest.dimension != dimension:
        raise IndexDamagedError(f"index has {manifest.dimension}-dimensional vectors but the model makes {dimension}")
    shard = Shard(
        catalog.load_sentences(folder),
        dense.load_vectors(folder),
        ParagraphVectors.load(folder),
        ClauseVectors.load(folder),
    )
    ann = dense.load_ann(folder)
    lexical = Lexical.load(folder)
    counts = {
        "manifest": manifest.sentence_count,
        "records": len(shard.sentences),
        "vectors": len(shard.vectors),
        "FAISS": ann.ntotal,
        "BM25": lexical.size,
        "paragraphs": len(shard.paragraphs),
        "clauses": len(shard.clauses),
    }
    if len(set(counts.values())) != 1:
        found = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexDamagedError(f"index counts disagree ({found})")
    dims = {shard.vectors.shape[-1], ann.d, shard.paragraphs.vectors.shape[-1], shard.clauses.vectors.shape[-1]}
    if dims != {manifest.dimension}:
        raise IndexDamagedError(f"index vectors do not have the manifest's dimension {manifest.dimension}")
    return IndexData(manifest, shard, ann, lexical)


def save_index(index_dir: Path, data: IndexData) -> Path:
    """Write a new build folder, then switch `CURRENT` to it atomically; old builds are removed."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000:06d}"
    staging = builds / f".{name}.partial"
    staging.mkdir()
    catalog.save_manifest(staging, data.manifest)
    catalog.save_sentences(staging, data.shard.sentences)
    dense.save(staging, data.shard.vectors, data.ann)
    data.shard.paragraphs.save(staging)
    data.shard.clauses.save(staging)
    data.lexical.save(staging)
    final = builds / name
    os.replace(staging, final)
    write_bytes(index_dir / "CURRENT.partial", name.encode("utf-8"))
    os.replace(index_dir / "CURRENT.partial", index_dir / "CURRENT")
    fsync_dir(index_dir)
    for old in builds.iterdir():
        # A `.partial` folder may belong to a build still running elsewhere; leave young ones alone.
        stale_partial = old.name.endswith(".partial") and time.time() - old.stat().st_mtime > 3600
        if old.name != name and (not old.name.endswith(".partial") or stale_partial):
            shutil.rmtree(old, ignore_errors=True)
    return final
