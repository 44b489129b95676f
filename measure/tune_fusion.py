"""Fitting how the reader joins the ranking: its weight, how many candidates it reads, and e5 for English.

`python -m measure.tune_fusion` builds each tuning corpus once (the seed with eval/dev.jsonl and
eval/article-tune.jsonl, the newsroom's tune half, squad-multi's tune half: never a report half, and never
eval/reader/, which the reader trained on), asks the answerable questions under every combination of
W_READER, READER_CANDIDATES, W_E5_ENGLISH and READER_FLOOR, and prints top-1 per set and their mean, best first. The reader's
probabilities are cached per (question, sentence), so the grid costs one read of the deepest candidates.
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

from index.core.language import has_hangul
from index.core.settings import load_settings
from index.models.reader import Candidate, Reader, load_reader
from index.ranking import ranker as ranking
from index.service import QAService
from measure.calibrate import tuning_sets
from measure.evaluate import Question, is_hit

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
DEPTHS = (5, 10)
E5_WEIGHTS = (1.5,)
FLOORS = (0.0, 0.1, 0.2, 0.3)
ENGLISH_SETS = ("seed", "newsroom", "squad-multi", "news-tune")


class Cached:
    """A reader that remembers what it has read."""

    def __init__(self, reader: Reader) -> None:
        self.reader, self.name, self.seen = reader, reader.name, {}  # type: ignore[var-annotated]

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        missing = [c for c in candidates if (question, c) not in self.seen]
        if missing:
            for c, p in zip(missing, self.reader.read(question, missing), strict=True):
                self.seen[(question, c)] = float(p)
        return np.array([self.seen[(question, c)] for c in candidates])


def main(argv: Sequence[str] = ()) -> int:
    settings = load_settings()
    reader = load_reader(settings.model_copy(update={"reader": "onnx"}))
    assert reader is not None
    cached = Cached(reader)
    scratch = Path(tempfile.mkdtemp(prefix="eventbot-fusion-"))
    results = []
    try:
        services = {}
        for name, corpus, questions in tuning_sets():
            if name not in ENGLISH_SETS:
                continue
            local = settings.model_copy(update={"seeds_dir": corpus, "index_dir": scratch / name})
            service = QAService.open(local, lambda message: None)
            service = QAService(local, service.embedder, service.data, service.multilingual, reader=cached)
            services[name] = (service, [q for q in questions if q.answers and not has_hangul(q.question)])
        for weight, depth, e5, floor in itertools.product(WEIGHTS, DEPTHS, E5_WEIGHTS, FLOORS):
            if weight == 0.0 and (depth, floor) != (DEPTHS[0], FLOORS[0]):
                continue
            ranking.W_READER, ranking.W_E5_ENGLISH, ranking.READER_FLOOR = weight, e5, floor
            top1 = {}
            for name, (service, answerable) in services.items():
                service._ranker.reader_candidates = depth
                service._ranker.reader = cached if weight > 0 else None
                top1[name] = first_right(service, answerable)
            mean = float(np.mean(list(top1.values())))
            results.append(
                {
                    "w_reader": weight,
                    "candidates": depth,
                    "w_e5": e5,
                    "floor": floor,
                    "mean": round(mean, 4),
                    **{k: round(v, 4) for k, v in top1.items()},
                }
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_best(results, 10)
    return 0


def first_right(service: QAService, answerable: Sequence[Question]) -> float:
    """Share of the questions whose first ranked sentence holds an answer."""
    ranked = service.rank([service.prepare(q.question).text for q in answerable], 1)
    hits = [bool(r.rows) and is_hit(service.data.sentences[r.rows[0]].text, q) for r, q in zip(ranked, answerable, strict=True)]
    return float(np.mean(hits)) if hits else 0.0


def print_best(results: Sequence[dict[str, float]], count: int) -> None:
    print("best first:")
    for row in sorted(results, key=lambda r: -r["mean"])[:count]:
        print(json.dumps(row))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
