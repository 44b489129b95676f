"""Fitting the answerability model: P(a sentence answers the question) from the ranking's evidence.

`eventbot calibrate` builds each tuning corpus in a scratch folder, asks its questions, records the evidence of
the top three hits (`Ranked.evidence`, features in `index/ranking/answerability.py`) with whether each answers
the question (a should-decline question is answered by none), fits a logistic regression (numpy, Newton's
method, L2; every corpus weighted alike), picks the decision threshold, and writes the model. Only tuning data
is used: the report halves (eval/article-report.jsonl, eval/newsroom/report.jsonl, eval/squad-multi/report.jsonl)
are for `eventbot eval` alone. A newsroom
adds its own labelled questions with `--questions FILE --seeds DIR` (repeatable).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.core.language import ENGLISH, KOREAN, LANGUAGES, has_hangul, language_of
from index.core.settings import Settings
from index.ranking.answerability import FEATURES, MODEL_KEYS, Model, model_key, path_for
from index.service import QAService
from measure.evaluate import Question, is_hit, load_questions
from measure.squad2 import KORQUAD, write_korquad_sets, write_tuning_set

REPO = Path(__file__).resolve().parent.parent
# The threshold declines as much as it can while wrongly declining at most this share of the answerable tuning
# questions of every corpus (the floor for each).
MAX_WRONGLY_DECLINED = 0.05
# Tuning sets the models are fitted on but the threshold is not chosen on. The news corpus's tuning stories: a third
# of their answerable questions are ranked wrong at the top, and keeping their wrongly declined under 5 % put the
# English threshold at 0.03, where the seed's and squad-multi's should-decline questions were declined 56 % and 44 %
# of the time (from 100 % and 92 %) and a near-topic question about the restaurants was answered.
THRESHOLD_SKIPS = frozenset({"news-tune"})
# Languages whose threshold counts, as wrongly declined, only answerable questions that a hit answers right:
# declining a wrong quote loses nothing. For Korean, whose targets are about declining (English keeps the
# issue's measure, every answerable question).
RIGHT_ONLY = frozenset({KOREAN})
# Hits per question that the fit learns from and that the decision looks at.
HITS = 3
# L2 penalty on the standardised weights: of 0.3, 1, 3, 10, 30 and 100, the one that declined most of the tuning
# sets' should-decline questions (mean over the three) at the chosen threshold; 0.3 to 3 tied.
L2 = 1.0
# The similarity floor is rounded down to a multiple of this.
FLOOR_STEP = 0.05


@dataclass(frozen=True, slots=True)
class Sample:
    """One hit of one tuning question: its evidence and whether it answers the question."""

    corpus: str
    question: int  # the question's number within its corpus
    evidence: tuple[float, ...]
    answerable: bool
    right: bool
    key: str = ENGLISH  # which model reads it (`answerability.model_key`: the question's language and the sentence's)

    @property
    def language(self) -> str:
        return self.key.split("-")[0]


def tuning_sets() -> list[tuple[str, Path, list[Question]]]:
    """(name, articles folder, questions) for every tuning set shipped in the repository (eval/README.md)."""
    return [
        ("seed", REPO / "seeds", load_questions(REPO / "eval/dev.jsonl") + load_questions(REPO / "eval/article-tune.jsonl")),
        ("newsroom", REPO / "eval/newsroom/docs", load_questions(REPO / "eval/newsroom/tune.jsonl")),
        ("squad-multi", REPO / "eval/squad-multi/corpus", load_questions(REPO / "eval/squad-multi/tune.jsonl")),
        # Korean questions about the English article, and about the Korean one beside it (eval/korean/README.md).
        (
            "korean-en-article",
            REPO / "seeds",
            load_questions(REPO / "eval/korean/shared-en-article.jsonl")
            + load_questions(REPO / "eval/korean/en-article-tune.jsonl"),
        ),
        # The same Korean should-decline questions over the English article alone: what the Korean-question,
        # English-sentence model learns to decline from.
        ("korean-negatives-en-article", REPO / "seeds", load_questions(REPO / "eval/korean/negatives-tune.jsonl")),
        *news_tuning_set(),
        (
            "korean-ko-article",
            REPO / "eval/korean/docs",
            load_questions(REPO / "eval/korean/shared-ko-article.jsonl")
            + load_questions(REPO / "eval/korean/ko-article-tune.jsonl")
            + load_questions(REPO / "eval/korean/negatives-tune.jsonl"),
        ),
    ]


def news_tuning_set() -> list[tuple[str, Path, list[Question]]]:
    """The news corpus's tuning stories with the questions kept from the reader's training (eval/newscorpus/)."""
    from measure import newscorpus

    found = newscorpus.calibration_set()
    if found is None:
        return []
    folder, rows = found
    return [("news-tune", folder, [Question(r["question"], tuple(r["answers"])) for r in rows])]


def neutral_model(folder: Path) -> Path:
    """Answerability models that weigh nothing (every hit 0.5), for ranking without a fitted model."""
    neutral = folder / "neutral-model.json"
    zeros = [0.0] * len(FEATURES)
    for key in MODEL_KEYS:
        path_for(neutral, key).write_text(
            json.dumps({"features": FEATURES, "mean": zeros, "std": [1.0] * len(FEATURES), "weights": zeros, "bias": 0.0})
        )
    return neutral


def collect(settings: Settings, name: str, corpus: Path, questions: list[Question], scratch: Path) -> list[Sample]:
    """Build the corpus in the scratch folder, ask every question, and label the top hits."""
    # The evidence does not depend on the model in use: a neutral one, so a missing or stale model is no obstacle.
    neutral = neutral_model(scratch)
    local = settings.model_copy(
        update={"seeds_dir": corpus, "index_dir": scratch / f"index-{name}", "answerability_model": neutral}
    )
    service = QAService.open(local, lambda message: None)
    texts = [service.prepare(q.question).text for q in questions]
    samples = []
    for begin in range(0, len(texts), 256):
        batch = texts[begin : begin + 256]
        ranked_batch = service.rank(batch, HITS)
        for number, (item, ranked) in enumerate(zip(questions[begin : begin + 256], ranked_batch, strict=True), start=begin):
            for row, evidence in zip(ranked.rows[:HITS], ranked.evidence[:HITS], strict=True):
                right = bool(item.answers) and is_hit(service.data.sentences[row].text, item)
                key = model_key(language_of(item.question), has_hangul(service.data.sentences[row].text))
                samples.append(Sample(name, number, evidence, bool(item.answers), right, key))
    return samples


def fit(samples: list[Sample], l2: float = L2, steps: int = 300) -> dict[str, object]:
    """Logistic regression by Newton's method on standardised features; every corpus carries the same weight."""
    x = np.array([s.evidence for s in samples], dtype=np.float64)
    y = np.array([s.right for s in samples], dtype=np.float64)
    counts = {name: sum(s.corpus == name for s in samples) for name in {s.corpus for s in samples}}
    weight = np.array([len(samples) / (len(counts) * counts[s.corpus]) for s in samples])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ beta)))
        gradient = z.T @ (weight * (p - y)) + penalty @ beta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return {
        "features": list(FEATURES),
        "mean": mean.tolist(),
        "std": std.tolist(),
        "weights": beta[:-1].tolist(),
        "bias": float(beta[-1]),
    }


