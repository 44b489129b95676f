"""The index on disk. Each stored component saves, loads and checks itself; this module owns the folder;
`builder` writes a build from the articles (load, split, embed, store).

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
| `multilingual.npz` | `multilingual.MultilingualVectors`: the multilingual model's sentence and paragraph vectors |
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from index.core.errors import EventBotError, IndexDamagedError, IndexMissingError, IndexWriteError
from index.core.records import Sentence
from index.store import catalog, dense
from index.store.catalog import FORMAT_VERSION, Manifest
from index.store.clauses import ClauseVectors
from index.store.files import fsync_dir, reading, stack_rows, write_bytes
from index.store.lexical import Lexical
from index.store.multilingual import FILE as MULTILINGUAL_FILE
from index.store.multilingual import MultilingualVectors
from index.store.paragraphs import ParagraphVectors

__all__ = [
    "FORMAT_VERSION",
    "ClauseVectors",
    "IndexData",
    "Lexical",
    "Manifest",
    "MultilingualVectors",
    "ParagraphVectors",
    "Shard",
    "build_lock",
    "claim",
    "current_build",
    "load_index",
    "read_manifest",
    "save_index",
    "save_multilingual",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shard:
    """Sentences with every vector made from them: one document's share of an index, or a whole index's."""

    sentences: tuple[Sentence, ...]
    vectors: np.ndarray
    paragraphs: ParagraphVectors
    clauses: ClauseVectors
    multilingual: MultilingualVectors

    def take(self, rows: Sequence[int]) -> Shard:
        """Some rows (one document's, in order) as a shard of their own."""
        return Shard(
            tuple(self.sentences[i] for i in rows),
            self.vectors[list(rows)],
            self.paragraphs.take(rows),
            self.clauses.take(rows),
            self.multilingual.take(rows),
        )

    @staticmethod
    def concat(shards: Sequence[Shard], dimension: int) -> Shard:
        """Shards one after the other, as one."""
        return Shard(
            tuple(s for shard in shards for s in shard.sentences),
            stack_rows([shard.vectors for shard in shards], dimension),
            ParagraphVectors.concat([shard.paragraphs for shard in shards], dimension),
            ClauseVectors.concat([shard.clauses for shard in shards], dimension),
            MultilingualVectors.concat(
                [shard.multilingual for shard in shards], shards[0].multilingual.sentences.shape[1] if shards else dimension
            ),
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


# Marks a folder as an index folder this program made: nothing is ever deleted from a folder without it.
MARKER = ".eventbot-index"
LOCK = ".build.lock"
_BUILD_NAME = re.compile(r"^\d{8}T\d{6}-\d+-\d{6}$")
# A build replaced more than this long ago is deleted; the one replaced last is always kept, so a process
# that read `CURRENT` just before a switch can still load the build it named.
KEEP_REPLACED_SECONDS = 60.0
# How often a reader tries again when a build is switched and cleaned up while it loads.
LOAD_ATTEMPTS = 3


def current_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when no index has been built."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):  # no index yet (or INDEX_DIR is under a file: said when writing)
        return None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a build name"
        raise IndexDamagedError(f"cannot read {pointer}: {reason}") from None
    if not _BUILD_NAME.match(name):
        raise IndexDamagedError(f"{pointer} does not name a build")
    return index_dir / "builds" / name


def pending_multilingual(index_dir: Path) -> int:
    """How many sentences of the live index still wait for their multilingual vectors (0 if it cannot be read)."""
    folder = current_build(index_dir)
    if folder is None:
        return 0
    try:
        return len(MultilingualVectors.load(folder).pending())
    except EventBotError:
        return 0


def read_manifest(index_dir: Path) -> Manifest | None:
    """Only the manifest (cheap: no vectors), or None when no index exists."""
    folder = current_build(index_dir)
    return None if folder is None else catalog.load_manifest(folder)


def load_index(index_dir: Path, *, model: str, dimension: int | None = None) -> IndexData:
    """Load and check the live index; any fault is one IndexDamagedError line naming the problem.

    Readers take no lock: if a build is made live and the one being read is cleaned up meanwhile, the
    new live build is read instead.
    """
    for attempt in range(LOAD_ATTEMPTS):
        folder = current_build(index_dir)
        if folder is None:
            raise IndexMissingError(f"no index in {index_dir}")
        try:
            return _load(folder, model=model, dimension=dimension)
        except IndexDamagedError:
            if attempt + 1 == LOAD_ATTEMPTS or current_build(index_dir) == folder:
                raise
            log.info("build %s was replaced while loading; loading the new one", folder.name)
    raise AssertionError("unreachable")


def _load(folder: Path, *, model: str, dimension: int | None) -> IndexData:
    with reading(folder, "index folder"):
        if not folder.is_dir():
            raise FileNotFoundError(folder)
    manifest = catalog.load_manifest(folder)
    if manifest.model != model:
        raise IndexDamagedError(f"index was built with model {manifest.model!r} but the embedder is {model!r}")
    if dimension is not None and manifest.dimension != dimension:
        raise IndexDamagedError(f"index has {manifest.dimension}-dimensional vectors but the model makes {dimension}")
    shard = Shard(
        catalog.load_sentences(folder, manifest),
        dense.load_vectors(folder),
        ParagraphVectors.load(folder),
        ClauseVectors.load(folder),
        MultilingualVectors.load(folder),
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
        "multilingual": len(shard.multilingual),
    }
    if len(set(counts.values())) != 1:
        found = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexDamagedError(f"index counts disagree ({found})")
    dims = {shard.vectors.shape[-1], ann.d, shard.paragraphs.vectors.shape[-1], shard.clauses.vectors.shape[-1]}
    if dims != {manifest.dimension}:
        raise IndexDamagedError(f"index vectors do not have the manifest's dimension {manifest.dimension}")
    return IndexData(manifest, shard, ann, lexical)


def claim(index_dir: Path) -> None:
    """Make sure `index_dir` is ours to write in: create and mark it, or refuse a folder that holds other things."""
    try:
        if index_dir.exists() and not index_dir.is_dir():
            raise IndexWriteError(f"INDEX_DIR {index_dir} is a file, not a folder")
        if (index_dir / MARKER).is_file():
            return
        if index_dir.is_dir():
            entries = {entry.name for entry in index_dir.iterdir()}
            # An index written before the marker existed: CURRENT and builds/, nothing else of anyone's.
            legacy = "CURRENT" in entries and entries <= {"CURRENT", "CURRENT.partial", "builds", LOCK}
            if entries and not legacy:
                shown = ", ".join(sorted(entries)[:3]) + (", …" if len(entries) > 3 else "")
                raise IndexWriteError(
                    f"INDEX_DIR {index_dir} already holds other files ({shown}); point INDEX_DIR at an empty or new folder"
                )
        index_dir.mkdir(parents=True, exist_ok=True)
        write_bytes(index_dir / MARKER, b"This folder holds eventbot's index; eventbot may delete anything under builds/.\n")
    except OSError as exc:
        raise _write_error(index_dir, exc) from None


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (across processes); others wait their turn."""
    claim(index_dir)
    try:
        lock = FileLock(str(index_dir / LOCK))
        lock.acquire()
    except OSError as exc:
        raise _write_error(index_dir, exc) from None
    try:
        yield
    finally:
        lock.release()


def save_index(index_dir: Path, data: IndexData) -> Path:
    """Write a new build folder, then switch `CURRENT` to it atomically. Call under `build_lock`.

    On any failure the half-written folder is removed and the live index is left as it was.
    """

    def write(staging: Path) -> None:
        catalog.save_manifest(staging, data.manifest)
        catalog.save_sentences(staging, data.shard.sentences)
        dense.save(staging, data.shard.vectors, data.ann)
        data.shard.paragraphs.save(staging)
        data.shard.clauses.save(staging)
        data.shard.multilingual.save(staging)
        data.lexical.save(staging)

    return _new_build(index_dir, write)


def save_multilingual(index_dir: Path, multilingual: MultilingualVectors) -> Path:
    """A new build that differs from the live one only in its multilingual vectors (the background filler's
    chunks): every other file is a hard link to the live build's (files of a build are never changed once it
    is written), so a chunk writes one file, not the whole index. Call under `build_lock`, with vectors for the
    live build's sentences; where the folder cannot hold hard links the files are copied."""
    live = current_build(index_dir)
    if live is None:
        raise IndexMissingError(f"no index in {index_dir}")

    def write(staging: Path) -> None:
        for entry in live.rglob("*"):
            target = staging / entry.relative_to(live)
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif entry.name != MULTILINGUAL_FILE:
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(entry, target)
                except OSError:
                    shutil.copy2(entry, target)
        multilingual.save(staging)

    return _new_build(index_dir, write)


def _new_build(index_dir: Path, write: Callable[[Path], None]) -> Path:
    """Have `write` fill a fresh build folder, then make it live (atomically); the previous build is kept a while
    for readers still loading it, and a failure leaves the live index as it was."""
    builds = index_dir / "builds"
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000:06d}"
    staging = builds / f".{name}.partial"
    pointer = index_dir / f"CURRENT.{name}.partial"
    previous = _live_name(index_dir)
    try:
        builds.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        write(staging)
        final = builds / name
        os.replace(staging, final)
        write_bytes(pointer, name.encode("utf-8"))
        if (index_dir / "CURRENT").is_dir() and not (index_dir / "CURRENT").is_symlink():
            shutil.rmtree(index_dir / "CURRENT")  # a damaged pointer, in a folder that claim() showed to be ours
        os.replace(pointer, index_dir / "CURRENT")
        fsync_dir(index_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            pointer.unlink()
        if _live_name(index_dir) != name:
            shutil.rmtree(builds / name, ignore_errors=True)
        raise _write_error(index_dir, exc) from None
    _clean_up(builds, keep={name, previous})
    return final


def _live_name(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None


def _clean_up(builds: Path, keep: set[str | None]) -> None:
    """Delete builds of ours that are neither live nor just replaced, and half-written ones of dead builds.

    Only names this program makes are touched, and this runs under the build lock, so no `.partial`
    folder belongs to a build still running.
    """
    now = time.time()
    for entry in builds.iterdir():
        name = entry.name
        partial = name.startswith(".") and name.endswith(".partial") and _BUILD_NAME.match(name[1 : -len(".partial")])
        if name in keep or not (partial or _BUILD_NAME.match(name)):
            continue
        try:
            old_enough = partial or now - entry.stat().st_mtime > KEEP_REPLACED_SECONDS
        except OSError:
            continue
        if old_enough:
            shutil.rmtree(entry, ignore_errors=True)


def _write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    if exc.errno == errno.ENOSPC:
        return IndexWriteError(f"no space left in INDEX_DIR {index_dir}; the previous index is unchanged")
    reason = exc.strerror or type(exc).__name__
    return IndexWriteError(f"cannot write the index in INDEX_DIR {index_dir} ({reason}); the previous index is unchanged")
