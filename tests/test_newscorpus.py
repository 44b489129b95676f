"""The news corpus (`eval/newscorpus/`): every story loads as written, every question checks, the counts the corpus
promises hold, and the split by story keeps the report part out of everything trained or tuned."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from index.core.language import ENGLISH, KOREAN, has_hangul
from measure import newscorpus


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[newscorpus.Story, list[dict[str, Any]]]]:
    stories = {}
    for story_id in newscorpus.story_ids():
        rows = newscorpus.story_questions(story_id)
        stories[story_id] = (newscorpus.load_story(story_id), rows or [])
    return stories


def test_every_story_loads_cleanly_and_every_question_checks(corpus: dict[str, Any]) -> None:
    problems = []
    for story_id, (story, rows) in corpus.items():
        problems += [f"{story_id}: {w}" for w in story.warnings]
        errors, counts = newscorpus.check_story(story, rows)
        problems += errors + [f"{story_id}: {m}" for m in newscorpus.short_of_quota(counts)]
    assert not problems, "\n".join(problems[:20])


def test_the_corpus_is_as_large_and_as_varied_as_promised(corpus: dict[str, Any]) -> None:
    documents = [d for story, _ in corpus.values() for d in story.documents]
    rows = [r for _, rs in corpus.values() for r in rs]
    assert {story_id.rsplit("-", 1)[0] for story_id in corpus} == set(newscorpus.TOPICS)
    assert all(3 <= len(story.documents) <= 6 for story, _ in corpus.values())
    assert len(documents) >= 150
    assert sum(has_hangul(d.title) for d in documents) >= 40
    answerable = [r for r in rows if r["answers"]]
    assert len(rows) >= 4000
    assert len(rows) - len(answerable) >= 1500
    assert sum(r["lang"] == KOREAN and r["over"] == ENGLISH for r in answerable) >= 800
    assert sum(r["lang"] == ENGLISH and r["over"] == KOREAN for r in answerable) >= 300
    kinds = Counter(r["kind"] for r in rows)
    assert all(kinds[k] >= 32 for k in ("table", "correction", "yesno", "why", "unanswerable")), kinds


def test_every_story_has_every_format_the_loader_reads(corpus: dict[str, Any]) -> None:
    for story_id, (story, _) in corpus.items():
        names = [Path(d.source).name for d in story.documents]
        folder = newscorpus.story_folder(story_id)
        headed = [n for n in names if n.endswith(".txt") and (folder / n).read_text(encoding="utf-8").startswith("date ")]
        headerless = [n for n in names if n.endswith(".txt") and n not in headed]
        front_matter = [n for n in names if n.endswith(".md") and (folder / n).read_text(encoding="utf-8").startswith("---")]
        assert headed and headerless and front_matter, story_id
        assert any(n.endswith(".html") for n in names), story_id
        assert any(n.endswith("-ko.md") for n in names), story_id
        assert all(d.date for d in story.documents), story_id
        tables = [n for n in front_matter if "|---" in (folder / n).read_text(encoding="utf-8").replace(" ", "")]
        assert tables, f"{story_id}: no Markdown table"


def test_the_split_is_by_story_and_the_report_part_trains_nothing(corpus: dict[str, Any]) -> None:
    report = [s for s in corpus if newscorpus.part_of(s) == "report"]
    assert len(report) * 3 >= len(corpus) and {s.rsplit("-", 1)[0] for s in report} == set(newscorpus.TOPICS)
    training = newscorpus.training_questions()
    assert training and all(newscorpus.part_of(r["story"]) == "tune" for r in training)
    assert not any(newscorpus.for_calibration(r["question"]) for r in training)
    reported = {r["question"] for s in report for r in corpus[s][1]}
    from measure.train_reader import judged_pairs

    pairs, _ = judged_pairs(ENGLISH)
    assert pairs, "no judged candidates"
    assert not {p.question for p in pairs} & reported
    assert not any(newscorpus.for_calibration(p.question) for p in pairs)
    assert {p.source for p in pairs} <= {"news-judged", "news-missed"} and any(p.label == 0.0 for p in pairs)


def test_the_check_catches_what_a_writer_gets_wrong(corpus: dict[str, Any]) -> None:
    story, rows = next(iter(corpus.values()))
    good = next(
        r
        for r in rows
        if r["answers"] and r["lang"] == ENGLISH and r["over"] == ENGLISH and not any(map(has_hangul, r["answers"]))
    )
    assert newscorpus.check_story(story, [good])[0] == []
    broken = [
        {**good, "id": "x1", "question": good["question"] + " (1)", "answers": ["words that no sentence of it holds"]},
        {**good, "id": "x2", "question": "몇 명인가?", "lang": ENGLISH},
        {**good, "id": "x3", "question": good["question"] + " (3)", "kind": "guess"},
        {**good, "id": "x4", "question": good["question"] + " (4)", "file": "elsewhere.txt"},
        {**good, "id": "x5", "question": good["question"] + " (5)", "over": KOREAN},
        {**good, "id": "x6", "question": good["question"] + " (6)", "kind": "unanswerable"},
        {**good, "id": "x1", "question": good["question"] + " (7)"},
    ]
    errors, _ = newscorpus.check_story(story, broken)
    expected_errors = ("not inside any one sentence", "lang en but", "kind 'guess'", "not an article", "over ko")
    for expected in (*expected_errors, "exactly when", "id used twice"):
        assert any(expected in e for e in errors), expected


def test_agreement_is_raw_agreement_and_cohens_kappa() -> None:
    perfect = newscorpus.agreement([True, False, False, True], [True, False, False, True])
    assert (perfect.pairs, perfect.agreed, perfect.rate, perfect.kappa) == (4, 4, 1.0, 1.0)
    # Half the verdicts agree, as often as chance would have it: kappa 0.
    chance = newscorpus.agreement([True, True, False, False], [True, False, True, False])
    assert chance.rate == 0.5 and abs(chance.kappa) < 1e-9
    # Every judged story has both judges' files for the doubly judged questions, and they were compared.
    judges = newscorpus.judge_agreement()["judges"]
    assert judges.pairs >= 1000 and 0 <= judges.rate <= 1
