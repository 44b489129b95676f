"""The one entry point front ends use: question in, `Answer` out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from index import store
from index.builder import BuildReport, build, plan_build
from index.embedder import Embedder, load_embedder
from index.question import clean_question
from index.records import Answer, DocumentInfo, Hit
from index.search import Mode, Searcher
from index.settings import Settings

log = logging.getLogger(__name__)


def ensure_index(settings: Settings, embedder: Callable[[], Embedder], notify: Callable[[str], None]) -> BuildReport | None:
    """Build the index if there is none, or update it if the articles changed; None if it was current."""
    plan = plan_build(settings)
    for warning in plan.warnings:
        notify(f"warning: {warning}")
    if plan.up_to_date:
        return None
    if plan.fault is not None:
        raise store.IndexDamagedError(plan.fault)
    if store.current_build(settings.index_dir) is None:
        notify(f"No index yet: building it from {settings.seeds_dir} (once).")
    else:
        notify("The articles changed since the last build: updating the index.")
    report = build(settings, embedder, progress=True, plan=plan)
    notify(report.summary())
    return report


# A second or third sentence is quoted only when it ranks nearly as well as the first: a reader asking
# "Where was it held?" wants the one sentence that says so, not two loosely related ones after it.
NEARLY_AS_GOOD = 0.85


def _also_worth_reading(hit: Hit, best: Hit, threshold: float) -> bool:
    return hit.confidence >= threshold and hit.score >= NEARLY_AS_GOOD * best.score


@dataclass(frozen=True, slots=True)
class Prepared:
    """A question as it will be searched, with notes for the user about what cleaning changed."""

    text: str
    notes: tuple[str, ...]


class QAService:
    """Holds the model and the index, loaded once; `answer` is safe to call from worker threads."""

    def __init__(self, settings: Settings, embedder: Embedder, data: store.IndexData) -> None:
        self.settings = settings
        self.embedder = embedder
        self._searcher = Searcher(data)

    @classmethod
    def open(cls, settings: Settings, notify: Callable[[str], None] = log.info) -> QAService:
        """Load the model and the index (building or updating the index first when the articles changed)."""
        embedder = cache(lambda: load_embedder(settings))  # loaded once, by the build or below
        ensure_index(settings, embedder, notify)
        model = embedder()
        data = store.load_index(settings.index_dir, model=settings.embedding_model, dimension=model.dimension)
        return cls(settings, model, data)

    @property
    def data(self) -> store.IndexData:
        return self._searcher.data

    def sources(self) -> tuple[DocumentInfo, ...]:
        """Every article in the index, in build order."""
        return self.data.manifest.documents

    def reload(self) -> store.IndexData:
        """Load the index from disk and swap it in; on any fault the old one stays and the error is raised."""
        data = store.load_index(self.settings.index_dir, model=self.settings.embedding_model, dimension=self.embedder.dimension)
        self._searcher = Searcher(data)  # one reference swap: a batch in flight keeps the one it took
        return data

    def answer(self, question: str, top_k: int | None = None) -> Answer:
        """Answer one question."""
        return self.answer_many([question], top_k)[0]

    def prepare(self, question: str) -> Prepared:
        """Clean one question; raises BadQuestionError when nothing is left to ask."""
        text, notes = clean_question(question, self.settings.max_question_chars)
        return Prepared(text, notes)

    def answer_many(self, questions: Sequence[str], top_k: int | None = None, mode: Mode = "hybrid") -> list[Answer]:
        """Answer a batch of questions with one embedding call; raises BadQuestionError on a blank one.

        `mode` other than "hybrid" is for the evaluation's baselines only.
        """
        return self.answer_prepared([self.prepare(q) for q in questions], top_k, mode)

    def answer_prepared(self, prepared: Sequence[Prepared], top_k: int | None = None, mode: Mode = "hybrid") -> list[Answer]:
        """Answer cleaned questions: one embedding call for the batch, then one search each."""
        if not prepared:
            return []
        k = top_k or self.settings.top_k
        texts = [p.text for p in prepared]
        vectors = self.embedder.encode(texts)
        searcher = self._searcher  # one index for the whole batch, even if /reload swaps it meanwhile
        threshold = self.settings.decline_threshold
        answers = []
        for item, ranked in zip(prepared, searcher.search(texts, vectors, k, mode), strict=True):
            hits = searcher.hits(ranked)
            answered = any(hit.confidence >= threshold for hit in hits)
            presented = (
                tuple(h for i, h in enumerate(hits) if i == 0 or _also_worth_reading(h, hits[0], threshold)) if answered else ()
            )
            answers.append(Answer(item.text, answered, hits, item.notes, presented))
        return answers
