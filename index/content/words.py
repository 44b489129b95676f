"""The words of a text as the lexical side counts them: BM25 tokens (lower-cased, English stop words out, Snowball
stems; Korean by its content morphemes through `index/content/korean.py`) and words as people write them.

Documents and questions go through the same functions, so a question's words meet the index's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

from index.core.language import has_hangul

_WORD = re.compile(r"[^\W_][\w'’.-]*", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
_HANGUL_RUN = re.compile(r"[\w'’-]*[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f][\w'’-]*")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop words out, stemmed: the same for documents and questions.

    The same steps as `bm25s.tokenize`, without its per-call progress-bar and vocabulary set-up,
    which cost more than the tokenizing itself for one question.
    """
    stop = stopwords()
    stem = _stemmer().stemWords
    return [
        _korean_tokens(text) if has_hangul(text) else stem([t for t in _TOKEN.findall(text.lower()) if t not in stop])
        for text in texts
    ]


def _korean_tokens(text: str) -> list[str]:
    """Korean (or mixed) text: content morphemes (Kiwi), so "행사는" and "행사에서" both give "행사"; the Latin
    words and numbers among them go the English way, so "LIG Nex1 tanks" matches an English article."""
    from index.content import korean  # Kiwi loads its model on first use

    latin = _HANGUL_RUN.sub(" ", text)
    english = tokenize([latin])[0] if latin.strip() else []
    return [form.lower() for form, tag in korean.morphemes(text) if tag not in ("SL", "SN")] + english


def words_of(text: str, *, keep_case: bool = False) -> list[str]:
    """Words as people write them: "K-2", "U.S", "Korea's" -> "Korea" (possessives dropped)."""
    found = []
    for word in _WORD.findall(text):
        word = re.sub(r"['’]s$", "", word).strip(".'’-")
        if word:
            found.append(word if keep_case else word.lower())
    return found
