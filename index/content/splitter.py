"""Stage 2: paragraphs become `Sentence` records, split by pysbd (rule-based, keeps "U.S." and "$6.7" whole)."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from index.core.language import has_hangul
from index.core.records import Document, Sentence

_CLOSERS = "\"'”’)]»"


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


# pysbd's time grows with the square of its input (100,000 characters: 6 s; 400,000: 89 s), so a long
# paragraph is cut into pieces of at most this many characters first, at a sentence end where there is one.
MAX_SEGMENT_CHARS = 3_000
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+")


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) pieces of `text`, each at most MAX_SEGMENT_CHARS long, cut after a sentence end if possible."""
    pieces, start = [], 0
    while len(text) - start > MAX_SEGMENT_CHARS:
        window = text[start : start + MAX_SEGMENT_CHARS]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends and ends[-1] > MAX_SEGMENT_CHARS // 2 else window.rfind(" ") + 1 or MAX_SEGMENT_CHARS
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, len(text)))
    return pieces


def split_paragraph(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of one paragraph, white space trimmed.

    English by pysbd; a paragraph with Hangul by Kiwi (`index/content/korean.py`), which knows Korean sentence endings
    ("…강조했다.", "…밝혔다") and keeps quoted speech whole.
    """
    if has_hangul(text):
        from index.content import korean

        found = [(offset + s, offset + e) for offset, end in _pieces(text) for s, e in korean.split_sentences(text[offset:end])]
    else:
        found = [
            (offset + piece.start, offset + piece.end)
            for offset, end in _pieces(text)
            for piece in _segmenter().segment(text[offset:end])
        ]
    spans: list[tuple[int, int]] = []
    for start, end in found:
        while start < end and text[start].isspace():
            start += 1
        # A closing quote followed by a space belongs to the sentence before ('...opportunities." Then').
        while spans and start < end and text[start] in _CLOSERS and (start + 1 == end or text[start + 1].isspace()):
            spans[-1] = (spans[-1][0], start + 1)
            start += 1
            while start < end and text[start].isspace():
                start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        # pysbd leaves a stray closing quote or bracket as a "sentence" of its own; it belongs to the one before.
        if spans and not any(ch.isalnum() for ch in text[start:end]):
            spans[-1] = (spans[-1][0], end)
            continue
        spans.append((start, end))
    return spans


def split_document(doc: Document) -> list[Sentence]:
    """Every sentence of a document, numbered by paragraph and by place in the paragraph."""
    sentences: list[Sentence] = []
    for p_no, paragraph in enumerate(doc.paragraphs, start=1):
        for s_no, (start, end) in enumerate(split_paragraph(paragraph), start=1):
            sentences.append(Sentence(doc.doc_id, p_no, s_no, start, end, paragraph[start:end]))
    return sentences


_CLAUSE_BREAK = re.compile(r'[,;:]\s+|\s+["“(]|["”)]\s+|\s+[—–]\s+')
# Shorter pieces ("Lee said") carry too little meaning to match a question on their own.
MIN_CLAUSE_WORDS = 3


# A sentence that opens with one of these leans on the one before ("It drew 50,000 visitors").
_ANAPHORA = re.compile(
    r"^[\"“']?(it|its|he|his|she|her|they|their|them|this|these|those|that|the event|the company|the deal)\b", re.I
)


def with_antecedent(text: str, previous: str | None) -> str | None:
    """The sentence read together with the one before it, when it opens with a pronoun; else None."""
    if previous is not None and _ANAPHORA.match(text):
        return f"{previous} {text}"
    return None


_STRIP = ' "“”()'


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the clauses, and pairs of neighbouring clauses, of a long sentence, for matching
    questions about one part of it (a pair spans the break between its clauses).

    all-MiniLM-L6-v2 embeds a long sentence as one average, so a question about a detail ("which hotel?")
    scores low against a sentence that is mostly a quotation. Scoring the best clause fixes that.
    """
    chunks: list[tuple[int, int]] = []
    start = 0
    for m in [*_CLAUSE_BREAK.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        a, b = start, end
        while a < b and text[a] in _STRIP:
            a += 1
        while b > a and text[b - 1] in _STRIP:
            b -= 1
        if a < b:
            chunks.append((a, b))
        if m is not None:
            start = m.end()
    if len(chunks) < 2:
        return []
    spans: dict[str, tuple[int, int]] = {}
    for width in (1, 2):
        for begin in range(len(chunks) - width + 1):
            a, b = chunks[begin][0], chunks[begin + width - 1][1]
            piece = " ".join(text[x:y] for x, y in chunks[begin : begin + width])
            if len(piece.split()) >= MIN_CLAUSE_WORDS and piece != text:
                spans.setdefault(piece, (a, b))
    return list(spans.values())
