"""Measuring answer quality: recall, MRR and declining, for the system and two baselines in one run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.core.errors import EventBotError
from index.core.records import Answer, Sentence
from index.service import QAService
from measure import baselines

# "reader": the system as served (hybrid ranking rescored by the reader of the question's language); "hybrid": the
# same ranking without either reader; two baselines. Without a reader (READER=off) the first two are one.
MODES = ("reader", "hybrid", "bm25", "dense")
DEPTH = 10


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation line: empty `answers` means the bot should decline."""

    question: str
    answers: tuple[str, ...]
    passage: str | None = None  # the paragraph that holds the answer (the file's "context" field)


@dataclass(frozen=True, slots=True)
class Miss:
    question: str
    expected: tuple[str, ...]
    returned: tuple[str, ...]
    answered: bool


@dataclass(frozen=True, slots=True)
class Scores:
    """Retrieval figures over the answerable questions (recall at 1 and 3, MRR at 10)."""

    recall_1: float
    recall_3: float
    mrr_10: float


@dataclass(frozen=True, slots=True)
class Bucket:
    """Questions whose best hit's confidence lies in [low, high]: how many, and how many of those it answers right."""

    low: float
    high: float
    count: int
    mean_confidence: float
    share_correct: float


BUCKETS = 10


def calibration(confidences: Sequence[float], correct: Sequence[bool], buckets: int = BUCKETS) -> list[Bucket]:
    """Equal-count confidence buckets over every question (a should-decline question is never correct)."""
    order = sorted(range(len(confidences)), key=lambda i: confidences[i])
    out = []
    for part in range(buckets):
        rows = order[part * len(order) // buckets : (part + 1) * len(order) // buckets]
        if rows:
            values = [confidences[i] for i in rows]
            out.append(
                Bucket(min(values), max(values), len(rows), sum(values) / len(rows), sum(correct[i] for i in rows) / len(rows))
            )
    return out


@dataclass(frozen=True, slots=True)
class Report:
    answerable: int
    should_decline: int
    scores: dict[str, Scores]
    declined: float | None  # share of should-decline questions declined
    wrongly_declined: float | None  # share of answerable questions declined
    misses: list[Miss] = field(default_factory=list)
    calibration: list[Bucket] = field(default_factory=list)

    @property
    def ece(self) -> float | None:
        """Expected calibration error: the question-weighted mean gap between confidence and share right per bucket."""
        total = sum(b.count for b in self.calibration)
        if not total:
            return None
        return sum(b.count * abs(b.mean_confidence - b.share_correct) for b in self.calibration) / total

    def as_dict(self) -> dict[str, object]:
        return {
            "answerable": self.answerable,
            "should_decline": self.should_decline,
            **{mode: {"r@1": s.recall_1, "r@3": s.recall_3, "mrr@10": s.mrr_10} for mode, s in self.scores.items()},
            "declined": self.declined,
            "wrongly_declined": self.wrongly_declined,
            "calibration": [asdict(bucket) for bucket in self.calibration],
            "ece": self.ece,
        }


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL file; a malformed line is an error naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EventBotError(f"cannot read {path}: {exc}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = row.get("answers", [])
            if not isinstance(row["question"], str) or not isinstance(answers, list):
                raise TypeError
            questions.append(Question(row["question"], tuple(str(a) for a in answers), row.get("context")))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise EventBotError(f'{path} line {number}: expected {{"question": str, "answers": [str, ...]}}') from None
    if not questions:
        raise EventBotError(f"{path} has no questions")
    return questions


def is_hit(text: str, item: Question) -> bool:
    """A returned sentence answers when it contains an answer and, if a passage is given, lies in it."""
    lowered = text.lower()
    if not any(answer.lower() in lowered for answer in item.answers):
        return False
    return item.passage is None or " ".join(text.split()) in " ".join(item.passage.split())


def evaluate(service: QAService, questions: Sequence[Question], *, verbose: bool = False) -> Report:
    """The system and both baselines over the same questions, sentences and model, in one run."""
    answerable = [q for q in questions if q.answers]
    decline = [q for q in questions if not q.answers]
    texts = [q.question for q in answerable]
    answers = service.answer_many(texts, DEPTH) if answerable else []
    reading = service.reader is not None or service.korean_reader is not None
    served = "reader" if reading else "hybrid"
    returned = {served: [[hit.sentence for hit in answer.hits] for answer in answers]}
    if answerable:
        data = service.data
        if reading:
            alone = QAService(service.settings, service.embedder, data, service.multilingual, None, None)
            returned["hybrid"] = [[hit.sentence for hit in a.hits] for a in alone.answer_many(texts, DEPTH)]
        prepared = [service.prepare(t).text for t in texts]
        vectors = service.embedder.encode(prepared)
        returned["bm25"] = baselines.ranked(data, baselines.bm25(data), prepared, vectors, DEPTH)
        returned["dense"] = baselines.ranked(data, baselines.dense(data), prepared, vectors, DEPTH)
    scores: dict[str, Scores] = {}
    n = max(1, len(answerable))
    for mode in (m for m in MODES if m != "reader" or reading):
        ranks = [_rank(sentences, item) for sentences, item in zip(returned.get(mode, []), answerable, strict=True)]
        scores[mode] = Scores(
            recall_1=sum(r == 1 for r in ranks) / n,
            recall_3=sum(r is not None and r <= 3 for r in ranks) / n,
            mrr_10=sum(1 / r for r in ranks if r is not None) / n,
        )
    # Answered or declined as served: over the first TOP_K hits, not the ten ranked above.
    answers = service.answer_many(texts, service.settings.top_k) if answerable else []
    misses = [
        _miss(answer, item)
        for answer, item, sentences in zip(answers, answerable, returned.get(served, []), strict=True)
        if _rank(sentences, item) != 1 or not answer.answered
    ]
    declined_answers = service.answer_many([q.question for q in decline], service.settings.top_k) if decline else []
    misses += [_miss(a, q) for a, q in zip(declined_answers, decline, strict=True) if a.answered]
    top_right = [_rank(sentences, item) == 1 for sentences, item in zip(returned.get(served, []), answerable, strict=True)]
    every = [*answers, *declined_answers]
    confidences = [a.hits[0].confidence if a.hits else 0.0 for a in every]
    return Report(
        calibration=calibration(confidences, [*top_right, *(False for _ in declined_answers)]),
        answerable=len(answerable),
        should_decline=len(decline),
        scores=scores,
        declined=sum(not a.answered for a in declined_answers) / len(decline) if decline else None,
        wrongly_declined=sum(not a.answered for a in answers) / len(answerable) if answerable else None,
        misses=misses if verbose else [],
    )


def _rank(sentences: Sequence[Sentence], item: Question) -> int | None:
    for rank, sentence in enumerate(sentences, start=1):
        if is_hit(sentence.text, item):
            return rank
    return None


def _miss(answer: Answer, item: Question) -> Miss:
    return Miss(item.question, item.answers, tuple(hit.sentence.text for hit in answer.hits[:3]), answer.answered)


def plot_calibration(report: Report, path: Path, title: str) -> None:
    """The reliability diagram: share answered right against mean confidence, per bucket."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 4))
    means = [b.mean_confidence for b in report.calibration]
    axis.plot(means, [b.share_correct for b in report.calibration], marker="o", label="eventbot")
    low, high = (min(means), max(means)) if means else (0.0, 1.0)
    axis.plot([low, high], [low, high], linestyle=":", color="grey", label="calibrated (confidence = share right)")
    axis.set_xlabel("mean confidence of the best hit (bucket)")
    axis.set_ylabel("share answered right")
    axis.set_ylim(0, 1)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def format_report(name: str, report: Report) -> str:
    """A small table people can read and paste into the README."""
    lines = [f"{name}: {report.answerable} answerable, {report.should_decline} should be declined"]
    if report.answerable:
        lines.append(f"{'':10} {'R@1':>6} {'R@3':>6} {'MRR@10':>7}")
        labels = {"reader": "+ reader", "hybrid": "hybrid", "bm25": "BM25", "dense": "dense"}
        for mode, s in report.scores.items():
            lines.append(f"{labels[mode]:10} {s.recall_1:6.3f} {s.recall_3:6.3f} {s.mrr_10:7.3f}")
    if report.declined is not None:
        lines.append(f"off-topic declined: {report.declined:.1%} of {report.should_decline}")
    if report.wrongly_declined is not None:
        lines.append(f"answerable wrongly declined: {report.wrongly_declined:.1%} of {report.answerable}")
    if report.calibration:
        lines.append(f"calibration (best hit's confidence -> share answered right by it; ECE {report.ece:.3f}):")
        lines += [
            f"  {b.low:7.3f} .. {b.high:7.3f}  {b.count:4d} questions  "
            f"mean {b.mean_confidence:6.3f}  right {b.share_correct:6.1%}"
            for b in report.calibration
        ]
    for miss in report.misses:
        expected = " | ".join(miss.expected) or "(decline)"
        lines.append(f"\nMISS {miss.question!r} expected {expected!r}; answered={miss.answered}")
        lines += [f"  {i}. {text}" for i, text in enumerate(miss.returned, start=1)]
    return "\n".join(lines)
