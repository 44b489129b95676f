"""The multilingual model's vectors (`index/models/multilingual.py`): each sentence and each paragraph (its
sentences joined) as an e5 passage, for Korean questions. Row i belongs to sentence i, like the English model's
vectors. A row of zeros is pending: `builder.complete_multilingual` fills it in after the build."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.core.errors import IndexDamagedError
from index.store.files import load_arrays, reading, save_arrays, stack_rows
from index.store.paragraphs import ParagraphVectors

FILE = "multilingual.npz"


@dataclass(frozen=True, slots=True)
class MultilingualVectors:
    sentences: np.ndarray
    paragraphs: ParagraphVectors

    def __len__(self) -> int:
        return len(self.sentences)

    def pending(self) -> np.ndarray:
        """Rows whose vectors are still to be made (all zeros)."""
        return np.flatnonzero(~self.sentences.any(axis=1))

    def take(self, rows: Sequence[int]) -> MultilingualVectors:
        return MultilingualVectors(self.sentences[list(rows)], self.paragraphs.take(rows))

    @staticmethod
    def concat(parts: Sequence[MultilingualVectors], dimension: int) -> MultilingualVectors:
        return MultilingualVectors(
            stack_rows([p.sentences for p in parts], dimension),
            ParagraphVectors.concat([p.paragraphs for p in parts], dimension),
        )

    def save(self, folder: Path) -> None:
        save_arrays(
            folder / FILE,
            sentences=self.sentences,
            paragraph_of=self.paragraphs.paragraph_of,
            paragraph_vectors=self.paragraphs.vectors,
        )

    @staticmethod
    def load(folder: Path) -> MultilingualVectors:
        path = folder / FILE
        with reading(path):
            sentences, paragraph_of, vectors = load_arrays(path, "sentences", "paragraph_of", "paragraph_vectors")
        if (
            sentences.ndim != 2
            or vectors.ndim != 2
            or len(paragraph_of) != len(sentences)
            or sentences.shape[1] != vectors.shape[1]
        ):
            raise IndexDamagedError(f"index file {path} does not match the sentences")
        if len(paragraph_of) and (int(paragraph_of.max()) >= len(vectors) or int(paragraph_of.min()) < 0):
            raise IndexDamagedError(f"index file {path} does not match the sentences")
        return MultilingualVectors(sentences, ParagraphVectors(paragraph_of, vectors))
