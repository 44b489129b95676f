"""Cleaning a question before it is embedded: control characters out, length bounded."""

from __future__ import annotations

import unicodedata

from index.core.errors import BadQuestionError


def clean_question(text: str, max_chars: int) -> tuple[str, tuple[str, ...]]:
    """The question as it will be searched, and notes for the user about what was changed."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        # Cc: control characters (NUL, escape codes); Cs: lone surrogates that cannot be encoded.
        kept.append(" " if category in {"Cc", "Cs"} else ch)
    cleaned = " ".join("".join(kept).split())
    if not cleaned:
        raise BadQuestionError("the question is empty")
    notes: tuple[str, ...] = ()
    if len(cleaned) > max_chars:
        cut = cleaned[:max_chars].rsplit(" ", 1)[0] or cleaned[:max_chars]
        notes = (f"Your question was {len(cleaned):,} characters long; only its first {len(cut):,} were used.",)
        cleaned = cut
    return cleaned, notes
