"""Turning an `Answer` into what people and scripts read: plain text, JSON, Telegram HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from index.records import Answer, DocumentInfo, Hit

DECLINE = "The articles do not answer that."
DECLINE_HINT = "Try rephrasing, or see which articles I know with /sources."
# Telegram refuses longer messages.
TELEGRAM_LIMIT = 4096


def citation(hit: Hit, number: int) -> str:
    """`[1] Title, 2025-07-08, paragraph 5`: enough for a reader to find the sentence."""
    parts = [hit.document.title]
    if hit.document.date:
        parts.append(hit.document.date)
    parts.append(f"paragraph {hit.sentence.paragraph}")
    return f"[{number}] " + ", ".join(parts)


def answer_text(answer: Answer) -> str:
    """The answer as plain text: each quoted sentence followed by its citation."""
    lines = list(answer.notes)
    if not answer.answered:
        lines += [DECLINE, DECLINE_HINT]
        return "\n".join(lines)
    for number, hit in enumerate(answer.presented, start=1):
        if lines:
            lines.append("")
        lines += [hit.sentence.text, citation(hit, number)]
    return "\n".join(lines)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The documented JSON shape that scripts and the evaluation depend on."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answers": [
            {
                "text": hit.sentence.text,
                "score": round(hit.score, 6),
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
    lines = [f"{len(docs)} article{'s' if len(docs) != 1 else ''}:"]
    for doc in docs:
        date = f"{doc.date}, " if doc.date else ""
        lines.append(f"- {doc.title} ({date}{doc.sentence_count} sentences)")
    return "\n".join(lines)


def answer_html(answer: Answer) -> list[str]:
    """The answer as Telegram HTML messages, every piece of text escaped, each within Telegram's limit."""
    blocks = [f"<i>{html.escape(note)}</i>" for note in answer.notes]
    if not answer.answered:
        blocks.append(f"{html.escape(DECLINE)}\n{html.escape(DECLINE_HINT)}")
    else:
        for number, hit in enumerate(answer.presented, start=1):
            blocks.append(f"«{html.escape(hit.sentence.text)}»\n<i>{html.escape(citation(hit, number))}</i>")
    return pack_messages(blocks)


def pack_messages(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join blocks into as few messages as fit the limit; a block too long on its own is cut at spaces."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _cut(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _cut(block: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, never inside a tag or an entity."""
    pieces = []
    while len(block) > limit:
        cut = block.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        # Back off to before any tag or entity the cut would split.
        while cut > 0 and (
            block.rfind("<", 0, cut) > block.rfind(">", 0, cut) or block.rfind("&", 0, cut) > block.rfind(";", 0, cut)
        ):
            cut = max(block.rfind("<", 0, cut), block.rfind("&", 0, cut))
        pieces.append(block[:cut].rstrip())
        block = block[cut:].lstrip()
    pieces.append(block)
    return [piece for piece in pieces if piece]
