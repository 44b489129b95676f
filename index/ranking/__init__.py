"""Everything that orders sentences for a question and decides whether to answer.

- `ranker`: candidates and fusion of the signals, with their weights;
- `answer_type`, `features`: evidence (the kind of answer asked for, unknown names, word coverage);
- `duplicates`: near-duplicates quoted once;
- `answerability`: the calibrated probability that a hit answers the question (fitted by `eventbot calibrate`);
- `decline`: the decision (threshold, the closest-the-articles-come middle ground, which hits are shown).
"""

from index.ranking.decline import Decision, decide
from index.ranking.ranker import Ranked, Ranker

__all__ = ["Decision", "Ranked", "Ranker", "decide"]
