"""Stage 4: the index on disk: vectors, FAISS, sentence records and a manifest, written atomically.

Layout under INDEX_DIR: `CURRENT` names the live build folder under `builds/`. A build is written to
a fresh folder and only then made live by replacing `CURRENT` (an atomic rename), so a build that
dies half way leaves the previous index whole.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.errors import IndexDamagedError, IndexMissingError
from index.lexical import Lexical
from index.records import DocumentInfo, Sentence

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
FIX = "run `eventbot build` to rebuild it"
# HNSW graph parameters: measured with `eventbot bench --scale` (README, "Scale").
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 640


@dataclass(frozen=True, slots=True)
class Manifest:
    """What built the index, stamped so a mismatch on load is refused."""

    format_version: int
    pipeline: int
    model: str
    dimension: int
    index_type: str
    sentence_count: int
    built_at: str
    documents: tuple[DocumentInfo, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Vectors that let a sentence's surroundings and parts inform its score.

    `paragraph_of[i]` is the row of sentence i's paragraph in `paragraph_vectors`; the clauses of
    sentence i are rows `clause_start[i]:clause_start[i + 1]` of `clause_vectors`.
    """

    paragraph_of: np.ndarray
    paragraph_vectors: np.ndarray
    clause_start: np.ndarray
    clause_vectors: np.ndarray


@dataclass(frozen=True, slots=True)
class IndexData:
    """A whole loaded index; `vectors[i]`, FAISS id i and BM25 row i belong to `sentences[i]`."""

    manifest: Manifest
    sentences: tuple[Sentence, ...]
    vectors: np.ndarray
    context: Context
    ann: Any  # faiss.Index; faiss ships no type hints
    lexical: Lexical


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


def current_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when no index has been built."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexDamagedError(f"cannot read {pointer}: {exc.strerror}; {FIX}") from None
    return index_dir / "builds" / name


def read_manifest(index_dir: Path) -> Manifest | None:
    """Only the manifest (cheap: no vectors), or None when no index exists."""
    folder = current_build(index_dir)
    if folder is None:
        return None
    return _read_manifest(folder)


def _read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format_version") != FORMAT_VERSION:
            raise IndexDamagedError(
                f"index at {folder} has format {raw.get('format_version')}, this version reads {FORMAT_VERSION}; {FIX}"
            )
        documents = tuple(DocumentInfo(**doc) for doc in raw.pop("documents"))
        return Manifest(documents=documents, **raw)
    except IndexDamagedError:
        raise
    except FileNotFoundError:
        raise IndexDamagedError(f"index manifest {path} is missing; {FIX}") from None
    except PermissionError:
        raise IndexDamagedError(f"index manifest {path} is not readable (permissions); {FIX}") from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        raise IndexDamagedError(f"index manifest {path} is damaged; {FIX}") from None


def load_index(index_dir: Path, *, model: str, dimension: int | None = None) -> IndexData:
    """Load and check the live index; any fault is one line naming the problem and the fix."""
    folder = current_build(index_dir)
    if folder is None:
        raise IndexMissingError(f"no index in {index_dir}; run `eventbot build` to build it")
    if not folder.is_dir():
        raise IndexDamagedError(f"index folder {folder} is missing; {FIX}")
    manifest = _read_manifest(folder)
    if manifest.model != model:
        raise IndexDamagedError(f"index was built with model {manifest.model!r} but EMBEDDING_MODEL is {model!r}; {FIX}")
    if dimension is not None and manifest.dimension != dimension:
        raise IndexDamagedError(f"index has {manifest.dimension}-dimensional vectors but the model makes {dimension}; {FIX}")
    sentences = _read_sentences(folder / "sentences.json")
    vectors = _read_vectors(folder / "vectors.npy")
    context = _read_context(folder / "context.npz")
    ann = _read_faiss(folder / "faiss.index")
    lexical = _read_lexical(folder)
    counts = {
        "manifest": manifest.sentence_count,
        "records": len(sentences),
        "vectors": len(vectors),
        "FAISS": ann.ntotal,
        "BM25": lexical.size,
        "context": len(context.paragraph_of),
        "clauses": len(context.clause_start) - 1,
    }
    if len(set(counts.values())) != 1:
        found = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexDamagedError(f"index counts disagree ({found}); {FIX}")
    dims = {vectors.shape[-1], ann.d, context.paragraph_vectors.shape[-1], context.clause_vectors.shape[-1]}
    if vectors.ndim != 2 or dims != {manifest.dimension}:
        raise IndexDamagedError(f"index vectors do not have the manifest's dimension {manifest.dimension}; {FIX}")
    if len(sentences) and (
        int(context.clause_start[-1]) != len(context.clause_vectors)
        or int(context.paragraph_of.max()) >= len(context.paragraph_vectors)
    ):
        raise IndexDamagedError(f"index context vectors do not match the sentences; {FIX}")
    return IndexData(manifest, sentences, vectors, context, ann, lexical)


