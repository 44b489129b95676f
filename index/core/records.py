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
    url: str | None = None  # where the article was published, when known
    outlet: str | None = None
    byline: str | None = None


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
    url: str | None = None
    outlet: str | None = None
    byline: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A ranked sentence with the score that ranked it and the article it came from."""

    sentence: Sentence
    document: DocumentInfo
    score: float
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """What both front ends receive.

    `hits` is always the ranked top-k; `answered` says whether the articles answer the question;
    `presented` is what a person should read: when answered, the best hit and any other hit likely to
    answer too; when not, nothing, or the closest sentence the articles have (`closest`), which a front end
    must not present as the answer.
    """

    question: str
    answered: bool
    hits: tuple[Hit, ...]
    notes: tuple[str, ...] = field(default=())
    presented: tuple[Hit, ...] = field(default=())

    @property
    def closest(self) -> bool:
        """Not answered, but the articles come close: `presented` holds the closest sentence."""
        return not self.answered and bool(self.presented)
