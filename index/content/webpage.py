"""Web pages as articles: the main text of an HTML page, without its navigation, cookie banner, "related
stories", newsletter box or footer, with its title, date, URL, outlet and byline from the page's metadata.

trafilatura (a maintained main-content extractor) does the work; this module turns its result into the
loader's terms: paragraphs, one a line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

# trafilatura logs every page it cannot parse at ERROR; the loader reports such a page in its own words.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

# `eventbot add` records where a saved page came from in a comment at its end (a comment before the
# doctype would upset HTML parsers).
SOURCE_COMMENT = re.compile(r"<!--\s*eventbot-source-url:\s*(\S+)\s*-->\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Less text than this is not an article (what is left of a page that is all navigation: "Home").
MIN_ARTICLE_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Control characters in the markup, raw or as character references (`&#27;`, `&#x1b;`): HTML does not allow
# them, and one of them makes the extractor give up on the whole page. Each becomes a space; tab, line feed
# and carriage return are kept. (`&#128;`-`&#159;` are not controls in HTML: they name windows-1252 letters.)
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")
_CONTROL_CODES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D} | {0x7F}


@dataclass(frozen=True, slots=True)
class Page:
    title: str | None
    date: str | None
    paragraphs: tuple[str, ...]
    url: str | None
    outlet: str | None
    byline: str | None


def with_source(html: str, url: str) -> str:
    """The page as `eventbot add` saves it: its URL in a comment at the end."""
    return f"{html.rstrip()}\n<!-- eventbot-source-url: {url} -->\n"


def without_controls(html: str) -> str:
    """The page with every control character (raw or as a character reference) a space, as it is read and saved."""
    return _REFERENCE.sub(_control_reference, _RAW_CONTROL.sub(" ", html))


def _control_reference(found: re.Match[str]) -> str:
    hex_code, decimal = found.groups()
    code = int(hex_code, 16) if hex_code else int(decimal)
    return " " if code in _CONTROL_CODES else found.group(0)


def parse_html(html: str) -> Page:
    """The article in a page; `paragraphs` is empty when the page has no article text."""
    import trafilatura

    html = without_controls(html)
    found = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True, as_dict=True
    )
    if not found:
        return Page(None, None, (), _source_comment(html), None, None)
    data = found if isinstance(found, dict) else found.as_dict()
    paragraphs = tuple(p for p in (_clean(line) for line in (data.get("text") or "").splitlines()) if p)
    if sum(len(p) for p in paragraphs) < MIN_ARTICLE_CHARS:
        paragraphs = ()  # a menu, a login wall, an index page: no article to quote
    date = data.get("date")
    url = _source_comment(html) or data.get("url")
    return Page(
        title=_clean(data.get("title") or "") or None,
        date=date[:10] if isinstance(date, str) and _DATE.match(date) else None,
        paragraphs=paragraphs,
        url=url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
        outlet=_clean(data.get("sitename") or "") or None,
        byline=_clean(data.get("author") or "") or None,
    )


def _source_comment(html: str) -> str | None:
    found = SOURCE_COMMENT.search(html[-2000:])
    return found.group(1) if found else None


def _clean(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())
