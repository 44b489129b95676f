"""Plain baselines the evaluation reports beside the hybrid ranking: dense similarity alone, BM25 alone.

They score every sentence of the same index with the same model, and quote near-duplicates once like
the real ranking, so the comparison is of the scoring only. Only the evaluation uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from index.content.words import tokenize
from index.core.records import Sentence
from index.ranking.duplicates import distinct
from index.store import IndexData, Lexical


class Scorer(Protocol):
    """Scores every sentence of an index for one question."""

    def __call__(self, question: str, vector: np.ndarray) -> np.ndarray: ...


def dense(data: IndexData) -> Scorer:
    """Cosine of the question to each sentence."""
    return lambda question, vector: data.vectors @ vector


def bm25(data: IndexData) -> Scorer:
    """BM25 over the sentences alone (no paragraphs, no pronoun context)."""
    texts = [s.text for s in data.sentences]
    lexical = Lexical.build(texts, texts)
    return lambda question, vector: lexical.scores(tokenize([question])[0])[0]


def ranked(data: IndexData, scorer: Scorer, questions: Sequence[str], vectors: np.ndarray, depth: int) -> list[list[Sentence]]:
    """For each question, the `depth` best distinct sentences by one scorer."""
    out = []
    for question, vector in zip(questions, vectors, strict=True):
        order = np.argsort(-scorer(question, vector), kind="stable").tolist()
        out.append([data.sentences[order[place]] for place in distinct(order, data.sentences, data.vectors, depth)])
    return out
