"""Turning an `Answer` into what people and scripts read: plain text, JSON, Telegram HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from index.records import Answer, DocumentInfo, Hit

DECLINE = "The articles do not answer that."
DECLINE_HINT = "Try rephrasing, or see which articles I know with /sources."
# Not an answer: what a reader sees when the best sentence is about the subject but unlikely to answer.
CLOSEST = "The articles don't say exactly; the closest they come is:"
# Telegram refuses longer messages.
TELEGRAM_LIMIT = 4096
# /sources in a chat lists this many articles and counts the rest: a long list is unreadable on a phone anyway.
SOURCES_PAGE = 30
# A title longer than this is cut in chat listings, so one line always fits in a message.
TITLE_LIMIT = 200


def citation(hit: Hit, number: int) -> str:
    """`[1] Title, 2025-07-08, paragraph 5`: enough for a reader to find the sentence."""
    parts = [hit.document.title]
    if hit.document.date:
        parts.append(hit.document.date)
    parts.append(f"paragraph {hit.sentence.paragraph}")
    return f"[{number}] " + ", ".join(parts)


def answer_text(answer: Answer) -> str:
    """The answer as plain text for a terminal: each quoted sentence followed by its citation."""
    lines = list(answer.notes)
    if not answer.answered and not answer.closest:
        lines += [DECLINE, DECLINE_HINT]
        return "\n".join(lines)
    if answer.closest:
        lines.append(CLOSEST)
    for number, hit in enumerate(answer.presented, start=1):
        if lines:
            lines.append("")
        lines += [hit.sentence.text, citation(hit, number)]
    return terminal_safe("\n".join(lines))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Text with control characters (escape sequences, bells) replaced, so an article cannot act on a terminal.

    Articles are cleaned when they are loaded; this also covers an index built before that, and titles.
    """
    return _CONTROL.sub("\ufffd", text)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The documented JSON shape that scripts and the evaluation depend on.

    `answers` are the ranked hits; `confidence` is the calibrated probability that the sentence answers the
    question; `closest` is true when the question is not answered but the first hit is shown to readers as
    the closest the articles come.
    """
    return {
        "question": answer.question,
        "answered": answer.answered,
        "closest": answer.closest,
        "answers": [
            {
                "text": hit.sentence.text,
                "score": round(hit.score, 6),
                "confidence": round(hit.confidence, 4),
                "doc_id": hit.document.doc_id,
                "title": hit.document.title,
                "date": hit.document.date,
                "source": hit.document.source,
                "paragraph": hit.sentence.paragraph,
                "sentence": hit.sentence.sentence,
            }
            for hit in answer.hits
        ],
    }


def sources_text(documents: Iterable[DocumentInfo]) -> str:
    """One line per article: title, date and how many sentences it has."""
    docs = list(documents)
    return terminal_safe("\n".join([f"{_articles(len(docs))}:", *(_source_line(doc, doc.title) for doc in docs)]))


def sources_html(documents: Iterable[DocumentInfo], page: int = SOURCES_PAGE, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The first `page` articles (in the order given) as Telegram HTML, then how many more; each message within `limit`."""
    docs = list(documents)
    lines = [escape(f"{_articles(len(docs))}:")]
    lines += [escape(_source_line(doc, shorten(doc.title, TITLE_LIMIT))) for doc in docs[:page]]
    if (rest := len(docs) - page) > 0:
        lines.append(escape(f"… and {rest} more article{'s' if rest != 1 else ''}"))
    return pack_messages(lines, limit, separator="\n")


def _articles(count: int) -> str:
    return f"{count} article{'s' if count != 1 else ''}"


def _source_line(doc: DocumentInfo, title: str) -> str:
    date = f"{doc.date}, " if doc.date else ""
    return f"- {title} ({date}{doc.sentence_count} sentences)"


def answer_html(answer: Answer, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The answer as Telegram HTML messages: every piece of text escaped, tags balanced, each message within `limit`."""
    blocks = [f"<i>{piece}</i>" for note in answer.notes for piece in _escaped_chunks(note, limit - 7)]
    if not answer.answered and not answer.closest:
        blocks.append(f"{escape(DECLINE)}\n{escape(DECLINE_HINT)}")
    else:
        if answer.closest:
            blocks.append(f"<i>{escape(CLOSEST)}</i>")
        for number, hit in enumerate(answer.presented, start=1):
            cite = _citation_html(hit, number)
            pieces = _escaped_chunks(hit.sentence.text, limit - len(cite) - 1)
            blocks += pieces[:-1]
            blocks.append(f"{pieces[-1]}\n{cite}")
    return pack_messages(blocks, limit)


def hit_html(hit: Hit, number: int, limit: int = TELEGRAM_LIMIT) -> str:
    """One quoted sentence and its citation as a single message (inline results): a too-long sentence is cut."""
    cite = _citation_html(hit, number)
    pieces = _escaped_chunks(hit.sentence.text, limit - len(cite) - 2)
    return f"{pieces[0]}{'…' if len(pieces) > 1 else ''}\n{cite}"


def _citation_html(hit: Hit, number: int) -> str:
    return f"<i>{escape(shorten(citation(hit, number), 300))}</i>"


def escape(text: str) -> str:
    """Telegram HTML needs only <, > and & escaped outside attributes; quotes stay readable."""
    return html.escape(text, quote=False)


def pack_messages(blocks: list[str], limit: int = TELEGRAM_LIMIT, separator: str = "\n\n") -> list[str]:
    """Join blocks (each already within the limit) into as few messages as fit, `separator` between (a blank line)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def _escaped_chunks(text: str, budget: int) -> list[str]:
    """Escaped pieces of plain text, each at most `budget` characters once escaped, cut at spaces if possible."""
    pieces: list[str] = []
    rest = text
    while len(escape(rest)) > budget:
        cut = budget
        while len(escape(rest[:cut])) > budget:  # escaping lengthens; shrink until it fits
            cut -= max(1, (len(escape(rest[:cut])) - budget) // 4)
        space = rest.rfind(" ", 0, cut)
        cut = space if space > cut // 2 else cut
        pieces.append(escape(rest[:cut].rstrip()))
        rest = rest[cut:].lstrip()
    pieces.append(escape(rest))
    return [piece for piece in pieces if piece] or [""]


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a space where one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"