def similarity_floor(samples: list[Sample]) -> float:
    """The lowest similarity of a hit that answered a tuning question, rounded down to a multiple of 0.05: hits
    below it answered none, so they get probability 0 and the fit learns from the others (seed off-topic
    declined 56% -> 69% on the tuning set, nothing else changed)."""
    right = [s.evidence[0] for s in samples if s.right]
    return round(float(np.floor(min(right) / FLOOR_STEP) * FLOOR_STEP), 2) if right else 0.0


def best_per_question(probabilities: np.ndarray, samples: list[Sample]) -> dict[tuple[str, int], tuple[float, bool]]:
    """Per question: the highest probability among its hits (what the decision looks at), and whether it is answerable."""
    best: dict[tuple[str, int], tuple[float, bool]] = {}
    for p, s in zip(probabilities, samples, strict=True):
        key = (s.corpus, s.question)
        best[key] = (max(float(p), best.get(key, (0.0, s.answerable))[0]), s.answerable)
    return best


def rates(best: dict[tuple[str, int], tuple[float, bool]], corpus: str, threshold: float) -> tuple[float | None, float | None]:
    """(share of should-decline questions declined, share of answerable ones declined) in one corpus."""
    mine = [v for k, v in best.items() if k[0] == corpus]
    declined = [p < threshold for p, answerable in mine if not answerable]
    wrongly = [p < threshold for p, answerable in mine if answerable]
    return (float(np.mean(declined)) if declined else None, float(np.mean(wrongly)) if wrongly else None)


