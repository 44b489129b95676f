"""Fitting how a Korean question is ranked: its BM25 and paragraph weights.

`python -m measure.tune_korean KORQUAD_TUNE_DIR` (the `tune/` folder `eventbot korquad` writes: never `report/`)
builds KorQuAD's five tuning articles and the Korean tuning corpora (`measure.calibrate.tuning_sets`, Korean
ones), asks their answerable questions under every pair of `W_BM25_KOREAN` and `W_PARAGRAPH_KOREAN`, and prints
top-1 per set and their mean (KorQuAD weighted as one set), best first.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.core.settings import load_settings
from index.ranking import ranker as ranking
from index.service import QAService
from measure.calibrate import tuning_sets
from measure.evaluate import load_questions
from measure.tune_fusion import first_right, print_best

BM25_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 1.2)
PARAGRAPH_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
KOREAN_SETS = ("korean-en-article", "korean-ko-article")


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "questions.jsonl").is_file():
        print("usage: python -m measure.tune_korean KORQUAD_TUNE_DIR  (eventbot korquad --output OUT: OUT/tune)")
        return 2
    korquad = Path(argv[0])
    sets = [(name, corpus, qs) for name, corpus, qs in tuning_sets() if name in KOREAN_SETS]
    sets.append(("korquad", korquad / "docs", load_questions(korquad / "questions.jsonl")))
    settings = load_settings().model_copy(update={"reader": "off"})  # the reader does not read Korean
    scratch = Path(tempfile.mkdtemp(prefix="eventbot-korean-"))
    results = []
    try:
        services = []
        for name, corpus, questions in sets:
            local = settings.model_copy(update={"seeds_dir": corpus, "index_dir": scratch / name})
            services.append((name, QAService.open(local, lambda message: None), [q for q in questions if q.answers]))
        for bm25, paragraph in itertools.product(BM25_WEIGHTS, PARAGRAPH_WEIGHTS):
            ranking.W_BM25_KOREAN, ranking.W_PARAGRAPH_KOREAN = bm25, paragraph
            top1 = {}
            for name, service, answerable in services:
                top1[name] = first_right(service, answerable)
            results.append(
                {
                    "w_bm25": bm25,
                    "w_paragraph": paragraph,
                    "mean": round(float(np.mean(list(top1.values()))), 4),
                    **{k: round(v, 4) for k, v in top1.items()},
                }
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_best(results, 8)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
