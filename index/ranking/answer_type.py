"""Expected answer types: a question asking "how many" is answered by a sentence with a number in it.

Only types that a regular expression can recognise in a sentence reliably: quantities, times and
durations, and ranks. A sentence of the expected type gets a small bonus in the ranking; one that
cannot answer the question (no number for "how many") is not removed, since phrasing varies.
"""

from __future__ import annotations

import re

from index.core.language import has_hangul

_NUMBER = (
    r"(?<![\w-])\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
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
            r"\bwhat(?:'s|’s| is| was| were| are) the (number|amount|value|cost|price|size|total)\b",
            _NUMBER,
        ),
    )
)


_ASKS_FIGURE = re.compile(_TYPES[-1][0].pattern, re.I)
# A figure in a sentence: digits with their separators ("9 trillion", "$6.5 billion", "180").
FIGURE = re.compile(r"(?<![\w-])\d[\d,.]*")


def asks_for_figure(question: str) -> bool:
    """Whether the question asks how much or how many (the answer is a figure that articles may disagree on)."""
    return bool(_ASKS_FIGURE.search(question))


def expected_type(question: str) -> re.Pattern[str] | None:
    """The pattern a good answer sentence matches, or None when the question type is not recognised."""
    for asks, answered_by in _TYPES:
        if asks.search(question):
            return answered_by
    return None


_WHO = re.compile(
    r"^\s*(who|whom|whose)\b|\b(who|whom|whose)\s+(is|was|are|were|did|does|do|will|has|had|said|says|"
    r"runs|leads|heads|makes|made|built|builds)\b",
    re.I,
)
_WHERE = re.compile(
    r"^\s*where\b|\bwhere (is|was|are|were|did|does|do|will)\b|"
    r"\bwhich (city|country|place|venue|hotel|shipyard|province|region)\b",
    re.I,
)
_HOW_MANY = re.compile(r"\bhow many ([a-z][\w-]*)", re.I)
# A name: a capitalised word not at the start of a sentence, or an acronym.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’-]*[a-z0-9][\w'’-]*|[A-Z]{2,}[\w-]*)")
_PLACE = re.compile(r"\b(?:in|at|on|near|from|to)\s+(?:the\s+)?([A-Z][\w'’-]+)")
_COUNT = re.compile(
    r"^(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?)$",
    re.I,
)
_WORDS = re.compile(r"[\w'’$.,-]+")
_NOT_COUNTED = frozenset({"of", "the", "these", "those", "new", "more", "total", "in", "its", "their"})
_CALENDAR = re.compile(rf"^({_MONTH}|{_DAY})$", re.I)


def _new_name(name: str, question: str) -> bool:
    """A name the question does not already give (nor its initials: "KAI" for Korea Aerospace Industries)."""
    if name.lower() in question.lower() or _CALENDAR.match(name.rstrip(".,")):
        return False
    initials = "".join(w[0] for w in re.findall(r"\b[A-Z][\w-]*", question))
    return not (name.isupper() and name in initials)


# Korean question words, and what a sentence (Korean or English) answering them holds.
_KO_WHEN = re.compile(r"언제|무슨\s*요일|몇\s*(년|월|일|시)|며칠|날짜")
_KO_COUNT = re.compile(r"몇|얼마|규모|금액|액수")
_KO_WHO = re.compile(r"누구|누가|누군|어느\s*(회사|기업|업체)|어떤\s*(회사|기업|업체)")
_KO_WHERE = re.compile(r"어디|어느\s*(곳|장소|나라|도시)")
_KO_DATE = re.compile(rf"\d+\s*(년|월|일|시)|[월화수목금토일]요일|이날|오늘|어제|\b({_MONTH}|{_DAY}|1[5-9]\d\d|20\d\d)\b", re.I)
_KO_NUMBER = re.compile(r"\d|[일이삼사오육칠팔구십백천만억조]+\s*(명|개|대|척|원|달러|조|억|위)")
_KO_PLACE = re.compile(r"[가-힣A-Za-z]+(에서|에)\b|\b(?:in|at|on|near)\s+(?:the\s+)?[A-Z]")


def _korean_kind(question: str, sentence: str) -> tuple[bool, bool] | None:
    """The same check for a Korean question (the sentence may be Korean or English); None when it asks no kind."""
    if _KO_WHEN.search(question):
        return True, bool(_KO_DATE.search(sentence))
    if _KO_COUNT.search(question):
        return True, bool(_KO_NUMBER.search(sentence))
    if _KO_WHO.search(question):
        # A name the question does not give: an English capitalised name, or a Korean name with a title.
        english = any(_new_name(name, question) for name in _NAME.findall(sentence))
        return True, english or bool(re.search(r"[가-힣]{2,4}\s*(대변인|장관|대통령|사장|회장|대표|의원)", sentence))
    if _KO_WHERE.search(question):
        return True, bool(_KO_PLACE.search(sentence))
    return None


def answers_kind(question: str, sentence: str) -> tuple[bool, bool]:
    """Whether the question asks for a recognisable kind of answer, and whether the sentence holds one.

    Finer than `expected_type`: "how many X" wants a number next to X (not any number), "who" a name the
    question does not already give, "where" a place introduced by in/at/on; the rest as `expected_type`.
    Korean questions by their question words (누구, 어디, 언제, 몇, 얼마).
    """
    if has_hangul(question):
        return _korean_kind(question, sentence) or (False, False)
    if (counted := _HOW_MANY.search(question)) is not None:
        after = [w.lower() for w in _WORDS.findall(question[counted.start(1) :])[:6]]
        things = tuple(w[:5] for w in after if w not in _NOT_COUNTED)[:2] or ("\x00",)
        words = [w.lower() for w in _WORDS.findall(sentence)]
        for i, word in enumerate(words):
            if _COUNT.match(word.rstrip(".,")) and any(w.startswith(things) for w in words[i + 1 : i + 5]):
                return True, True
        return True, False
    if _WHO.search(question):
        return True, any(_new_name(name, question) for name in _NAME.findall(sentence))
    if _WHERE.search(question):
        return True, any(_new_name(place, question) for place in _PLACE.findall(sentence))
    pattern = expected_type(question)
    if pattern is None:
        return False, False
    return True, bool(pattern.search(sentence))
