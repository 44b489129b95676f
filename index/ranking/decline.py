"""The decline decision: whether the articles answer a question, and which hits a person reads.

Each hit carries a calibrated probability that its sentence answers the question (`answerability.py`, fitted by
`eventbot calibrate`). The question is answered when a hit reaches the threshold (the setting DECLINE_THRESHOLD,
by default the one the fit chose). Below it, when the best hit is still about the subject (at least CLOSEST
of the threshold), the reader is shown it as the closest the articles come, not as the answer
(`answered` stays false); below that, the bot declines outright.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.core.records import Hit
from index.ranking import conflicts

# A second or third sentence is quoted only when it ranks nearly as well as the first: a reader asking
# "Where was it held?" wants the one sentence that says so, not two loosely related ones after it.
NEARLY_AS_GOOD = 0.85
# Below the threshold but at least this share of it: shown as "the closest the articles come".
CLOSEST = 0.5


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to answer, what a person should read, and notes about it.

    `answered` false with `presented` hits: the closest the articles come, not an answer (`closest`).
    """

    answered: bool
    presented: tuple[Hit, ...]
    notes: tuple[str, ...] = ()

    @property
    def closest(self) -> bool:
        return not self.answered and bool(self.presented)


def decide(question: str, hits: tuple[Hit, ...], threshold: float) -> Decision:
    """Answer when any hit is likely enough to answer; show the first such hit and any other likely,
    nearly-as-good one, in ranking order.

    When likely hits from different articles give different figures for a how-much question, all of
    them are shown instead, newest first (`conflicts`).
    """
    likely = [hit for hit in hits if hit.confidence >= threshold]
    if not likely:
        if hits and hits[0].confidence >= CLOSEST * threshold:
            return Decision(False, hits[:1])
        return Decision(False, ())
    if disagreeing := conflicts.disagreeing(question, hits, threshold):
        return Decision(True, disagreeing, (conflicts.NOTE,))
    first = likely[0]
    return Decision(True, tuple(h for h in likely if h is first or h.score >= NEARLY_AS_GOOD * first.score))
