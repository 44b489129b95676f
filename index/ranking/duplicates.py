"""Near-duplicates: sentences that say the same thing (wire copies, small edits) are quoted once."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.core.records import Sentence

_WORDS = re.compile(r"\w+")

# Either test is enough: cosine above this, or this share of words in common (Jaccard).
NEAR_DUPLICATE_COSINE = 0.95
NEAR_DUPLICATE_WORDS = 0.8


def distinct(
    ordered: Sequence[int], sentences: Sequence[Sentence], vectors: np.ndarray, top_k: int, kinds: np.ndarray | None = None
) -> list[int]:
    """Places in `ordered` (rows, best first) of the first `top_k` rows that repeat no row kept before them.

    `kinds[i]` says which model made row i's vector (Korean rows are compared on their multilingual vectors):
    the cosine test compares rows of one kind only."""
    kinds = kinds if kinds is not None else np.zeros(len(vectors), dtype=bool)
    kept: list[int] = []
    places: list[int] = []
    kept_words: list[frozenset[str]] = []
    for place, row in enumerate(ordered):
        words = frozenset(_WORDS.findall(sentences[row].text.lower().replace("-", "")))
        if any(len(words & other) >= NEAR_DUPLICATE_WORDS * len(words | other) for other in kept_words):
            continue
        alike = [other for other in kept if kinds[other] == kinds[row]]
        if alike and float(np.max(vectors[alike] @ vectors[row])) > NEAR_DUPLICATE_COSINE:
            continue
        kept.append(row)
        places.append(place)
        kept_words.append(words)
        if len(kept) == top_k:
            break
    return places
