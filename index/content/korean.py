"""Korean text: sentences and morphemes by kiwipiepy (Kiwi, a maintained Korean morphological analyser whose
model ships in the kiwipiepy-model package). Loaded on first use only: an English-only corpus never pays for it.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# Morpheme tags kept for the lexical side: nouns, proper nouns, numbers, foreign (Latin) words, verb and
# adjective stems, roots. Particles and endings ("는", "에서", "었어") are what whitespace tokens drag along.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "NP", "SL", "SN", "SH", "VV", "VA", "XR", "MAG"})
# Pronouns kept above ("어디", "누구") carry no content in a question.
QUESTION_WORDS = frozenset({"어디", "누구", "무엇", "뭐", "언제", "어떻", "얼마", "몇", "왜", "이것", "그것", "저것", "이", "그"})

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    from kiwipiepy import Kiwi

    # No typo-correction or multi-word dictionaries: news text needs neither, and they cost about 200 MB.
    return Kiwi(num_workers=0, load_typo_dict=False, load_multi_dict=False)


def _analyser() -> Any:
    with _lock:  # Kiwi's first load is not safe to race
        return _kiwi()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of one Korean (or mixed) paragraph."""
    return [(s.start, s.end) for s in _analyser().split_into_sents(text)]


def morphemes(text: str) -> list[tuple[str, str]]:
    """(form, tag) of each content morpheme: the unit of the lexical side for Korean."""
    return [
        (token.form, token.tag)
        for token in _analyser().tokenize(text)
        if token.tag in CONTENT_TAGS and token.form not in QUESTION_WORDS
    ]
