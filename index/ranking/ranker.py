"""Ranking the sentences of a loaded index for a batch of questions.

Hybrid ranking: dense similarity of the question to the sentence, to its best clause and to its
paragraph, plus BM25 over the sentence and over its paragraph with the article title, combined with
fixed weights. The answer shown is always the single sentence; the rest only informs its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.ranking import duplicates, features
from index.ranking.answer_type import answers_kind, asks_for_figure, expected_type
from index.ranking.answerability import Model
from index.records import Hit
from index.store import IndexData
from index.store.lexical import tokenize

# Weights tuned on the first half of squad-superbowl, eval/article-tune.jsonl and eval/dev.jsonl
# (README, "Answer quality"); BM25 scores are divided by the question's best BM25 score first.
W_SENTENCE, W_CLAUSE, W_PARAGRAPH, W_BM25, W_BM25_PARAGRAPH = 0.25, 0.75, 0.75, 0.4, 0.2
# Added when the sentence holds the kind of answer the question asks for (`answers_kind`: a count of the thing
# asked about, a figure, a date, a new name for "who", a place for "where"). Of 0.15, 0.25 and 0.35, 0.35 ranked
# best on the tuning questions (newsroom R@1 0.50 -> 0.62, squad-multi 0.62 -> 0.63, seed unchanged).
W_ANSWER_TYPE = 0.35
# Between equally good answers the newer article's wins: its sentences get up to this much more (oldest 0,
# newest all of it; articles of one date, or undated, get none). Too small to reorder anything but near-ties.
W_RECENCY = 0.01
# Up to this many sentences every one is scored exactly (with its clauses, about 5 ms at the limit);
# above it, candidates come from FAISS and BM25.
EXACT_LIMIT = 20_000
CANDIDATES = 100
# How many of the best-scored sentences are checked for the expected answer type.
TYPE_CHECKED = 50
# A how-much or how-many question is ranked this deep (at least), so that figures other articles give can be
# shown beside the best one (`conflicts`), though they rank below the top_k.
FIGURE_POOL = 8


@dataclass(frozen=True, slots=True)
class Ranked:
    """Row numbers of the index, best first, with their ranking scores and answerability probabilities."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]
    confidences: tuple[float, ...]
    evidence: tuple[tuple[float, ...], ...] = ()  # per row, the answerability features (`answerability.FEATURES`)


