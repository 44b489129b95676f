"""The words of a text as the lexical side counts them: BM25 tokens (lower-cased, English stop words out, Snowball
stems; Korean by its content morphemes through `index/content/korean.py`) and words as people write them.

Documents and questions go the same way, except Korean: a document's Korean words are cut into morphemes by Kiwi
at build time, and a question's Korean words are cut by the index's own vocabulary (`question_tokens`), so serving
never loads Kiwi's model (about 200 MB resident, 1.4 s to load).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
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


# Particles and endings a Korean question's word may end in, longest first: a one-syllable word counts only before
# one of these or alone ("날은" -> "날"), so the first syllable of any longer word ("행사" -> "행") is not a match.
_PARTICLE_LIST = (
    "은 는 이 가 을 를 의 에 에서 에게 한테 께 로 으로 와 과 도 만 까지 부터 보다 처럼 이나 나 랑 이랑 하고 에는 에서는 "
    "으로는 로는 이라 라 이란 란 인가 인가요 이야 야 이에요 예요 입니까 인지"
)
PARTICLES = tuple(sorted(_PARTICLE_LIST.split(), key=len, reverse=True))


def question_tokens(text: str, vocabulary: Collection[str] | None = None) -> list[str]:
    """A question's BM25 tokens. English ones as `tokenize` makes them; each Korean word cut, left to right, into
    the longest pieces the index's `vocabulary` holds (Kiwi's morphemes of the articles: "방산업체는" -> "방산",
    "업체"), question words left out; a word with no such piece, and every word when there is no vocabulary
    (highlighting a quote), only loses the particle it ends in."""
    if not has_hangul(text):
        return tokenize([text])[0]
    from index.content.korean import QUESTION_WORDS  # the word list only: Kiwi is not loaded

    latin = _HANGUL_RUN.sub(" ", text)
    english = tokenize([latin])[0] if latin.strip() else []
    korean: list[str] = []
    for word in _HANGUL_RUN.findall(text.lower()):
        # A word the index does not hold stays a word (without its particle): that it is unseen is evidence.
        pieces = (_pieces(word, vocabulary) if vocabulary is not None else []) or [_without_particle(word)]
        korean += [p for p in pieces if p and p not in QUESTION_WORDS]
    return korean + english


def _without_particle(word: str) -> str:
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) > len(particle):
            return word[: -len(particle)]
    return word


def _pieces(word: str, vocabulary: Collection[str]) -> list[str]:
    found, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end]
            alone = end - start > 1 or (start == 0 and (end == len(word) or word[end:] in PARTICLES))
            if alone and piece in vocabulary:
                found.append(piece)
                start = end
                break
        else:
            start += 1
    return found


def words_of(text: str, *, keep_case: bool = False) -> list[str]:
    """Words as people write them: "K-2", "U.S", "Korea's" -> "Korea" (possessives dropped)."""
    found = []
    for word in _WORD.findall(text):
        word = re.sub(r"['’]s$", "", word).strip(".'’-")
        if word:
            found.append(word if keep_case else word.lower())
    return found
