"""Expected answer types: a question asking "how many" is answered by a sentence with a number in it.

Only types that a regular expression can recognise in a sentence reliably: quantities, times and
durations, and ranks. A sentence of the expected type gets a small bonus in the ranking; one that
cannot answer the question (no number for "how many") is not removed, since phrasing varies.
"""

from __future__ import annotations

import re

_NUMBER = (
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"dozens?|hundreds?|thousands?|millions?|billions?|trillions?|single|half)\b"
)
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
_DAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"

# (question pattern, sentence pattern), first match wins.
_TYPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(q, re.I), re.compile(a, re.I))
    for q, a in (
        (
            r"\bwhat (rank|place|position)\b|\branks?\b|\branked\b",
            r"\b\d+(st|nd|rd|th)\b|\b(first|second|third|top|largest|biggest)\b",
        ),
        (
            r"\bhow long\b|\bhow many (years|months|weeks|days|hours)\b",
            r"\b\d[\d,.]*\s*(years?|months?|weeks?|days?|hours?|minutes?)\b|\b\d{4}\s*[-–]\s*\d{2,4}\b",
        ),
        (r"\bwhat day\b|\bwhich day\b|\bday of the week\b", rf"\b({_DAY}|today|yesterday|tomorrow)\b"),
        (
            r"^\s*when\b|\bwhat (year|date|month|time)\b|\bwhich (year|month)\b",
            rf"\b(1[5-9]\d\d|20\d\d|{_MONTH}|{_DAY}|yesterday|today|(this|last|next) (week|month|year))\b",
        ),
        (
            r"\bhow (many|much|big)\b|\bworth\b|"
            r"\bwhat (is|was|were|are) the (number|amount|value|cost|price|size|total)\b",
            _NUMBER,
        ),
    )
)


_ASKS_FIGURE = re.compile(_TYPES[-1][0].pattern, re.I)
# A figure in a sentence: digits with their separators ("9 trillion", "$6.5 billion", "180").
FIGURE = re.compile(r"\d[\d,.]*")


def asks_for_figure(question: str) -> bool:
    """Whether the question asks how much or how many (the answer is a figure that articles may disagree on)."""
    return bool(_ASKS_FIGURE.search(question))


def expected_type(question: str) -> re.Pattern[str] | None:
    """The pattern a good answer sentence matches, or None when the question type is not recognised."""
    for asks, answered_by in _TYPES:
        if asks.search(question):
            return answered_by
    return None
