"""The project's news corpus (`eval/newscorpus/`, its README): showing, checking and splitting it.

`python -m measure.newscorpus show --story ID` prints every article of a story as the project loads and splits it
(warnings, title, date, sentences); `check [--story ID]` checks the questions of one story or of all (every field,
every answer a substring of one sentence of the story as the project splits it, the counts per kind and language)
and exits 1 on any error. Stories are split whole: `REPORT_STORIES` are report-only (nothing is trained or tuned
on them), the others train the reader and fit declining (`tuning_questions` keeps one question in four out of the
reader's training for the fit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.content.loader import load_documents
from index.content.splitter import split_document
from index.core.language import ENGLISH, KOREAN, has_hangul
from index.core.records import Document, Sentence

CORPUS = Path(__file__).resolve().parent.parent / "eval" / "newscorpus"
STORIES = CORPUS / "stories"
QUESTIONS = CORPUS / "questions"
TOPICS = ("defence", "economy", "disasters", "courts", "sport", "culture", "science", "elections")
# A third of the stories (11 of 32), every topic's first and three six-article ones: report-only.
REPORT_STORIES = frozenset({f"{t}-1" for t in TOPICS} | {"disasters-4", "sport-4", "elections-4"})
KINDS = ("figure", "date", "name", "place", "why", "how", "yesno", "table", "list", "correction", "other", "unanswerable")
# What GUIDE.md asks of each story: (question language, answer language, answerable) -> at least this many.
QUOTAS = {
    (ENGLISH, ENGLISH, True): 45,
    (KOREAN, ENGLISH, True): 26,
    (ENGLISH, KOREAN, True): 10,
    (KOREAN, KOREAN, True): 8,
    (ENGLISH, None, False): 34,
    (KOREAN, None, False): 14,
}
# One training-story question in this many (by hash) is kept from the reader for fitting the decline models.
CALIBRATION_SHARE = 4


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    documents: tuple[Document, ...]
    sentences: tuple[Sentence, ...]
    warnings: tuple[str, ...]


PARTS = ("report", "tune")


def story_folder(story_id: str) -> Path:
    """A story's folder: `stories/<part>/<id>` (`eventbot eval --seeds stories/report`), or `stories/<id>` while
    it is being written."""
    placed = STORIES / part_of(story_id) / story_id
    return placed if placed.is_dir() else STORIES / story_id


def story_ids() -> list[str]:
    if not STORIES.is_dir():
        return []
    found = {p.name for p in STORIES.iterdir() if p.is_dir() and p.name not in PARTS}
    found |= {p.name for part in PARTS if (STORIES / part).is_dir() for p in (STORIES / part).iterdir() if p.is_dir()}
    return sorted(found)


def part_of(story_id: str) -> str:
    return "report" if story_id in REPORT_STORIES else "tune"


def load_story(story_id: str) -> Story:
    result = load_documents(story_folder(story_id))
    sentences = tuple(s for d in result.documents for s in split_document(d))
    return Story(story_id, result.documents, sentences, result.warnings)


def read_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path.name}:{number}: not JSON ({error.msg})") from None
    return rows


def answering(answer: str, sentences: Iterable[Sentence]) -> list[Sentence]:
    """The sentences that hold `answer` (case-insensitive, as `eventbot eval` counts a hit)."""
    folded = answer.casefold()
    return [s for s in sentences if folded in s.text.casefold()]


def check_story(story: Story, rows: Sequence[dict[str, Any]]) -> tuple[list[str], Counter[tuple[Any, ...]]]:
    """Every problem with a story's questions, one line each, and the counts per (lang, over, answerable)."""
    errors: list[str] = []
    counts: Counter[tuple[Any, ...]] = Counter()
    files = {Path(d.source).name for d in story.documents}
    seen_ids: set[Any] = set()
    seen_questions: set[str] = set()
    for row in rows:
        where = f"{story.story_id} {row.get('id', '?')}"
        question, answers = row.get("question"), row.get("answers")
        if not isinstance(question, str) or not question.strip():
            errors.append(f"{where}: no question")
            continue
        if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
            errors.append(f"{where}: answers must be a list of non-empty strings")
            continue
        if row.get("id") in seen_ids:
            errors.append(f"{where}: id used twice")
        seen_ids.add(row.get("id"))
        if question.strip().casefold() in seen_questions:
            errors.append(f"{where}: the same question twice")
        seen_questions.add(question.strip().casefold())
        lang, over, kind = row.get("lang"), row.get("over"), row.get("kind")
        if lang not in (ENGLISH, KOREAN) or over not in (ENGLISH, KOREAN):
            errors.append(f"{where}: lang and over must be en or ko")
            continue
        if (lang == KOREAN) != has_hangul(question):
            errors.append(f"{where}: lang {lang} but the question is {'Korean' if has_hangul(question) else 'not Korean'}")
        if kind not in KINDS:
            errors.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if (kind == "unanswerable") != (not answers):
            errors.append(f"{where}: kind unanswerable exactly when answers is empty")
        if row.get("file") not in files:
            errors.append(f"{where}: file {row.get('file')!r} is not an article of the story")
        # A fact a Korean piece repeats may be listed beside the English sentence that gives it; `over` names the
        # language at least one answering sentence is in.
        in_over_language = False
        for answer in answers:
            found = answering(answer, story.sentences)
            if not found:
                errors.append(f"{where}: answer {answer!r} is not inside any one sentence of the story")
            in_over_language |= any(has_hangul(s.text) == (over == KOREAN) for s in found)
        if answers and not in_over_language:
            errors.append(f"{where}: over {over} but no answer is in a sentence of that language")
        counts[(lang, over if answers else None, bool(answers))] += 1
    return errors, counts


def short_of_quota(counts: Counter[tuple[Any, ...]]) -> list[str]:
    return [
        f"{n - counts[key]} more {key[0]} questions {'answered by ' + str(key[1]) + ' text' if key[2] else 'unanswerable'}"
        for key, n in QUOTAS.items()
        if counts[key] < n
    ]


def questions_of(part: str) -> list[dict[str, Any]]:
    """Every question of the report or the tuning part, with its story: from the part's file (`report.jsonl`,
    `tune.jsonl`) or, while they are being written, from the stories' own files under `questions/`."""
    merged = CORPUS / f"{part}.jsonl"
    if merged.is_file():
        return read_questions(merged)
    rows = []
    for story_id in story_ids():
        path = QUESTIONS / f"{story_id}.jsonl"
        if part_of(story_id) == part and path.is_file():
            rows += [{**row, "story": story_id} for row in read_questions(path)]
    return rows


def story_questions(story_id: str) -> list[dict[str, Any]] | None:
    path = QUESTIONS / f"{story_id}.jsonl"
    if path.is_file():
        return read_questions(path)
    rows = [row for row in questions_of(part_of(story_id)) if row.get("story") == story_id]
    return rows or None


def calibration_set() -> tuple[Path, list[dict[str, Any]]] | None:
    """The tuning stories' folder and the questions kept from the reader for fitting declining (None before the
    corpus is placed)."""
    folder = STORIES / "tune"
    rows = [row for row in questions_of("tune") if for_calibration(row["question"])]
    return (folder, rows) if folder.is_dir() and rows else None


def for_calibration(question: str) -> bool:
    """A training-story question kept from the reader's training, for fitting the decline models."""
    return int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16) % CALIBRATION_SHARE == 0


def write_part(part: str, output: Path, lang: str | None = None, over: str | None = None) -> int:
    """The part's questions as one `eventbot eval` file (`{"question", "answers"}` plus the corpus's fields): only
    those asked in `lang`, and of the answerable ones only those answered by `over` text, when given."""
    rows = [
        row
        for row in questions_of(part)
        if (lang is None or row["lang"] == lang) and (over is None or not row["answers"] or row["over"] == over)
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


JUDGEMENTS = CORPUS / "judgements"
CANDIDATES = 10
# One judged question in this many (by hash) is judged a second time, by another judge, for the agreement rate.
SECOND_JUDGE_SHARE = 8


def training_questions() -> list[dict[str, Any]]:
    """The tuning part's questions the reader trains on (the others fit declining)."""
    return [row for row in questions_of("tune") if not for_calibration(row["question"])]


def second_judged(question_id: str) -> bool:
    return int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16) % SECOND_JUDGE_SHARE == 0


