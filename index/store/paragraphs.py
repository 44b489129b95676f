"""Paragraph vectors: each sentence's paragraph embedded whole, so what surrounds a sentence informs its score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.core.errors import IndexDamagedError
from index.store.files import load_arrays, reading, save_arrays, stack_rows

FILE = "paragraphs.npz"


@dataclass(frozen=True, slots=True)
class ParagraphVectors:
    """`vectors[paragraph_of[i]]` is the vector of sentence i's paragraph."""

    paragraph_of: np.ndarray
    vectors: np.ndarray

    @staticmethod
    def mean_of(sentences: np.ndarray, paragraph_of: np.ndarray, count: int) -> ParagraphVectors:
        """Each paragraph's vector as the normalised mean of its sentences' vectors (zero for one without any)."""
        sums = np.zeros((count, sentences.shape[1]), dtype=np.float32)
        np.add.at(sums, paragraph_of, sentences)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return ParagraphVectors(paragraph_of, np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0))

    def __len__(self) -> int:
        """How many sentences this covers."""
        return len(self.paragraph_of)

    def similarity(self, rows: np.ndarray, question: np.ndarray) -> np.ndarray:
        """Cosine of the question to the paragraph of each row."""
        return self.vectors[self.paragraph_of[rows]] @ question

    def take(self, rows: Sequence[int]) -> ParagraphVectors:
        """The paragraphs of some sentences (one document's, in order), renumbered from 0."""
        used = self.paragraph_of[list(rows)]
        if not len(used):
            return ParagraphVectors(used, self.vectors[:0])
        first, last = int(used.min()), int(used.max())
        return ParagraphVectors(used - first, self.vectors[first : last + 1])

    @staticmethod
    def concat(parts: Sequence[ParagraphVectors], dimension: int) -> ParagraphVectors:
        """Several documents' paragraph vectors, one after the other."""
        offsets = np.cumsum([0] + [len(p.vectors) for p in parts])
        paragraph_of = [p.paragraph_of + offset for p, offset in zip(parts, offsets, strict=False)]
        return ParagraphVectors(
            np.concatenate(paragraph_of).astype(np.int64) if parts else np.zeros(0, np.int64),
            stack_rows([p.vectors for p in parts], dimension),
        )

    def save(self, folder: Path) -> None:
        save_arrays(folder / FILE, paragraph_of=self.paragraph_of, vectors=self.vectors)

    @staticmethod
    def load(folder: Path) -> ParagraphVectors:
        path = folder / FILE
        with reading(path):
            paragraph_of, vectors = load_arrays(path, "paragraph_of", "vectors")
        loaded = ParagraphVectors(paragraph_of, vectors)
        if len(paragraph_of) and (vectors.ndim != 2 or int(paragraph_of.max()) >= len(vectors) or int(paragraph_of.min()) < 0):
            raise IndexDamagedError(f"index file {path} does not match the sentences")
        return loaded
