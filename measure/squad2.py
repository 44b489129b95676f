"""SQuAD 2.0's own questions over five articles the reader never trained on (`train_reader.REPORT_ARTICLES`).

The data stay in `../shared/training/` (they are not copied into the repository): `eventbot squad2 --data DIR
--output OUT` writes the five articles in the seed format (`OUT/docs/`) and their questions (`OUT/report.jsonl`:
answerable ones with their answers and paragraph, unanswerable ones with no answers), for
`eventbot eval OUT/report.jsonl --seeds OUT/docs`. Reporting only: nothing is tuned on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure.train_reader import REPORT_ARTICLES, SQUAD, held_out

KORQUAD = "korquad1-dev-part.json"
# KorQuAD 1.0 articles (of the 115 in the dev part) kept for reporting Korean; the next five for tuning. Any
# Korean reader or fit must leave both out of training, and reports come from the first five only.
KORQUAD_REPORT = 5
KORQUAD_TUNE = 5
# Questions of other KorQuAD articles asked of each set: the articles do not answer them, so they should be declined.
KORQUAD_FOREIGN = 100


def write_report_set(data: Path, output: Path) -> tuple[int, int]:
    """Write the five report articles and all their questions; returns (answerable, unanswerable) counts."""
    return _write(data, output, lambda title, question: title in REPORT_ARTICLES)


def write_tuning_set(data: Path, output: Path) -> tuple[int, int]:
    """The nine training articles with the questions training held out (one in twenty, `held_out`): what
    `eventbot calibrate --training-data DIR` learns SQuAD 2.0's unanswerable questions from. The reader has read
    these paragraphs, never these questions."""
    return _write(data, output, lambda title, question: title not in REPORT_ARTICLES and held_out(question))


def korquad_split(articles: list[dict[str, Any]]) -> tuple[list[Any], list[Any], list[Any], dict[str, list[str]]]:
    """KorQuAD's articles as (report, tune, the rest) and the rest's questions asked of each set to be declined
    (`foreign`: "report" and "tune"): a Korean reader trains on the rest without those questions."""
    report = articles[-KORQUAD_REPORT:]
    tune = articles[-KORQUAD_REPORT - KORQUAD_TUNE : -KORQUAD_REPORT]
    others = articles[: -KORQUAD_REPORT - KORQUAD_TUNE]
    rest = [qa["question"].strip() for a in others for p in a["paragraphs"] for qa in p["qas"]]
    step = max(1, len(rest) // (2 * KORQUAD_FOREIGN))
    foreign = {"report": rest[0::step][:KORQUAD_FOREIGN], "tune": rest[step // 2 :: step][:KORQUAD_FOREIGN]}
    return report, tune, others, foreign


def write_korquad_sets(data: Path, output: Path) -> dict[str, tuple[int, int]]:
    """KorQuAD 1.0's report and tuning articles, each set in its own folder (`OUT/report/`, `OUT/tune/`: docs and
    questions.jsonl) with its own questions and, to be declined, questions from articles in neither set. The
    articles are the last ones of the file, in its order; the foreign questions are every n-th of the rest."""
    report, tune, _, foreign = korquad_split(json.loads((data / KORQUAD).read_text(encoding="utf-8"))["data"])
    counts = {}
    for name, chosen in (("report", report), ("tune", tune)):
        folder = output / name
        docs = folder / "docs"
        docs.mkdir(parents=True, exist_ok=True)
        rows = []
        for number, article in enumerate(chosen):
            paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
            (docs / f"korquad-{number}.txt").write_text(
                f"date 2018-01-01 {article['title']}\n" + "\n".join(paragraphs) + "\n", encoding="utf-8"
            )
            for paragraph, context in zip(article["paragraphs"], paragraphs, strict=True):
                for qa in paragraph["qas"]:
                    answers = sorted({a["text"] for a in qa["answers"]})
                    rows.append({"question": qa["question"].strip(), "answers": answers, "context": context})
        answerable = len(rows)
        rows += [{"question": q, "answers": [], "impossible": True} for q in foreign[name]]
        (folder / "questions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        counts[name] = (answerable, len(rows) - answerable)
    return counts


def _write(data: Path, output: Path, keep: Callable[[str, str], bool]) -> tuple[int, int]:
    articles = json.loads((data / SQUAD).read_text(encoding="utf-8"))["data"]
    docs = output / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    rows = []
    for article in articles:
        if not any(keep(article["title"], qa["question"].strip()) for p in article["paragraphs"] for qa in p["qas"]):
            continue
        title = article["title"].replace("_", " ")
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        (docs / f"{article['title']}.txt").write_text(
            f"date 2018-01-01 {title}\n" + "\n".join(paragraphs) + "\n", encoding="utf-8"
        )
        for paragraph, context in zip(article["paragraphs"], paragraphs, strict=True):
            for qa in paragraph["qas"]:
                if not keep(article["title"], qa["question"].strip()):
                    continue
                impossible = bool(qa.get("is_impossible")) or not qa.get("answers")
                answers = [] if impossible else sorted({a["text"] for a in qa["answers"]})
                rows.append(
                    {"question": qa["question"].strip(), "answers": answers, "impossible": impossible, "context": context}
                )
    (output / "report.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return sum(not r["impossible"] for r in rows), sum(bool(r["impossible"]) for r in rows)