class Ranker:
    """Ranks over one loaded index (immutable, so safe to share between threads)."""

    def __init__(self, data: IndexData, model: Model) -> None:
        self.data = data
        self.model = model
        self.documents = {doc.doc_id: doc for doc in data.manifest.documents}
        numbers = {doc.doc_id: n for n, doc in enumerate(data.manifest.documents)}
        self._document_of_row = np.array([numbers[s.doc_id] for s in data.sentences], dtype=np.int32)
        self._recency = _recency(data)

    def hits(self, ranked: Ranked) -> tuple[Hit, ...]:
        """The records a front end shows for one ranking."""
        sentences = self.data.sentences
        return tuple(
            Hit(sentences[row], self.documents[sentences[row].doc_id], score, conf)
            for row, score, conf in zip(ranked.rows, ranked.scores, ranked.confidences, strict=True)
        )

    def rank(self, questions: Sequence[str], vectors: np.ndarray, top_k: int) -> list[Ranked]:
        """For each question (text and vector), the top_k distinct sentences (FIGURE_POOL for a how-much question)."""
        total = len(self.data.sentences)
        if total == 0:
            return [Ranked((), (), ()) for _ in questions]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dense_rows = None
        if total > EXACT_LIMIT:
            _, dense_rows = self.data.ann.search(vectors, min(total, CANDIDATES))
        return [
            self._one(question, vector, None if dense_rows is None else dense_rows[i], top_k)
            for i, (question, vector) in enumerate(zip(questions, vectors, strict=True))
        ]

    def _candidates(self, dense_rows: np.ndarray | None, lexical: np.ndarray) -> np.ndarray:
        """Every row for a small index; the best FAISS and BM25 rows for a large one."""
        total = len(self.data.sentences)
        if total <= EXACT_LIMIT:
            return np.arange(total)
        pools = [] if dense_rows is None else [dense_rows[dense_rows >= 0]]
        pools.append(np.argpartition(-lexical, CANDIDATES)[:CANDIDATES])
        return np.unique(np.concatenate(pools))

    def _one(self, question: str, q: np.ndarray, dense_rows: np.ndarray | None, top_k: int) -> Ranked:
        if asks_for_figure(question):
            top_k = max(top_k, FIGURE_POOL)
        data, shard = self.data, self.data.shard
        tokens = tokenize([question])[0]
        lexical, lexical_paragraph = data.lexical.scores(tokens)
        rows = self._candidates(dense_rows, lexical)
        dense = shard.vectors[rows] @ q
        clause = shard.clauses.best(rows, q, dense)
        fused = (
            W_SENTENCE * dense
            + W_CLAUSE * clause
            + W_PARAGRAPH * shard.paragraphs.similarity(rows, q)
            + W_BM25 * _unit(lexical)[rows]
            + W_BM25_PARAGRAPH * _unit(lexical_paragraph)[rows]
            + W_RECENCY * self._recency[rows]
        )
        if expected_type(question) is not None or answers_kind(question, "")[0]:
            # Only the leaders can change places over a bonus this small; checking them is enough.
            leaders = np.argsort(-fused)[: max(TYPE_CHECKED, top_k)]
            fused = fused.copy()
            fused[leaders] += W_ANSWER_TYPE * np.array([answers_kind(question, data.sentences[rows[i]].text)[1] for i in leaders])
        order = np.argsort(-fused, kind="stable")
        places = duplicates.distinct(rows[order].tolist(), data.sentences, shard.vectors, top_k)
        positions = [int(order[place]) for place in places]
        similarity = np.maximum(dense, clause)
        paragraph = shard.paragraphs.similarity(rows[positions], q) if positions else np.zeros(0)
        unknown = float(min(len(features.unknown_names(data.lexical, question)), 2))
        unseen = features.unseen(data.lexical, tokens)

        def evidence(i: int, position: int) -> tuple[float, ...]:
            row = int(rows[position])
            found = features.coverage(data.lexical, tokens, self._document_of_row, int(self._document_of_row[row]))
            in_sentence, lacking = features.weighted_coverage(data.lexical, tokens, row)
            in_paragraph, _ = features.weighted_coverage(data.lexical, tokens, row, paragraph=True)
            kind, held = answers_kind(question, data.sentences[row].text)
            return (
                float(similarity[position]), float(paragraph[i]), unknown, unseen, found,
                in_sentence, in_paragraph, lacking, float(kind), float(held),
            )  # fmt: skip

        rows_evidence = tuple(evidence(i, p) for i, p in enumerate(positions))
        return Ranked(
            rows=tuple(int(rows[p]) for p in positions),
            scores=tuple(float(fused[p]) for p in positions),
            confidences=tuple(self.model.probabilities(np.array(rows_evidence)).tolist()) if rows_evidence else (),
            evidence=rows_evidence,
        )


def _recency(data: IndexData) -> np.ndarray:
    """Per row, 0 for the oldest article's date up to 1 for the newest (0 for undated ones)."""
    dates = sorted({doc.date for doc in data.manifest.documents if doc.date})
    if len(dates) < 2:
        return np.zeros(len(data.sentences), dtype=np.float32)
    place = {date: i / (len(dates) - 1) for i, date in enumerate(dates)}
    by_document = {doc.doc_id: place.get(doc.date or "", 0.0) for doc in data.manifest.documents}
    return np.array([by_document[s.doc_id] for s in data.sentences], dtype=np.float32)


def _unit(scores: np.ndarray) -> np.ndarray:
    """Scale so the question's best score is 1 (BM25 has no fixed range)."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores
