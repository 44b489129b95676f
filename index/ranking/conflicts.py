"""Different articles, different figures: show each, dated, newest first, instead of picking one.

A newsroom's articles disagree as a story develops (a first report of 9 trillion won, a signed contract of
$6.5 billion). When a question asks how much or how many and confident hits from different articles give
different figures, a reader should see all of them with their dates, not whichever ranked first.
"""

from __future__ import annotations

from index.core.records import Hit
from index.ranking.answer_type import FIGURE, asks_for_figure

NOTE = "The articles give different figures; the newest first."
# At most this many sentences are shown for disagreeing figures.
SHOWN = 3


def figures(text: str) -> frozenset[str]:
    return frozenset(found.rstrip(".,") for found in FIGURE.findall(text))


def disagreeing(question: str, hits: tuple[Hit, ...], threshold: float) -> tuple[Hit, ...]:
    """When likely hits from different articles give different figures for a how-much question: the best such
    hit of each article, then more of them by rank (SHOWN in all), newest article first; else ().

    More than one per article when there is room: an article that reports the new contract may also recall the
    first one, and a reader should see which figure is which rather than one picked for them.
    """
    if not asks_for_figure(question):
        return ()
    candidates = [hit for hit in hits if hit.confidence >= threshold and figures(hit.sentence.text)]
    best: dict[str, Hit] = {}
    for hit in candidates:
        best.setdefault(hit.document.doc_id, hit)
    if len(best) < 2 or len({figures(hit.sentence.text) for hit in best.values()}) < 2:
        return ()
    chosen = list(best.values())[:SHOWN]
    chosen += [hit for hit in candidates if hit not in chosen][: SHOWN - len(chosen)]
    rank = {id(hit): i for i, hit in enumerate(hits)}
    return tuple(sorted(chosen, key=lambda hit: (_newest_first(hit.document.date), rank[id(hit)])))


def _newest_first(date: str | None) -> tuple[int, str]:
    """Sort key: dated articles newest first, undated ones last."""
    return (0, "".join(chr(0x10FFFF - ord(c)) for c in date)) if date else (1, "")
