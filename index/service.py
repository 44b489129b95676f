"""The one entry point front ends use: question in, `Answer` out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

from index import store
from index.builder import BuildReport, build, plan_build
from index.embedder import Embedder, load_embedder
from index.question import clean_question
from index.records import Answer, DocumentInfo
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
    if store.current_build(settings.index_dir) is None:
        notify(f"No index yet: building it from {settings.seeds_dir} (once).")
    else:
        notify("The articles changed since the last build: updating the index.")
    report = build(settings, embedder, progress=True, plan=plan)
    notify(report.summary())
    return report


class QAService:
    """Holds the model and the index, loaded once; `answer` is safe to call from worker threads."""

    def __init__(self, settings: Settings, embedder: Embedder, data: store.IndexData) -> None:
        self.settings = settings
        self.embedder = embedder
        self._searcher = Searcher(data)
        self._swap = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, notify: Callable[[str], None] = log.info, *, auto_build: bool = True) -> QAService:
        """Load (building or updating first, when allowed) the index and the model."""
        embedder = cache(lambda: load_embedder(settings))
        if auto_build:
            ensure_index(settings, embedder, notify)
        data = store.load_index(settings.index_dir, model=settings.embedding_model)
        model = embedder()
        if model.dimension != data.manifest.dimension:
            raise store.IndexDamagedError(
                f"index has {data.manifest.dimension}-dimensional vectors but the model makes {model.dimension}; {store.FIX}"
            )
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
        with self._swap:
            self._searcher = Searcher(data)
        return data

    def answer(self, question: str, top_k: int | None = None) -> Answer:
        """Answer one question."""
        return self.answer_many([question], top_k)[0]

    def answer_many(self, questions: Sequence[str], top_k: int | None = None, mode: Mode = "hybrid") -> list[Answer]:
        """Answer a batch of questions with one embedding call; raises BadQuestionError on a blank one.

        `mode` other than "hybrid" is for the evaluation's baselines only.
        """
        k = top_k or self.settings.top_k
        prepared = [clean_question(q, self.settings.max_question_chars) for q in questions]
        vectors = self.embedder.encode([text for text, _ in prepared]) if prepared else np.zeros((0, 1), np.float32)
        searcher = self._searcher  # one index for the whole batch, even if /reload swaps it meanwhile
        answers = []
        texts = [text for text, _ in prepared]
        threshold = self.settings.decline_threshold
        for (text, notes), ranked in zip(prepared, searcher.search(texts, vectors, k, mode), strict=True):
            hits = searcher.hits(ranked)
            answered = any(hit.confidence >= threshold for hit in hits)
            presented = tuple(h for i, h in enumerate(hits) if i == 0 or h.confidence >= threshold) if answered else ()
            answers.append(Answer(text, answered, hits, notes, presented))
        return answers