def _read_sentences(path: Path) -> tuple[Sentence, ...]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return tuple(Sentence(*row) for row in rows)
    except FileNotFoundError:
        raise IndexDamagedError(f"index file {path} is missing; {FIX}") from None
    except PermissionError:
        raise IndexDamagedError(f"index file {path} is not readable (permissions); {FIX}") from None
    except (OSError, ValueError, TypeError):
        raise IndexDamagedError(f"index file {path} is damaged; {FIX}") from None


def _read_vectors(path: Path) -> np.ndarray:
    try:
        vectors = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise IndexDamagedError(f"index file {path} is missing; {FIX}") from None
    except PermissionError:
        raise IndexDamagedError(f"index file {path} is not readable (permissions); {FIX}") from None
    except (OSError, ValueError, EOFError):
        raise IndexDamagedError(f"index file {path} is damaged; {FIX}") from None
    if vectors.dtype != np.float32:
        raise IndexDamagedError(f"index file {path} is damaged (not float32 vectors); {FIX}")
    return vectors


def _read_context(path: Path) -> Context:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Context(arrays["paragraph_of"], arrays["paragraph_vectors"], arrays["clause_start"], arrays["clause_vectors"])
    except FileNotFoundError:
        raise IndexDamagedError(f"index file {path} is missing; {FIX}") from None
    except PermissionError:
        raise IndexDamagedError(f"index file {path} is not readable (permissions); {FIX}") from None
    except (OSError, ValueError, EOFError, KeyError):
        raise IndexDamagedError(f"index file {path} is damaged; {FIX}") from None


def _read_lexical(folder: Path) -> Lexical:
    try:
        return Lexical.load(folder)
    except FileNotFoundError:
        raise IndexDamagedError(f"index BM25 files in {folder} are missing; {FIX}") from None
    except PermissionError:
        raise IndexDamagedError(f"index BM25 files in {folder} are not readable (permissions); {FIX}") from None
    except Exception:  # bm25s raises whatever numpy or json raise on a damaged file
        log.debug("bm25 read failed", exc_info=True)
        raise IndexDamagedError(f"index BM25 files in {folder} are damaged; {FIX}") from None


def _read_faiss(path: Path) -> Any:
    if not path.is_file():
        raise IndexDamagedError(f"index file {path} is missing; {FIX}")
    if not os.access(path, os.R_OK):
        raise IndexDamagedError(f"index file {path} is not readable (permissions); {FIX}")
    try:
        ann = faiss.read_index(str(path))
        if hasattr(ann, "hnsw"):
            ann.hnsw.efSearch = HNSW_EF_SEARCH  # a search-time setting: this version's, not the builder's
        return ann
    except Exception:  # faiss raises RuntimeError with C++ text; the operator needs the file name
        log.debug("faiss read failed", exc_info=True)
        raise IndexDamagedError(f"index file {path} is damaged; {FIX}") from None


def save_index(index_dir: Path, data: IndexData) -> Path:
    """Write a new build folder, then switch `CURRENT` to it atomically; old builds are removed."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000:06d}"
    staging = builds / f".{name}.partial"
    staging.mkdir()
    manifest = asdict(data.manifest)
    _write(staging / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    rows = [[s.doc_id, s.paragraph, s.sentence, s.start, s.end, s.text] for s in data.sentences]
    _write(staging / "sentences.json", json.dumps(rows, ensure_ascii=False).encode("utf-8"))
    with open(staging / "vectors.npy", "wb") as handle:
        np.save(handle, data.vectors, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    with open(staging / "context.npz", "wb") as handle:
        c = data.context
        np.savez(
            handle,
            paragraph_of=c.paragraph_of,
            paragraph_vectors=c.paragraph_vectors,
            clause_start=c.clause_start,
            clause_vectors=c.clause_vectors,
        )
        handle.flush()
        os.fsync(handle.fileno())
    data.lexical.save(staging)
    faiss.write_index(data.ann, str(staging / "faiss.index"))
    final = builds / name
    os.replace(staging, final)
    _write(index_dir / "CURRENT.partial", name.encode("utf-8"))
    os.replace(index_dir / "CURRENT.partial", index_dir / "CURRENT")
    _fsync_dir(index_dir)
    for old in builds.iterdir():
        # A `.partial` folder may belong to a build still running elsewhere; leave young ones alone.
        stale_partial = old.name.endswith(".partial") and time.time() - old.stat().st_mtime > 3600
        if old.name != name and (not old.name.endswith(".partial") or stale_partial):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _write(path: Path, payload: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
