"""Small file helpers every stored component uses: durable writes, and one mapping of read failures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.core.errors import IndexDamagedError

log = logging.getLogger(__name__)


@contextmanager
def reading(path: Path, what: str = "index file", verb: str = "is") -> Iterator[None]:
    """Turn any failure while reading `path` into one IndexDamagedError line naming it."""
    try:
        yield
    except IndexDamagedError:
        raise
    except FileNotFoundError:
        raise IndexDamagedError(f"{what} {path} {verb} missing") from None
    except PermissionError:
        raise IndexDamagedError(f"{what} {path} {verb} not readable (permissions)") from None
    except Exception:  # json, numpy, faiss and bm25s raise whatever they raise on a damaged file
        log.debug("reading %s failed", path, exc_info=True)
        raise IndexDamagedError(f"{what} {path} {verb} damaged") from None


def write_bytes(path: Path, payload: bytes) -> None:
    """Write and flush to disk before the build is made live."""
    with open(path, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Several arrays in one `.npz`, flushed to disk."""
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
        handle.flush()
        os.fsync(handle.fileno())


def load_arrays(path: Path, *names: str) -> list[np.ndarray]:
    """The named arrays of one `.npz` (no pickles); failures are left to `reading`."""
    with np.load(path, allow_pickle=False) as arrays:
        return [arrays[name] for name in names]


def stack_rows(blocks: Sequence[np.ndarray], dimension: int) -> np.ndarray:
    """Blocks of vectors (possibly none, possibly empty) as one contiguous float32 matrix."""
    rows = [block.reshape(-1, dimension) for block in blocks]
    return np.ascontiguousarray(np.vstack(rows) if rows else np.zeros((0, dimension)), dtype=np.float32)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
