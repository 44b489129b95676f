"""The one entry point front ends use: question in, `Answer` out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from index import store
from index.content.question import clean_question
from index.core.errors import IndexDamagedError
from index.core.language import KOREAN, language_of
from index.core.records import Answer, DocumentInfo
from index.core.settings import Settings
from index.models.embedder import Embedder, load_embedder, model_identity
from index.models.multilingual import MultilingualEmbedder, load_multilingual
from index.models.reader import Reader, load_reader
from index.ranking import Ranked, Ranker, answerability, decide
from index.store.builder import update_index

log = logging.getLogger(__name__)

# Asked of a reloaded index before it is served.
RELOAD_PROBE = "What happened?"
# The probe of a process that has answered no English yet: an English probe would start the English model's
# session and reader, which a process serving only Korean never holds.
KOREAN_RELOAD_PROBE = "무슨 일이 있었나요?"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A question as it will be searched, with notes for the user about what cleaning changed."""

    text: str
    notes: tuple[str, ...]
    prefer: str | None = None  # a follow-up's article: the one the previous answer quoted (`index.conversation.followup`)


def sources(settings: Settings) -> tuple[DocumentInfo, ...]:
    """The articles of the index on disk, newest first, checked as for answering, without loading the model."""
    return newest_first(store.load_index(settings.index_dir, model=model_identity(settings)).manifest.documents)


def newest_first(documents: Sequence[DocumentInfo]) -> tuple[DocumentInfo, ...]:
    """Dated articles newest first (by title within a day), then the undated ones by title."""
    dated = sorted((d for d in documents if d.date), key=lambda d: d.title.lower())
    dated.sort(key=lambda d: d.date or "", reverse=True)
    return (*dated, *sorted((d for d in documents if not d.date), key=lambda d: d.title.lower()))


