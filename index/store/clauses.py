"""Clause vectors: the clauses of each long sentence (and a sentence that opens with a pronoun read together with
the one before it), pooled from the sentence's own pass where the embedder can, so a question about one part of a
sentence finds it. Which spans these are is decided in `index/content/splitter.py`; this module stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.core.errors import IndexDamagedError
from index.store.files import load_arrays, reading, save_arrays, stack_rows

FILE = "clauses.npz"


@dataclass(frozen=True, slots=True)
class ClauseVectors:
    """The clauses of sentence i are rows `start[i]:start[i + 1]` of `vectors`."""

    start: np.ndarray
    vectors: np.ndarray

    @staticmethod
    def from_counts(counts: Sequence[int], vectors: np.ndarray) -> ClauseVectors:
        """Clause vectors in sentence order, with how many each sentence has."""
        return ClauseVectors(np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64), vectors)

    @staticmethod
    def none(sentences: int, dimension: int) -> ClauseVectors:
        """No clauses for any of `sentences` sentences."""
        return ClauseVectors(np.zeros(sentences + 1, dtype=np.int64), np.zeros((0, dimension), np.float32))

    def __len__(self) -> int:
        """How many sentences this covers."""
        return len(self.start) - 1

    def counts(self) -> np.ndarray:
        return np.diff(self.start)

    def best(self, rows: np.ndarray, question: np.ndarray, sentence: np.ndarray) -> np.ndarray:
        """For each row, the best similarity of the question to the sentence (`sentence`) or any of its clauses."""
        best = sentence.copy()
        if len(self.vectors) == 0:
            return best
        if len(rows) == len(self):  # all rows, in order: one matrix product, one reduceat
            has = self.start[1:] > self.start[:-1]
            if has.any():
                sims = self.vectors @ question
                best[has] = np.maximum(best[has], np.maximum.reduceat(sims, self.start[:-1][has]))
            return best
        for i, row in enumerate(rows.tolist()):
            begin, end = self.start[row], self.start[row + 1]
            if end > begin:
                best[i] = max(best[i], float(np.max(self.vectors[begin:end] @ question)))
        return best

    def take(self, rows: Sequence[int]) -> ClauseVectors:
        """The clauses of some sentences, in the order given."""
        index = np.asarray(rows, dtype=np.int64)
        begins, ends = self.start[index], self.start[index + 1]
        blocks = [self.vectors[a:b] for a, b in zip(begins.tolist(), ends.tolist(), strict=True)]
        return ClauseVectors.from_counts((ends - begins).tolist(), stack_rows(blocks, self.vectors.shape[1]))

    @staticmethod
    def concat(parts: Sequence[ClauseVectors], dimension: int) -> ClauseVectors:
        """Several documents' clause vectors, one after the other."""
        counts = np.concatenate([p.counts() for p in parts]) if parts else np.zeros(0, np.int64)
        return ClauseVectors.from_counts(counts.tolist(), stack_rows([p.vectors for p in parts], dimension))

    def save(self, folder: Path) -> None:
        save_arrays(folder / FILE, start=self.start, vectors=self.vectors)

    @staticmethod
    def load(folder: Path) -> ClauseVectors:
        path = folder / FILE
        with reading(path):
            start, vectors = load_arrays(path, "start", "vectors")
        if (
            start.ndim != 1
            or not len(start)
            or int(start[0]) != 0
            or int(start[-1]) != len(vectors)
            or bool((np.diff(start) < 0).any())
        ):
            raise IndexDamagedError(f"index file {path} does not match the sentences")
        return ClauseVectors(start, vectors)
