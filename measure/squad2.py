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

from measure.train_reader import REPORT_ARTICLES, SQUAD, held_out


def write_report_set(data: Path, output: Path) -> tuple[int, int]:
    """Write the five report articles and all their questions; returns (answerable, unanswerable) counts."""
    return _write(data, output, lambda title, question: title in REPORT_ARTICLES)


def write_tuning_set(data: Path, output: Path) -> tuple[int, int]:
    """The nine training articles with the questions training held out (one in twenty, `held_out`): what
    `eventbot calibrate --training-data DIR` learns SQuAD 2.0's unanswerable questions from. The reader has read
    these paragraphs, never these questions."""
    return _write(data, output, lambda title, question: title not in REPORT_ARTICLES and held_out(question))


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
