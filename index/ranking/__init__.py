"""Everything that orders sentences for a question and decides whether to answer.

- `ranker`: candidates and fusion of the signals, with their weights;
- `answer_type`, `features`: evidence (the kind of answer asked for, unknown names, word coverage);
- `duplicates`: near-duplicates quoted once;
- `decline`: the confidence formula and the decision (threshold, and which hits are shown).
"""

from index.ranking.decline import Decision, decide
from index.ranking.ranker import Ranked, Ranker

__all__ = ["Decision", "Ranked", "Ranker", "decide"]
