"""Small typed records that travel between the stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """One article: its paragraphs, in order, and what identifies it."""

    doc_id: str
    title: str
    date: str | None
    source: str
    paragraphs: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of one paragraph; numbers are 1-based, offsets index the paragraph."""

    doc_id: str
    paragraph: int
    sentence: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the index keeps about a document besides its sentences."""

    doc_id: str
    title: str
    date: str | None
    source: str
    content_hash: str
    sentence_count: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A ranked sentence with the score that ranked it and the article it came from."""

    sentence: Sentence
    document: DocumentInfo
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """What both front ends receive: the ranked top-k hits, whether to present them, and how many are worth showing."""

    question: str
    answered: bool
    hits: tuple[Hit, ...]
    notes: tuple[str, ...] = field(default=())
    shown: int = 0

    @property
    def presented(self) -> tuple[Hit, ...]:
        """The hits a person should read: none when declined, else the confident ones (at least one)."""
        return self.hits[: self.shown] if self.answered else ()
