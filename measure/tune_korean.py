"""Fitting how a Korean question is ranked: its BM25 and paragraph weights, and how the Korean reader joins in.

`python -m measure.tune_korean KORQUAD_TUNE_DIR [--reader]` (the `tune/` folder `eventbot korquad` writes: never
`report/`) builds KorQuAD's five tuning articles and the Korean tuning corpora (`measure.calibrate.tuning_sets`,
Korean ones), asks their answerable questions under every pair of `W_BM25_KOREAN` and `W_PARAGRAPH_KOREAN` (with
`--reader`: of `W_READER_KOREAN`, `READER_FLOOR_KOREAN` and the reader's depth, the shipped Korean reader's
probabilities cached per question and sentence) and prints top-1 per set and their mean, best first. The Korean
reader trained on the two Korean tuning halves (not on KorQuAD's tuning articles), so `korquad` is the fair column.
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

from index.core.language import KOREAN
from index.core.settings import load_settings
from index.models.reader import load_reader
from index.ranking import ranker as ranking
from index.service import QAService
from measure.calibrate import tuning_sets
from measure.evaluate import load_questions
from measure.tune_fusion import Cached, first_right, print_best

BM25_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 1.2)
PARAGRAPH_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
KOREAN_SETS = ("korean-en-article", "korean-ko-article")
READER_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
READER_FLOORS = (0.0, 0.1, 0.2, 0.3)
READER_DEPTHS = (5, 10)


def main(argv: Sequence[str]) -> int:
    reading = "--reader" in argv
    argv = [a for a in argv if a != "--reader"]
    if len(argv) != 1 or not (Path(argv[0]) / "questions.jsonl").is_file():
        print("usage: python -m measure.tune_korean KORQUAD_TUNE_DIR [--reader]  (eventbot korquad --output OUT: OUT/tune)")
        return 2
    korquad = Path(argv[0])
    sets = [(name, corpus, qs) for name, corpus, qs in tuning_sets() if name in KOREAN_SETS]
    sets.append(("korquad", korquad / "docs", load_questions(korquad / "questions.jsonl")))
    settings = load_settings().model_copy(update={"reader": "off"})
    cached = Cached(load_reader(settings.model_copy(update={"reader": "onnx"}), KOREAN)) if reading else None  # type: ignore[arg-type]
    scratch = Path(tempfile.mkdtemp(prefix="eventbot-korean-"))
    results = []
    try:
        services = []
        for name, corpus, questions in sets:
            local = settings.model_copy(update={"seeds_dir": corpus, "index_dir": scratch / name})
            service = QAService.open(local, lambda message: None)
            service = QAService(local, service.embedder, service.data, service.multilingual, False, cached)
            services.append((name, service, [q for q in questions if q.answers]))
        grid = (
            [{"w_reader": w, "floor": f, "depth": d}
             for w, f, d in itertools.product(READER_WEIGHTS, READER_FLOORS, READER_DEPTHS)
             if w > 0 or (f, d) == (READER_FLOORS[0], READER_DEPTHS[0])]
            if reading else
            [{"w_bm25": b, "w_paragraph": p} for b, p in itertools.product(BM25_WEIGHTS, PARAGRAPH_WEIGHTS)]
        )  # fmt: skip
        for point in grid:
            if reading:
                ranking.W_READER_KOREAN, ranking.READER_FLOOR_KOREAN = point["w_reader"], point["floor"]
            else:
                ranking.W_BM25_KOREAN, ranking.W_PARAGRAPH_KOREAN = point["w_bm25"], point["w_paragraph"]
            top1 = {}
            for name, service, answerable in services:
                if reading:
                    service._ranker.reader_candidates = int(point["depth"])
                    service._ranker.korean_reader = cached if point["w_reader"] > 0 else None
                top1[name] = first_right(service, answerable)
            results.append(
                {**point, "mean": round(float(np.mean(list(top1.values()))), 4), **{k: round(v, 4) for k, v in top1.items()}}
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_best(results, 8)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
