"""Deciding whether the articles answer a question at all.

Evidence, measured on the tuning questions (eval/dev.jsonl and eval/article-tune.jsonl; README,
"Answer quality"): the fused ranking score is not comparable across questions (BM25 is scaled per
question), but these are:
- the best cosine similarity of the question to the sentence or to one of its clauses;
- names the articles never mention ("Germany", "CEO", "K-9"): such a question is usually about something else;
- how many of the question's content words occur anywhere in the sentence's article.
Margin over the next candidate was measured too and separated nothing, so it is not used.
"""

from __future__ import annotations

# Subtracted from the similarity for each name the articles never mention (at most two count).
UNKNOWN_NAME_PENALTY = 0.1
# Added per unit of word coverage above one half (subtracted below it).
COVERAGE_WEIGHT = 0.4


def confidence(similarity: float, unknown_names: int, coverage: float) -> float:
    """A score on the cosine scale that DECLINE_THRESHOLD is compared with."""
    return similarity - UNKNOWN_NAME_PENALTY * min(unknown_names, 2) + COVERAGE_WEIGHT * (coverage - 0.5)
