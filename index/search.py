"""Stage 6: rank the sentences of a loaded index for a batch of question vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.records import Hit
from index.store import IndexData

# Sentences this similar to one already chosen say the same thing; quoting both wastes the reader's time.
NEAR_DUPLICATE = 0.95
# How many candidates to take from FAISS before dropping near-duplicates.
OVERFETCH = 4


@dataclass(frozen=True, slots=True)
class Ranked:
    """Row numbers of the index, best first, with their scores."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]


class Searcher:
    """Dense search over one loaded index."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self.documents = {doc.doc_id: doc for doc in data.manifest.documents}

    def hit(self, row: int, score: float) -> Hit:
        """The record a front end shows for one ranked row."""
        sentence = self.data.sentences[row]
        return Hit(sentence, self.documents[sentence.doc_id], score)

    def search(self, query_vectors: np.ndarray, top_k: int) -> list[Ranked]:
        """For each question vector, the top_k distinct sentences by cosine similarity."""
        total = self.data.ann.ntotal
        if total == 0:
            return [Ranked((), ()) for _ in range(len(query_vectors))]
        fetch = min(total, top_k * OVERFETCH)
        scores, rows = self.data.ann.search(np.ascontiguousarray(query_vectors, dtype=np.float32), fetch)
        return [self._distinct(r, s, top_k) for r, s in zip(rows, scores, strict=True)]

    def _distinct(self, rows: np.ndarray, scores: np.ndarray, top_k: int) -> Ranked:
        chosen: list[int] = []
        chosen_scores: list[float] = []
        seen_text: set[str] = set()
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if row < 0:
                continue
            text = " ".join(self.data.sentences[row].text.lower().split())
            if text in seen_text:
                continue
            if chosen and float(np.max(self.data.vectors[chosen] @ self.data.vectors[row])) > NEAR_DUPLICATE:
                continue
            chosen.append(row)
            chosen_scores.append(float(score))
            seen_text.add(text)
            if len(chosen) == top_k:
                break
        return Ranked(tuple(chosen), tuple(chosen_scores))
