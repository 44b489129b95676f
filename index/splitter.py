"""Stage 2: paragraphs become `Sentence` records, split by pysbd (rule-based, keeps "U.S." and "$6.7" whole)."""

from __future__ import annotations

from functools import lru_cache

import pysbd

from index.records import Document, Sentence

_CLOSERS = "\"'”’)]»"


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_paragraph(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of one paragraph, white space trimmed."""
    spans: list[tuple[int, int]] = []
    for piece in _segmenter().segment(text):
        start, end = piece.start, piece.end
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
