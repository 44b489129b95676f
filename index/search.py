"""Stage 6: rank the sentences of a loaded index for a batch of questions.

Hybrid ranking: dense similarity of the question to the sentence, to its best clause and to its
paragraph, plus BM25 over the sentence and over its paragraph with the article title, combined with
fixed weights. The answer shown is always the single sentence; context only informs its score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from index.answer_type import expected_type
from index.decline import confidence
from index.lexical import Lexical, tokenize
from index.records import Hit
from index.store import IndexData

Mode = Literal["hybrid", "dense", "bm25"]

_WORDS = re.compile(r"\w+")

# Weights tuned on the first half of squad-superbowl, eval/article-tune.jsonl and eval/dev.jsonl
# (README, "Answer quality"); BM25 scores are divided by the question's best BM25 score first.
W_SENTENCE, W_CLAUSE, W_PARAGRAPH, W_BM25, W_BM25_CONTEXT = 0.25, 0.75, 0.75, 0.4, 0.2
# Added when the sentence holds the kind of answer the question asks for (a number for "how many").
W_ANSWER_TYPE = 0.15
# Up to this many sentences every one is scored exactly (with its clauses, about 5 ms at the limit);
# above it, candidates come from FAISS and BM25.
EXACT_LIMIT = 20_000
CANDIDATES = 100
# How many of the best-scored sentences are checked for the expected answer type.
TYPE_CHECKED = 50
# Sentences this similar to one already chosen say the same thing (wire copies, small edits);
# quoting both wastes the reader's time. Either test is enough.
NEAR_DUPLICATE_COSINE = 0.95
NEAR_DUPLICATE_WORDS = 0.8  # Jaccard overlap of the sets of words


@dataclass(frozen=True, slots=True)
class Ranked:
    """Row numbers of the index, best first, with their ranking scores and decline confidences."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]
    confidences: tuple[float, ...]


class Searcher:
    """Search over one loaded index (immutable, so safe to share between threads)."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self.documents = {doc.doc_id: doc for doc in data.manifest.documents}
        starts = data.context.clause_start
        self._has_clauses = starts[1:] > starts[:-1]
        numbers = {doc.doc_id: n for n, doc in enumerate(data.manifest.documents)}
        self._document_of_row = np.array([numbers[s.doc_id] for s in data.sentences], dtype=np.int32)
        self._plain: Lexical | None = None

    def hits(self, ranked: Ranked) -> tuple[Hit, ...]:
        """The records a front end shows for one ranking."""
        return tuple(
            Hit(self.data.sentences[row], self.documents[self.data.sentences[row].doc_id], score, conf)
            for row, score, conf in zip(ranked.rows, ranked.scores, ranked.confidences, strict=True)
        )

    def search(self, questions: Sequence[str], vectors: np.ndarray, top_k: int, mode: Mode = "hybrid") -> list[Ranked]:
        """For each question (text and vector), the top_k distinct sentences."""
        total = len(self.data.sentences)
        if total == 0:
            return [Ranked((), (), ()) for _ in questions]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dense_rows = None
        if total > EXACT_LIMIT and mode != "bm25":
            _, dense_rows = self.data.ann.search(vectors, min(total, CANDIDATES))
        results = []
        for i, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
            results.append(self._one(question, vector, None if dense_rows is None else dense_rows[i], top_k, mode))
        return results

    def _one(self, question: str, q: np.ndarray, dense_rows: np.ndarray | None, top_k: int, mode: Mode) -> Ranked:
        data = self.data
        total = len(data.sentences)
        lexical: np.ndarray | None
        lexical_context: np.ndarray | None
        tokens = tokenize([question])[0]
        if mode == "bm25":  # the baseline: plain BM25 over the sentences alone
            lexical, lexical_context = self._plain_bm25().scores(tokens)
        elif mode == "hybrid":
            lexical, lexical_context = data.lexical.scores(tokens)
        else:
            lexical = lexical_context = None
        if total <= EXACT_LIMIT:
            rows = np.arange(total)
        else:
            pools = [] if dense_rows is None else [dense_rows[dense_rows >= 0]]
            if lexical is not None:
                pools.append(np.argpartition(-lexical, CANDIDATES)[:CANDIDATES])
            rows = np.unique(np.concatenate(pools))
        dense = data.vectors[rows] @ q
        clause = self._clause_scores(rows, q, dense)
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            assert lexical is not None
            fused = lexical[rows]
        else:
            assert lexical is not None and lexical_context is not None
            paragraph = data.context.paragraph_vectors[data.context.paragraph_of[rows]] @ q
            fused = (
                W_SENTENCE * dense
                + W_CLAUSE * clause
                + W_PARAGRAPH * paragraph
                + W_BM25 * _unit(lexical)[rows]
                + W_BM25_CONTEXT * _unit(lexical_context)[rows]
            )
            if (pattern := expected_type(question)) is not None:
                # Only the leaders can change places over a bonus this small; checking them is enough.
                leaders = np.argsort(-fused)[: max(TYPE_CHECKED, top_k)]
                fused = fused.copy()
                fused[leaders] += W_ANSWER_TYPE * np.array([bool(pattern.search(data.sentences[rows[i]].text)) for i in leaders])
        unknown = len(data.lexical.unknown_names(question))
        similarity = np.maximum(dense, clause)
        order = np.argsort(-fused, kind="stable")
        chosen: list[int] = []
        chosen_words: list[frozenset[str]] = []
        for position in order.tolist():
            row = int(rows[position])
            words = frozenset(_WORDS.findall(data.sentences[row].text.lower().replace("-", "")))
            if any(len(words & other) >= NEAR_DUPLICATE_WORDS * len(words | other) for other in chosen_words):
                continue
            if chosen and float(np.max(data.vectors[[rows[c] for c in chosen]] @ data.vectors[row])) > NEAR_DUPLICATE_COSINE:
                continue
            chosen.append(position)
            chosen_words.append(words)
            if len(chosen) == top_k:
                break
        return Ranked(
            rows=tuple(int(rows[c]) for c in chosen),
            scores=tuple(float(fused[c]) for c in chosen),
            confidences=tuple(confidence(float(similarity[c]), unknown, self._coverage(tokens, int(rows[c]))) for c in chosen),
        )

    def _plain_bm25(self) -> Lexical:
        if self._plain is None:
            texts = [s.text for s in self.data.sentences]
            self._plain = Lexical.build(texts, texts)
        return self._plain

    def _coverage(self, tokens: list[str], row: int) -> float:
        return self.data.lexical.coverage(tokens, self._document_of_row, int(self._document_of_row[row]))

    def _clause_scores(self, rows: np.ndarray, q: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """For each row, the best similarity of the question to the sentence or any of its clauses."""
        context = self.data.context
        best = dense.copy()
        if len(context.clause_vectors) == 0:
            return best
        if len(rows) == len(self.data.sentences):  # all rows, in order: one matrix product, one reduceat
            has = self._has_clauses
            if has.any():
                sims = context.clause_vectors @ q
                best[has] = np.maximum(best[has], np.maximum.reduceat(sims, context.clause_start[:-1][has]))
            return best
        for i, row in enumerate(rows.tolist()):
            start, end = context.clause_start[row], context.clause_start[row + 1]
            if end > start:
                best[i] = max(best[i], float(np.max(context.clause_vectors[start:end] @ q)))
        return best


def _unit(scores: np.ndarray) -> np.ndarray:
    """Scale so the question's best score is 1 (BM25 has no fixed range)."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores
