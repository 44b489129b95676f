"""Ranking the sentences of a loaded index for a batch of questions.

Hybrid ranking: dense similarity of the question to the sentence, to its best clause and to its
paragraph, plus BM25 over the sentence and over its paragraph with the article title, combined with
fixed weights. The answer shown is always the single sentence; the rest only informs its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.content.words import question_tokens
from index.core.language import KOREAN, has_hangul, language_of
from index.core.records import Hit
from index.models.multilingual import is_e5, stretch
from index.models.reader import Candidate, Reader
from index.ranking import duplicates, features
from index.ranking.answer_type import answers_kind, asks_for_figure, expected_type
from index.ranking.answerability import Judges
from index.store import IndexData

# Weights tuned on the first half of squad-superbowl, eval/article-tune.jsonl and eval/dev.jsonl
# (README, "Answer quality"); BM25 scores are divided by the question's best BM25 score first.
W_SENTENCE, W_CLAUSE, W_PARAGRAPH, W_BM25, W_BM25_PARAGRAPH = 0.25, 0.75, 0.75, 0.4, 0.2
# A Korean question's own BM25 and paragraph weights (`python -m measure.tune_korean`, on KorQuAD's tuning
# articles and the Korean tuning halves).
W_BM25_KOREAN, W_PARAGRAPH_KOREAN = 0.4, 0.75
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
# In a corpus with articles in both languages, a sentence in the question's language gets this much more:
# an article published in Korean and in English is quoted in the reader's language.
W_LANGUAGE = 0.05
# A follow-up question ("And when?") leans towards the article the previous answer quoted.
W_FOLLOWUP = 0.3
# English questions are also matched by the multilingual e5 model (its vectors are in every index): its cosine
# to an English sentence, on the English model's scale, is added with this weight (0: not asked).
W_E5_ENGLISH = 1.5
# The reader's probability that a sentence answers, added to the ranking score of the candidates it reads. Refitted
# for the reader taught on the news corpus (`python -m measure.tune_fusion`, news-tune added): weight 0 / 0.25 / 0.5
# / 1 / 2 gave a tuning mean top-1 of 0.689 / 0.687 / 0.697 / 0.711 / 0.669 (floor 0, five candidates).
W_READER = 1.0
# Below this probability the reader's differences count for nothing (0 / 0.1 / 0.2 / 0.3 at weight 1: 0.711 /
# 0.710 / 0.700 / 0.695: the taught reader's low probabilities are evidence too).
READER_FLOOR = 0.0
# The Korean reader's weight and floor for a Korean question (`python -m measure.tune_korean`).
W_READER_KOREAN, READER_FLOOR_KOREAN = 2.0, 0.1


@dataclass(frozen=True, slots=True)
class Ranked:
    """Row numbers of the index, best first, with their ranking scores and answerability probabilities."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]
    confidences: tuple[float, ...]
    evidence: tuple[tuple[float, ...], ...] = ()  # per row, the answerability features (`answerability.FEATURES`)


class Ranker:
    """Ranks over one loaded index (immutable, so safe to share between threads)."""

    def __init__(
        self,
        data: IndexData,
        judges: Judges,
        multilingual_model: str = "",
        reader: Reader | None = None,
        reader_candidates: int = 20,
        korean_reader: Reader | None = None,
    ) -> None:
        """`judges`: the answerability models (which reads a hit is theirs to say); `multilingual_model`
        the name of the multilingual embedder that made the index's second vectors and the question's;
        `reader` rescores the best `reader_candidates` of an English question's hybrid ranking, `korean_reader`
        a Korean question's, whatever the sentences' language (None: no reader)."""
        self.data = data
        self.judges = judges
        self.multilingual_model = multilingual_model
        self.reader = reader
        self.korean_reader = korean_reader
        self.reader_candidates = reader_candidates
        self._korean_row = np.array([has_hangul(s.text) for s in data.sentences], dtype=bool)
        self.has_korean = bool(self._korean_row.any())
        # Near-duplicates are told by the English model's vectors, and Korean sentences (which it does not read)
        # by the multilingual model's.
        self._duplicate_vectors = (
            np.where(self._korean_row[:, None], data.shard.multilingual.sentences, data.shard.vectors)
            if self.has_korean and data.shard.multilingual.sentences.shape == data.shard.vectors.shape
            else data.shard.vectors
        )
        self.documents = {doc.doc_id: doc for doc in data.manifest.documents}
        numbers = {doc.doc_id: n for n, doc in enumerate(data.manifest.documents)}
        self._document_number = numbers
        self._document_of_row = np.array([numbers[s.doc_id] for s in data.sentences], dtype=np.int32)
        self._recency = _recency(data)

    def hits(self, ranked: Ranked) -> tuple[Hit, ...]:
        """The records a front end shows for one ranking."""
        sentences = self.data.sentences
        return tuple(
            Hit(sentences[row], self.documents[sentences[row].doc_id], score, conf)
            for row, score, conf in zip(ranked.rows, ranked.scores, ranked.confidences, strict=True)
        )

    def needs_multilingual(self, question: str) -> bool:
        """Whether ranking this question needs its multilingual vector: a Korean question, or Korean articles."""
        return self.has_korean or has_hangul(question) or (W_E5_ENGLISH > 0 and is_e5(self.multilingual_model))

    def rank(
        self,
        questions: Sequence[str],
        vectors: np.ndarray,
        top_k: int,
        second: Sequence[np.ndarray | None] | None = None,
        prefer: Sequence[str | None] | None = None,
    ) -> list[Ranked]:
        """For each question (text and vector), the top_k distinct sentences (FIGURE_POOL for a how-much question).

        `second[i]` is question i's multilingual vector where `needs_multilingual` says so (else None)."""
        total = len(self.data.sentences)
        if total == 0:
            return [Ranked((), (), ()) for _ in questions]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dense_rows = None
        if total > EXACT_LIMIT:
            _, dense_rows = self.data.ann.search(vectors, min(total, CANDIDATES))
        second = second if second is not None else [None] * len(questions)
        prefer = prefer if prefer is not None else [None] * len(questions)
        return [
            self._one(question, vector, second[i], None if dense_rows is None else dense_rows[i], top_k, prefer[i])
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

    def _one(
        self, question: str, q: np.ndarray, q2: np.ndarray | None, dense_rows: np.ndarray | None, top_k: int, prefer: str | None
    ) -> Ranked:
        if asks_for_figure(question):
            top_k = max(top_k, FIGURE_POOL)
        data, shard = self.data, self.data.shard
        language = language_of(question)
        tokens = question_tokens(question, data.lexical.vocabulary)
        lexical, lexical_paragraph = data.lexical.scores(tokens)
        rows = self._candidates(dense_rows, lexical)
        dense = shard.vectors[rows] @ q
        clause = shard.clauses.best(rows, q, dense)
        around = shard.paragraphs.similarity(rows, q)
        if q2 is not None:
            # The multilingual model for a Korean question, and for Korean sentences whatever the question.
            second = shard.multilingual
            use = np.ones(len(rows), dtype=bool) if language == KOREAN else self._korean_row[rows]
            sentence2 = stretch(second.sentences[rows] @ q2, self.multilingual_model)
            dense = np.where(use, sentence2, dense)
            clause = np.where(use, sentence2, clause)
            around = np.where(use, stretch(second.paragraphs.similarity(rows, q2), self.multilingual_model), around)
            e5_english = W_E5_ENGLISH * np.where(use, 0.0, sentence2) if language != KOREAN and W_E5_ENGLISH > 0 else 0.0
        else:
            e5_english = 0.0
        w_bm25, w_paragraph = (W_BM25_KOREAN, W_PARAGRAPH_KOREAN) if language == KOREAN else (W_BM25, W_PARAGRAPH)
        fused = (
            W_SENTENCE * dense
            + W_CLAUSE * clause
            + w_paragraph * around
            + w_bm25 * _unit(lexical)[rows]
            + W_BM25_PARAGRAPH * _unit(lexical_paragraph)[rows]
            + W_RECENCY * self._recency[rows]
            + e5_english
        )
        if self.has_korean:
            fused = fused + W_LANGUAGE * (self._korean_row[rows] == (language == KOREAN))
        if prefer is not None and prefer in self._document_number:
            fused = fused + W_FOLLOWUP * (self._document_of_row[rows] == self._document_number[prefer])
        if expected_type(question) is not None or answers_kind(question, "")[0]:
            # Only the leaders can change places over a bonus this small; checking them is enough.
            leaders = np.argsort(-fused)[: max(TYPE_CHECKED, top_k)]
            fused = fused.copy()
            fused[leaders] += W_ANSWER_TYPE * np.array([answers_kind(question, data.sentences[rows[i]].text)[1] for i in leaders])
        read = np.zeros(len(rows), dtype=np.float64)  # the reader's probability, where it has read the sentence
        reader = self.korean_reader if language == KOREAN else self.reader
        weight, floor = (W_READER_KOREAN, READER_FLOOR_KOREAN) if language == KOREAN else (W_READER, READER_FLOOR)
        if reader is not None:
            # The reader re-ranks the same leaders however many hits are asked for (an evaluation's ten, a chat's
            # three), so what is measured is what is served; deeper hits are read below, for their evidence only.
            leaders = np.argsort(-fused, kind="stable")[: self.reader_candidates]
            read[leaders] = self._read(reader, question, rows[leaders])
            fused = fused.copy()
            fused[leaders] += weight * np.maximum(read[leaders] - floor, 0.0)
        order = np.argsort(-fused, kind="stable")
        places = duplicates.distinct(rows[order].tolist(), data.sentences, self._duplicate_vectors, top_k, self._korean_row)
        positions = [int(order[place]) for place in places]
        if reader is not None:
            done = set(leaders.tolist())
            if unread := [p for p in positions if p not in done]:  # shown hits below the read ones (rare)
                read[unread] = self._read(reader, question, rows[np.array(unread)])
        similarity = np.maximum(dense, clause)
        paragraph = around[positions] if positions else np.zeros(0)
        # The reader's evidence over every candidate it read, not only this one: the best probability among them
        # (does anything here answer?) and this hit's lead over the best of the others.
        seen = np.flatnonzero(read > 0)
        read_best = float(read[seen].max()) if len(seen) else 0.0

        def lead(position: int) -> float:
            others = read[seen[seen != position]]
            return float(read[position] - others.max()) if len(others) else float(read[position])

        unknown = float(min(len(features.unknown_names(data.lexical, question)), 2))
        unseen = features.unseen(data.lexical, tokens)

        def evidence(i: int, position: int) -> tuple[float, ...]:
            row = int(rows[position])
            found = features.coverage(data.lexical, tokens, self._document_of_row, int(self._document_of_row[row]))
            korean = language == KOREAN
            in_sentence, lacking = features.weighted_coverage(data.lexical, tokens, row, unseen_count=korean)
            in_paragraph, _ = features.weighted_coverage(data.lexical, tokens, row, paragraph=True, unseen_count=korean)
            kind, held = answers_kind(question, data.sentences[row].text)
            return (
                float(similarity[position]), float(paragraph[i]), unknown, unseen, found,
                in_sentence, in_paragraph, lacking, float(kind), float(held), float(read[position]),
                read_best, lead(position),
            )  # fmt: skip

        rows_evidence = tuple(evidence(i, p) for i, p in enumerate(positions))
        return Ranked(
            rows=tuple(int(rows[p]) for p in positions),
            scores=tuple(float(fused[p]) for p in positions),
            confidences=tuple(
                float(self.judges.for_hit(language, bool(self._korean_row[rows[p]])).probabilities(np.array([e]))[0])
                for p, e in zip(positions, rows_evidence, strict=True)
            ),
            evidence=rows_evidence,
        )

    def _read(self, reader: Reader, question: str, rows: np.ndarray) -> np.ndarray:
        """The reader's probabilities for these rows: each sentence with its article's title and the sentence before it."""
        sentences = self.data.sentences
        candidates = []
        for row in rows.tolist():
            sentence = sentences[row]
            before = sentences[row - 1] if row > 0 else None
            previous = (
                before.text
                if before is not None and (before.doc_id, before.paragraph) == (sentence.doc_id, sentence.paragraph)
                else None
            )
            candidates.append(Candidate(sentence.text, self.documents[sentence.doc_id].title, previous))
        return np.asarray(reader.read(question, candidates), dtype=np.float64)


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