class QAService:
    """Holds the model and the index, loaded once; `answer` is safe to call from worker threads."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        data: store.IndexData,
        multilingual: MultilingualEmbedder | None = None,
        reader: Reader | None | bool = True,
        korean_reader: Reader | None | bool = True,
    ) -> None:
        """`reader`, `korean_reader` (for Korean questions): True loads the one READER names; None serves without."""
        self.settings = settings
        self.embedder = embedder
        self.judges = answerability.judges(settings)
        self.multilingual = multilingual or load_multilingual(settings)
        self.reader = load_reader(settings) if reader is True else reader or None
        self.korean_reader = load_reader(settings, KOREAN) if korean_reader is True else korean_reader or None
        self._reloading = threading.Lock()
        self._ranker = self._ranker_for(data)

    def _ranker_for(self, data: store.IndexData) -> Ranker:
        return Ranker(
            data, self.judges, self.multilingual.model_name, self.reader, self.settings.reader_candidates, self.korean_reader
        )

    @classmethod
    def open(
        cls,
        settings: Settings,
        notify: Callable[[str], None] = log.info,
        *,
        embedder: Callable[[Settings], Embedder] = load_embedder,
        complete: bool = True,
    ) -> QAService:
        """Load the model and the index (building or updating the index first when the articles changed).

        With `complete` the pending multilingual vectors are made first too; a front end that runs a `Watcher`
        says False, and the watcher makes them in the background while answers go on."""
        answerability.judges(settings)  # a bad ANSWERABILITY_MODEL is reported before anything is built
        readers = load_reader(settings), load_reader(settings, KOREAN)  # and so is a missing or damaged reader
        model = cache(lambda: embedder(settings))  # loaded once, by the build or below
        second = cache(lambda: load_multilingual(settings))
        report = update_index(settings, model, notify, repair=False, progress=True, second=second, multilingual=complete)
        if report is not None:
            notify(report.summary())
        data = store.load_index(settings.index_dir, model=model_identity(settings), dimension=model().dimension)
        return cls(settings, model(), data, second(), *readers)

    def describe_readers(self) -> str:
        """Which reader reads which questions (for a front end's start-up log)."""
        names = [reader.name if reader is not None else "none" for reader in (self.reader, self.korean_reader)]
        return f"readers: {names[0]} for English questions, {names[1]} for Korean ones"

    @property
    def data(self) -> store.IndexData:
        return self._ranker.data

    def sources(self) -> tuple[DocumentInfo, ...]:
        """Every article in the index, newest first."""
        return newest_first(self.data.manifest.documents)

    def reload(self) -> store.IndexData:
        """Load the index from disk and swap it in; on any fault the old one stays and the error is raised.

        The new index must answer a question before it replaces the old one: an index that loads but
        cannot answer would otherwise turn every later question into an apology.
        """
        # One reload at a time: each loads the build `CURRENT` names when it starts, so without the lock a slow
        # reload of an older build could finish last and put back an article deleted since.
        with self._reloading:
            data = store.load_index(
                self.settings.index_dir, model=model_identity(self.settings), dimension=self.embedder.dimension
            )
            try:
                ranker = self._ranker_for(data)
                probe = RELOAD_PROBE if getattr(self.embedder, "started", True) else KOREAN_RELOAD_PROBE
                ranker.hits(self.rank([probe], self.settings.top_k, ranker)[0])
            except Exception as exc:  # whatever a damaged index raises, the old one keeps serving
                log.warning("the new index failed its probe question", exc_info=True)
                raise IndexDamagedError(f"the new index loads but cannot answer ({type(exc).__name__})") from None
            self._ranker = ranker  # one reference swap: a batch in flight keeps the one it took
            return data

    def rank(
        self, texts: Sequence[str], top_k: int, ranker: Ranker | None = None, prefer: Sequence[str | None] | None = None
    ) -> list[Ranked]:
        """The rankings of cleaned questions, with one embedding call for the batch."""
        ranker = ranker or self._ranker
        wanted = [i for i, text in enumerate(texts) if ranker.needs_multilingual(text)]
        second: list[np.ndarray | None] = [None] * len(texts)
        if wanted:
            for i, vector in zip(wanted, self.multilingual.queries([texts[i] for i in wanted]), strict=True):
                second[i] = vector
        # A Korean question is ranked on its multilingual vector alone: the English model is not asked.
        english = [i for i, text in enumerate(texts) if language_of(text) != KOREAN]
        vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        if english:
            vectors[english] = self.embedder.encode([texts[i] for i in english])
        return ranker.rank(texts, vectors, top_k, second, prefer)

    def answer(self, question: str, top_k: int | None = None, prefer: str | None = None) -> Answer:
        """Answer one question (`prefer`: an article to lean towards, for a follow-up)."""
        return self.answer_prepared([self.prepare(question, prefer)], top_k)[0]

    def prepare(self, question: str, prefer: str | None = None) -> Prepared:
        """Clean one question; raises BadQuestionError when nothing is left to ask."""
        text, notes = clean_question(question, self.settings.max_question_chars)
        return Prepared(text, notes, prefer)

    def answer_many(self, questions: Sequence[str], top_k: int | None = None) -> list[Answer]:
        """Answer a batch of questions with one embedding call; raises BadQuestionError on a blank one."""
        return self.answer_prepared([self.prepare(q) for q in questions], top_k)

    def answer_prepared(self, prepared: Sequence[Prepared], top_k: int | None = None) -> list[Answer]:
        """Answer cleaned questions: one embedding call for the batch, then one ranking each."""
        if not prepared:
            return []
        k = top_k or self.settings.top_k
        texts = [p.text for p in prepared]
        ranker = self._ranker  # one index for the whole batch, even if /reload swaps it meanwhile
        answers = []
        for item, ranked in zip(prepared, self.rank(texts, k, ranker, [p.prefer for p in prepared]), strict=True):
            hits = ranker.hits(ranked)  # deeper than k for a how-much question: other articles' figures
            decision = decide(item.text, hits, self.judges.threshold(language_of(item.text)))
            answers.append(Answer(item.text, decision.answered, hits[:k], item.notes + decision.notes, decision.presented))
        return answers
