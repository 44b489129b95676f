"""Evidence about a question beyond similarity: names the articles never mention, and word coverage."""

from __future__ import annotations

import re

import numpy as np

from index.content.words import stopwords, words_of
from index.store.lexical import Lexical


def unknown_names(lexical: Lexical, question: str) -> list[str]:
    """Names, acronyms and model numbers in the question that no article contains ("Germany", "CEO", "K-9")."""
    unknown = []
    for position, word in enumerate(words_of(question, keep_case=True)):
        if position == 0 or not (word[0].isupper() or any(ch.isdigit() for ch in word)):
            continue
        lower = word.lower()
        if lower in lexical.words or lower in stopwords() or len(lower) < 2:
            continue
        pieces = [p for p in re.split(r"[-'’.]", lower) if p]
        if len(pieces) > 1 and all(p in lexical.words for p in pieces):
            continue
        unknown.append(word)
    return unknown


def coverage(lexical: Lexical, tokens: list[str], document_of_row: np.ndarray, document: int) -> float:
    """Share of the question's content words (stemmed tokens) that occur anywhere in one document."""
    tokens = list(dict.fromkeys(tokens))
    if not tokens:
        return 0.0
    found = sum(bool((document_of_row[lexical.rows_with(token)] == document).any()) for token in tokens)
    return found / len(tokens)


def unseen(lexical: Lexical, tokens: list[str]) -> float:
    """Share of the question's content words that no article uses ("chairman", "refueling", "sailors"):
    a question about the articles' subject that asks for something they never mention."""
    tokens = list(dict.fromkeys(tokens))
    if not tokens:
        return 0.0
    return sum(token not in lexical.vocabulary for token in tokens) / len(tokens)


def weighted_coverage(
    lexical: Lexical, tokens: list[str], row: int, *, paragraph: bool = False, unseen_count: bool = False
) -> tuple[float, float]:
    """Of the question's words that the articles use: the share of their rarity (IDF) found in one sentence
    (or its paragraph), and the IDF share of the rarest one it lacks. "About the same subject" shares the
    common words; "answers it" the rare ones too.

    With `unseen_count` (Korean questions), words no article uses count too, as the rarest: "오늘 서울 날씨"
    is not covered by a sentence that mentions Seoul. (Measured for English too: it declined less there.)"""
    tokens = [t for t in dict.fromkeys(tokens) if unseen_count or t in lexical.vocabulary]
    if not tokens:
        return 0.0, 0.0
    total = lexical.size
    weights, found, missing = 0.0, 0.0, 0.0
    for token in tokens:
        rows = lexical.rows_with(token, paragraph=paragraph)
        idf = float(np.log(1 + total / (1 + len(rows)))) if len(rows) else float(np.log(1 + total))
        weights += idf
        if np.any(rows == row):
            found += idf
        else:
            missing = max(missing, idf)
    top = float(np.log(1 + total))
    return found / weights if weights else 0.0, missing / top if top else 0.0