def choose_threshold(best: dict[tuple[str, int], tuple[float, bool]]) -> float:
    """The highest threshold that wrongly declines at most MAX_WRONGLY_DECLINED of any corpus's answerable questions."""
    corpora = sorted({corpus for corpus, _ in best} - THRESHOLD_SKIPS)
    chosen = 0.01
    for candidate in np.round(np.arange(0.01, 0.99, 0.01), 2):
        wrongly = [w for c in corpora if (w := rates(best, c, float(candidate))[1]) is not None]
        if wrongly and max(wrongly) <= MAX_WRONGLY_DECLINED:
            chosen = float(candidate)
    return chosen


def calibrate(
    settings: Settings,
    output: Path,
    extra: Sequence[tuple[Path, Path]] = (),
    notify: Callable[[str], None] = lambda message: None,
    training_data: Path | None = None,
    language: str | None = None,
) -> dict[str, dict[str, object]]:
    """Fit on every tuning set (and `extra` (questions file, articles folder) pairs, and with `training_data` the
    SQuAD 2.0 questions the reader held out, `squad2.write_tuning_set`, and KorQuAD's tuning articles,
    `squad2.write_korquad_sets`) and write one model per language:
    English to `output`, Korean beside it (`answerability.path_for`). With `language`, only the sets with questions
    in it are asked and only its models written."""
    scratch = Path(tempfile.mkdtemp(prefix="eventbot-calibrate-"))
    try:
        sets = tuning_sets()
        sets += [(f"extra-{i}", seeds, load_questions(questions)) for i, (questions, seeds) in enumerate(extra, start=1)]
        if training_data is not None:
            write_tuning_set(training_data, scratch / "squad2")
            sets.append(("squad2-heldout", scratch / "squad2/docs", load_questions(scratch / "squad2/report.jsonl")))
            if (training_data / KORQUAD).is_file():  # and KorQuAD's five tuning articles, for the Korean models
                write_korquad_sets(training_data, scratch / "korquad")
                tune = scratch / "korquad" / "tune"
                sets.append(("korquad-tune", tune / "docs", load_questions(tune / "questions.jsonl")))
        if language is not None:
            sets = [(name, corpus, qs) for name, corpus, qs in sets if any(language_of(q.question) == language for q in qs)]
        samples = []
        for name, corpus, questions in sets:
            notify(f"{name}: {len(questions)} questions")
            samples += collect(settings, name, corpus, questions, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if language is not None:
        samples = [s for s in samples if s.language == language]
    models: dict[str, dict[str, object]] = {}
    for key in MODEL_KEYS:
        mine = [s for s in samples if s.key == key]
        if mine:
            floor = similarity_floor(mine)
            models[key] = {**fit([s for s in mine if s.evidence[0] >= floor]), "min_similarity": floor}
    for asked in LANGUAGES:
        # One threshold per question language, over the best hit of each question whichever model read it.
        mine = [s for s in samples if s.language == asked]
        if not mine:
            continue
        fitted = {key: Model.from_dict({**model, "threshold": 0.5}) for key, model in models.items()}
        probabilities = np.array([float(fitted[s.key].probabilities(np.array([s.evidence]))[0]) for s in mine])
        best = best_per_question(probabilities, mine)
        if asked in RIGHT_ONLY:
            answered_right = {(s.corpus, s.question) for s in mine if s.right}
            threshold = choose_threshold({k: v for k, v in best.items() if not v[1] or k in answered_right})
        else:
            threshold = choose_threshold(best)
        tuning = {
            name: dict(zip(("declined", "wrongly_declined"), rates(best, name, threshold), strict=True))
            for name in sorted({s.corpus for s in mine})
        }
        for key in models:
            if key.split("-")[0] == asked:
                models[key].update({"threshold": threshold, "tuning": tuning})
    for key, model in models.items():
        path_for(output, key).write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    return models
