"""The decline decision: whether the articles answer a question at all, and which hits a person reads.

Evidence, measured on the tuning questions (eval/dev.jsonl and eval/article-tune.jsonl; README,
"Answer quality"): the fused ranking score is not comparable across questions (BM25 is scaled per
question), but these are:
- the best cosine similarity of the question to the sentence or to one of its clauses;
- names the articles never mention ("Germany", "CEO", "K-9"): such a question is usually about something else;
- how many of the question's content words occur anywhere in the sentence's article.
Margin over the next candidate was measured too and separated nothing, so it is not used.
The threshold is the setting DECLINE_THRESHOLD.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.ranking import conflicts
from index.records import Hit

# Subtracted from the similarity for each name the articles never mention (at most two count).
UNKNOWN_NAME_PENALTY = 0.1
# Added per unit of word coverage above one half (subtracted below it).
COVERAGE_WEIGHT = 0.4
# A second or third sentence is quoted only when it ranks nearly as well as the first: a reader asking
# "Where was it held?" wants the one sentence that says so, not two loosely related ones after it.
NEARLY_AS_GOOD = 0.85


def confidence(similarity: float, unknown_names: int, coverage: float) -> float:
    """A score on the cosine scale that DECLINE_THRESHOLD is compared with."""
    return similarity - UNKNOWN_NAME_PENALTY * min(unknown_names, 2) + COVERAGE_WEIGHT * (coverage - 0.5)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to answer, what a person should read (nothing when declined), and notes about it."""

    answered: bool
    presented: tuple[Hit, ...]
    notes: tuple[str, ...] = ()


def decide(question: str, hits: tuple[Hit, ...], threshold: float) -> Decision:
    """Answer when any hit is confident enough; show the best and any other confident, nearly-as-good hit.

    When confident hits from different articles give different figures for a how-much question, all of
    them are shown instead, newest first (`conflicts`).
    """
    if not any(hit.confidence >= threshold for hit in hits):
        return Decision(False, ())
    if disagreeing := conflicts.disagreeing(question, hits, threshold):
        return Decision(True, disagreeing, (conflicts.NOTE,))
    best = hits[0]
    return Decision(
        True,
        tuple(h for i, h in enumerate(hits) if i == 0 or (h.confidence >= threshold and h.score >= NEARLY_AS_GOOD * best.score)),
    )