def read_judgements(story_id: str, second: bool = False) -> dict[str, set[int]]:
    """A story's verdicts: question id -> the numbers (1-based) of the candidates judged to answer it."""
    path = JUDGEMENTS / ("second" if second else "") / f"{story_id}.jsonl"
    if not path.is_file():
        return {}
    return {row["id"]: {int(n) for n in row["answers"]} for row in read_questions(path)}


def write_candidates(output: Path = JUDGEMENTS, rows: Sequence[dict[str, Any]] | None = None) -> int:
    """For every training question, the served ranking's top ten over all tuning stories (its own and the other
    stories, the distractors): `candidates/<story>.jsonl` for training and `todo/<story>.txt` for the judges."""
    import shutil
    import tempfile

    from index.core.settings import load_settings
    from index.service import QAService
    from measure.calibrate import neutral_model

    rows = list(training_questions() if rows is None else rows)
    with tempfile.TemporaryDirectory(prefix="newscorpus-") as scratch:
        seeds = Path(scratch) / "docs"
        for story_id in sorted({row["story"] for row in rows} | {s for s in story_ids() if part_of(s) == "tune"}):
            shutil.copytree(story_folder(story_id), seeds / story_id)
        previous: dict[tuple[str, int, int], str] = {}
        for document in load_documents(seeds).documents:
            sentences = split_document(document)
            for before, after in zip(sentences, sentences[1:], strict=False):
                if before.paragraph == after.paragraph:
                    previous[(after.doc_id, after.paragraph, after.sentence)] = before.text
        settings = load_settings().model_copy(
            update={"seeds_dir": seeds, "index_dir": Path(scratch) / "index", "answerability_model": neutral_model(Path(scratch))}
        )
        service = QAService.open(settings, lambda line: None)
        answers = service.answer_many([row["question"] for row in rows], CANDIDATES)
    by_story: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {}
    for row, answer in zip(rows, answers, strict=True):
        listed = [
            {
                "doc_id": hit.sentence.doc_id, "paragraph": hit.sentence.paragraph, "sentence": hit.sentence.sentence,
                "text": hit.sentence.text, "title": hit.document.title,
                "previous": previous.get((hit.sentence.doc_id, hit.sentence.paragraph, hit.sentence.sentence)),
            }
            for hit in answer.hits
        ]  # fmt: skip
        by_story.setdefault(row["story"], []).append((row, listed))
    for story_id, items in by_story.items():
        machine = output / "candidates" / f"{story_id}.jsonl"
        machine.parent.mkdir(parents=True, exist_ok=True)
        machine.write_text(
            "".join(
                json.dumps({"id": r["id"], "question": r["question"], "candidates": c}, ensure_ascii=False) + "\n"
                for r, c in items
            ),
            encoding="utf-8",
        )
        todo = output / "todo" / f"{story_id}.txt"
        todo.parent.mkdir(parents=True, exist_ok=True)
        todo.write_text("".join(_todo_block(r, c) for r, c in items), encoding="utf-8")
    return sum(len(items) for items in by_story.values())


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often two judges (or a judge and the writers' answer keys) agree on (question, candidate) verdicts."""

    pairs: int
    agreed: int
    kappa: float

    @property
    def rate(self) -> float:
        return self.agreed / self.pairs if self.pairs else float("nan")


def agreement(first: Sequence[bool], second: Sequence[bool]) -> Agreement:
    """Raw agreement and Cohen's kappa of two equally long lists of verdicts."""
    n = len(first)
    agreed = sum(a == b for a, b in zip(first, second, strict=True))
    if not n:
        return Agreement(0, 0, float("nan"))
    p_first, p_second = sum(first) / n, sum(second) / n
    chance = p_first * p_second + (1 - p_first) * (1 - p_second)
    kappa = (agreed / n - chance) / (1 - chance) if chance < 1 else 1.0
    return Agreement(n, agreed, kappa)


def judge_agreement() -> dict[str, Agreement]:
    """Over every judged story: the first and second judges on the doubly judged questions ("judges"), and the
    first judge against the writers' answer keys ("writers": a candidate holding an answer string answers)."""
    rows = {row["id"]: row for row in questions_of("tune")}
    pairs: dict[str, tuple[list[bool], list[bool]]] = {"judges": ([], []), "writers": ([], [])}
    for path in sorted((JUDGEMENTS / "candidates").glob("*.jsonl")):
        first, second = read_judgements(path.stem), read_judgements(path.stem, second=True)
        for item in read_questions(path):
            if item["id"] not in first:
                continue
            answers = [a.casefold() for a in rows[item["id"]]["answers"]] if item["id"] in rows else []
            for number, candidate in enumerate(item["candidates"], start=1):
                verdict = number in first[item["id"]]
                pairs["writers"][0].append(verdict)
                pairs["writers"][1].append(any(a in candidate["text"].casefold() for a in answers))
                if item["id"] in second:
                    pairs["judges"][0].append(verdict)
                    pairs["judges"][1].append(number in second[item["id"]])
    return {name: agreement(a, b) for name, (a, b) in pairs.items()}


def _todo_block(row: dict[str, Any], candidates: Sequence[dict[str, Any]]) -> str:
    lines = [f"### {row['id']}{'  (second judge too)' if second_judged(row['id']) else ''}", f"Q: {row['question']}"]
    for number, c in enumerate(candidates, start=1):
        context = f" [before: {c['previous'][:160]}]" if c["previous"] else ""
        lines.append(f"{number}. {c['text']}  <{c['title']}>{context}")
    return "\n".join(lines) + "\n\n"


def _show(story: Story) -> None:
    for warning in story.warnings:
        print(f"WARNING: {warning}")
    for document in story.documents:
        mine = [s for s in story.sentences if s.doc_id == document.doc_id]
        print(f"\n== {Path(document.source).name}: {document.title!r}, date {document.date}, {len(mine)} sentences")
        for s in mine:
            print(f"  {s.paragraph}.{s.sentence}  {s.text}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m measure.newscorpus", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a story's articles as the project loads and splits them")
    show.add_argument("--story", required=True)
    check = sub.add_parser("check", help="check the questions of one story (or of all)")
    check.add_argument("--story")
    check.add_argument("--quotas", action="store_true", help="also fail when a story has fewer questions than GUIDE.md asks")
    candidates = sub.add_parser("candidates", help="rank every training question and write what the judges read")
    candidates.add_argument("--story", action="append", help="only these stories' questions (repeatable)")
    part = sub.add_parser("part", help="write a part's questions as one `eventbot eval` file")
    part.add_argument("part", choices=PARTS)
    part.add_argument("--output", type=Path, required=True)
    part.add_argument("--lang", choices=(ENGLISH, KOREAN), help="only questions asked in this language")
    part.add_argument("--over", choices=(ENGLISH, KOREAN), help="only answerable questions answered by text in this language")
    sub.add_parser("agreement", help="how often the judges agree with each other and with the writers' answer keys")
    args = parser.parse_args(argv)
    if args.command == "part":
        print(f"{write_part(args.part, args.output, args.lang, args.over)} questions written to {args.output}")
        return 0
    if args.command == "agreement":
        for name, result in judge_agreement().items():
            print(f"{name}: {result.pairs} (question, candidate) pairs, agreement {result.rate:.3f}, kappa {result.kappa:.3f}")
        return 0
    if args.command == "candidates":
        rows = [r for r in training_questions() if not args.story or r["story"] in args.story]
        print(f"{write_candidates(JUDGEMENTS, rows)} questions ranked into {JUDGEMENTS}")
        return 0
    if args.command == "show":
        if not story_folder(args.story).is_dir():
            print(f"no story {args.story} under {STORIES}", file=sys.stderr)
            return 1
        _show(load_story(args.story))
        return 0
    chosen = [args.story] if args.story else story_ids()
    failed = False
    totals: Counter[tuple[Any, ...]] = Counter()
    for story_id in chosen:
        try:
            written = story_questions(story_id)
            if written is None:
                print(f"{story_id}: no questions yet")
                failed = failed or bool(args.story)
                continue
            errors, counts = check_story(load_story(story_id), written)
        except ValueError as error:
            errors, counts = [str(error)], Counter()
        totals += counts
        missing = short_of_quota(counts)
        for line in errors:
            print(line)
        print(
            f"{story_id}: {sum(counts.values())} questions, {len(errors)} errors"
            + (f"; short: {'; '.join(missing)}" if missing else "")
        )
        failed = failed or bool(errors) or (args.quotas and bool(missing))
    print(
        "all: "
        + ", ".join(
            f"{k[0]}->{k[1] or '-'} {'answerable' if k[2] else 'unanswerable'}: {n}" for k, n in sorted(totals.items(), key=str)
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
