"""Different articles, different figures: show each, dated, newest first, instead of picking one.

A newsroom's articles disagree as a story develops (a first report of 9 trillion won, a signed contract of
$6.5 billion). When a question asks how much or how many and confident hits from different articles give
different figures, a reader should see all of them with their dates, not whichever ranked first.
"""

from __future__ import annotations

from index.ranking.answer_type import FIGURE, asks_for_figure
from index.records import Hit

NOTE = "The articles give different figures; the newest first."


def figures(text: str) -> frozenset[str]:
    return frozenset(found.rstrip(".,") for found in FIGURE.findall(text))


def disagreeing(question: str, hits: tuple[Hit, ...], threshold: float) -> tuple[Hit, ...]:
    """The best confident hit with a figure from each article, newest first, when they give different figures; else ()."""
    if not asks_for_figure(question):
        return ()
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.confidence >= threshold and figures(hit.sentence.text) and hit.document.doc_id not in best:
            best[hit.document.doc_id] = hit
    if len(best) < 2 or len({figures(hit.sentence.text) for hit in best.values()}) < 2:
        return ()
    return tuple(sorted(best.values(), key=lambda hit: hit.document.date or "", reverse=True))
