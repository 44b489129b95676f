"""Turning an `Answer` into what people and scripts read: plain text, JSON, Telegram HTML."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable
from typing import Any

from bot.messages import note, reader_language, say
from index.conversation.journal import Report
from index.core.language import ENGLISH
from index.core.records import Answer, DocumentInfo, Hit

# The bot's own words are in bot/messages.py, in every language it speaks; these are the English ones.
DECLINE = say("decline", ENGLISH)
DECLINE_HINT = say("decline_hint", ENGLISH)
# Not an answer: what a reader sees when the best sentence is about the subject but unlikely to answer.
CLOSEST = say("closest", ENGLISH)
# Telegram refuses longer messages.
TELEGRAM_LIMIT = 4096
# /sources in a chat lists this many articles and counts the rest: a long list is unreadable on a phone anyway.
SOURCES_PAGE = 30
# A title longer than this is cut in chat listings, so one line always fits in a message.
TITLE_LIMIT = 200


def citation(hit: Hit, number: int, language: str = ENGLISH) -> str:
    """`[1] Title, 2025-07-08, paragraph 5`: enough for a reader to find the sentence."""
    return source_line(hit.document, [hit], number, language)


def answer_text(answer: Answer, language: str | None = None) -> str:
    """The answer as plain text for a terminal: the quotes of each article, one a line, then that article's
    citation once; the bot's own words in `language` (by default the question's)."""
    language = language or reader_language(answer.question)
    lines = [note(text, language) for text in answer.notes]
    if not answer.answered and not answer.closest:
        lines += [say("decline", language), say("decline_hint", language)]
        return "\n".join(lines)
    if answer.closest:
        lines.append(say("closest", language))
    for number, (document, hits) in enumerate(by_article(answer.presented), start=1):
        if lines:
            lines.append("")
        lines += [hit.sentence.text for hit in hits]
        lines.append(source_line(document, hits, number, language))
    return terminal_safe("\n".join(lines))


# A URL longer than this is not linked (it would crowd the reply out of Telegram's limit).
MAX_LINK = 1_000
# Between the answers of piped questions (`eventbot ask` reading standard input, a piped console).
SEPARATOR = "-" * 40


def by_article(hits: tuple[Hit, ...]) -> list[tuple[DocumentInfo, list[Hit]]]:
    """The hits grouped by article, articles in the order of their first hit, hits in ranking order."""
    groups: dict[str, tuple[DocumentInfo, list[Hit]]] = {}
    for hit in hits:
        groups.setdefault(hit.document.doc_id, (hit.document, []))[1].append(hit)
    return list(groups.values())


def _paragraphs(hits: list[Hit], language: str) -> str:
    numbers = sorted({hit.sentence.paragraph for hit in hits})
    if len(numbers) == 1:
        return say("paragraph", language, number=numbers[0])
    return say("paragraphs", language, numbers=", ".join(map(str, numbers)))


def source_line(document: DocumentInfo, hits: list[Hit], number: int, language: str = ENGLISH) -> str:
    """`[1] Title, 2025-07-08, paragraphs 2, 5, URL`: one citation for every quote from one article."""
    parts = [document.title, *([document.date] if document.date else []), _paragraphs(hits, language)]
    return f"[{number}] " + ", ".join(parts + ([document.url] if document.url else []))


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
                "url": hit.document.url,
                "paragraph": hit.sentence.paragraph,
                "sentence": hit.sentence.sentence,
            }
            for hit in answer.hits
        ],
    }


def sources_text(documents: Iterable[DocumentInfo], language: str = ENGLISH) -> str:
    """One line per article: title, date and how many sentences it has."""
    docs = list(documents)
    lines = [f"{articles(len(docs), language)}:", *(_source_line(doc, doc.title, language) for doc in docs)]
    return terminal_safe("\n".join(lines))


def sources_html(
    documents: Iterable[DocumentInfo], page: int = SOURCES_PAGE, limit: int = TELEGRAM_LIMIT, language: str = ENGLISH
) -> list[str]:
    """The first `page` articles (in the order given) as Telegram HTML, then how many more; each message within `limit`."""
    docs = list(documents)
    lines = [escape(f"{articles(len(docs), language)}:")]
    lines += [escape(_source_line(doc, shorten(doc.title, TITLE_LIMIT), language)) for doc in docs[:page]]
    if (rest := len(docs) - page) > 0:
        lines.append(escape(say("more_articles", language, count=rest, s="s" if rest != 1 else "")))
    return pack_messages(lines, limit, separator="\n")


def articles(count: int, language: str = ENGLISH) -> str:
    return say("articles", language, count=count, s="s" if count != 1 else "")


def _source_line(doc: DocumentInfo, title: str, language: str) -> str:
    date = f"{doc.date}, " if doc.date else ""
    return f"- {title} ({date}{say('sentences', language, count=doc.sentence_count)})"


def answer_html(answer: Answer, limit: int = TELEGRAM_LIMIT, language: str | None = None) -> list[str]:
    """The answer as Telegram HTML messages: each quote in a blockquote with the question's words (or the figure
    asked for) in bold, each article's citation once after its quotes; every piece of text escaped, tags
    balanced, each message within `limit`."""
    language = language or reader_language(answer.question)
    notes = [note(text, language) for text in answer.notes]
    blocks = [f"<i>{piece}</i>" for text in notes for piece in _escaped_chunks(text, limit - 7)]
    if not answer.answered and not answer.closest:
        blocks.append(f"{escape(say('decline', language))}\n{escape(say('decline_hint', language))}")
        return pack_messages(blocks, limit)
    if answer.closest:
        blocks.append(f"<i>{escape(say('closest', language))}</i>")
    marks = highlights(answer.question)
    for number, (document, hits) in enumerate(by_article(answer.presented), start=1):
        cite = _source_html(document, hits, number, language)
        budget = limit - len(cite) - 1
        quotes = [piece for hit in hits for piece in _quote_html(hit.sentence.text, marks, budget)]
        whole = "\n".join([*quotes, cite])
        if len(whole) <= limit:
            blocks.append(whole)
        else:
            blocks += quotes[:-1]
            blocks.append(f"{quotes[-1]}\n{cite}")
    return pack_messages(blocks, limit)


_BLOCKQUOTE = len("<blockquote></blockquote>")
_WORD = re.compile(r"[^\W_][\w'’.,$%-]*[^\W_%]|[^\W_]")


# Question words are what is asked, not what to look for in a quote.
_QUESTION_WORDS = frozenset({"what", "when", "where", "who", "whom", "whose", "which", "why", "how", "much", "mani"})
# The figure a how-much question asks for: an amount with its currency or scale ("$6.5 billion", "9 trillion won").
_AMOUNT = re.compile(
    r"\$\s?\d[\d,.]*(?:\s*(?:billion|trillion|million))?|\d[\d,.]*\s*(?:billion|trillion|million|won|dollars|percent|%)"
    r"(?:\s*won)?|\d[\d,.]*\s*(?:조|억|만)\s*원?",
    re.I,
)
# A count: a number that is not a year, an amount or a share.
_COUNT = re.compile(r"(?<![\w.,$-])(?!(?:19|20)\d\d\b)\d(?:[\d,]*\d)?(?![\w.%-]|\s*(?:billion|trillion|million|won|percent|%))")


def highlights(question: str) -> tuple[frozenset[str], re.Pattern[str] | None]:
    """What to mark in a quote: the question's words (stemmed, as the lexical side has them, without question
    words), and the figure it asks for: an amount for how much, a count for how many."""
    from index.content.words import question_tokens

    words = frozenset(question_tokens(question)) - _QUESTION_WORDS
    lowered = question.lower()
    if re.search(r"how much|worth|cost|price|value|budget|amount|얼마|규모|금액", lowered):
        return words, _AMOUNT
    if re.search(r"how many|몇", lowered):
        return words, _COUNT
    return words, None


def _quote_html(text: str, marks: tuple[frozenset[str], re.Pattern[str] | None], budget: int) -> list[str]:
    """One quote as blockquotes: one with its marked words in bold, or, when that is too long, plain pieces."""
    marked = f"<blockquote>{_marked(text, marks)}</blockquote>"
    if len(marked) <= budget:
        return [marked]
    return [f"<blockquote>{piece}</blockquote>" for piece in _escaped_chunks(text, budget - _BLOCKQUOTE)]


def _marked(text: str, marks: tuple[frozenset[str], re.Pattern[str] | None]) -> str:
    from index.content.words import tokenize
    from index.core.language import has_hangul

    words, figure = marks
    spans = [m.span() for m in figure.finditer(text)] if figure is not None else []
    for found in _WORD.finditer(text):
        word = found.group(0)
        korean = has_hangul(word)
        hit = any(len(w) > 1 and w in word for w in words) if korean else bool(set(tokenize([word])[0]) & words)
        if hit and not any(a < found.end() and found.start() < b for a, b in spans):
            spans.append(found.span())
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        out += [escape(text[position:start]), f"<b>{escape(text[start:end])}</b>"]
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _source_html(document: DocumentInfo, hits: list[Hit], number: int, language: str) -> str:
    """The citation in italics; with a known URL, the title links to the article (the URL itself not repeated)."""
    title = escape(shorten(document.title, 200))
    if document.url and len(document.url) <= MAX_LINK:
        title = f'<a href="{html.escape(document.url, quote=True)}">{title}</a>'
    rest = [*([document.date] if document.date else []), _paragraphs(hits, language)]
    return f"<i>[{number}] {title}, {escape(', '.join(rest))}</i>"


def hit_html(hit: Hit, number: int, limit: int = TELEGRAM_LIMIT, language: str = ENGLISH) -> str:
    """One quoted sentence and its citation as a single message (inline results): a too-long sentence is cut."""
    cite = _citation_html(hit, number, language)
    pieces = _escaped_chunks(hit.sentence.text, limit - len(cite) - 2)
    return f"{pieces[0]}{'…' if len(pieces) > 1 else ''}\n{cite}"


def _citation_html(hit: Hit, number: int, language: str = ENGLISH) -> str:
    return _source_html(hit.document, [hit], number, language)


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
    budget = max(budget, 16)  # an entity ("&amp;") always fits, so every round takes at least one character
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


def report_text(report: Report) -> str:
    """What editors read (`eventbot report`, Telegram's /report): the gaps, the 👎 answers, the articles used."""
    since = time.strftime("%Y-%m-%d", time.localtime(report.since)) if report.since else "the start"
    lines = [f"{report.questions} questions since {since}.", "", "Asked, not answered by the articles:"]
    lines += [f"  {count}× {shorten(question, 200)}" for question, count in report.unanswered] or ["  (none)"]
    lines += ["", "Answers readers marked 👎:"]
    lines += [
        f"  {count}× {shorten(question, 200)} → {shorten(title, 120)}, paragraph {paragraph}"
        for question, title, paragraph, count in report.disliked
    ]
    lines += [] if report.disliked else ["  (none)"]
    lines += ["", "Articles quoted in answers:"]
    lines += [f"  {count}× {shorten(title, 200)}" for title, count in report.articles] or ["  (none)"]
    return terminal_safe("\n".join(lines))
