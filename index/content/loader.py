"""Stage 1: article files on disk become `Document` records."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from index.core.errors import NoDocumentsError
from index.core.records import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm")
# Front matter at the top of a .md or .txt file: `---`, `key: value` lines, `---`.
_FRONT_KEYS = {"title", "date", "url", "source", "outlet", "publication", "byline", "author"}
# Bigger files are almost certainly not news articles, and would take hours to embed.
MAX_FILE_BYTES = 5_000_000

# `date 2025-07-08 Title`; `Date: 2025-07-08 Title`, as newsrooms also write it, is understood too.
_TXT_HEADER = re.compile(r"^\s*date\s*:?\s+(\d{4}-\d{2}-\d{2})\s+(.+?)\s*$", re.IGNORECASE)
_MD_DATE = re.compile(r"^\s*date\s*:?\s*(\d{4}-\d{2}-\d{2})\s*$", re.IGNORECASE)
# A line that starts like a date header but is not one ("Date: Sept. 2"): reported, never quoted.
_DATE_LIKE = re.compile(r"^\s*date\b\s*[:\-]", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+(\S.*)$")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]*-{3,}[\s:|-]*$")
# Markdown markup that must not appear in a quote: links keep their text, emphasis and code lose their marks.
_MD_INLINE = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
)
_NAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[-_ ]+(.*)$")


@dataclass(frozen=True, slots=True)
class Skipped:
    """An article file that could not be used: its name under SEEDS_DIR and why, in words a person can act on."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The documents that loaded, one warning line per file that did not (and per note), and the skipped files."""

    documents: tuple[Document, ...]
    warnings: tuple[str, ...]
    skipped: tuple[Skipped, ...] = ()


def article_files(seeds_dir: Path) -> list[Path]:
    """Every article file under `seeds_dir`, in a stable order, hidden files left out.

    Links into sub-folders are not followed (a link may lead anywhere, or in a circle); file links are
    listed here and checked when read.
    """
    if not seeds_dir.is_dir():
        return []
    found = []
    for folder, subfolders, files in os.walk(seeds_dir, followlinks=False):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(folder) / name for name in files if not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES]
    return sorted(found)


def load_documents(seeds_dir: Path) -> LoadResult:
    """Read every article; a file that cannot be used is skipped with a warning naming it."""
    if not seeds_dir.is_dir():
        raise NoDocumentsError(f"seeds folder {seeds_dir} does not exist")
    documents: list[Document] = []
    warnings: list[str] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()

    def skip(path: Path, reason: str) -> None:
        skipped.append(Skipped(path.relative_to(seeds_dir).as_posix(), reason))
        warnings.append(f"skipped {path}: {reason}")
        log.info("skipped %s: %s", path, reason)  # callers report it (a watcher once, not on every pass)

    for path in article_files(seeds_dir):
        try:
            doc, notes = read_document(path, seeds_dir)
        except OSError as exc:  # unreadable, a dangling link, or deleted since the folder was listed
            skip(path, f"cannot be read: {exc.strerror or type(exc).__name__}")
            continue
        except ValueError as exc:
            skip(path, str(exc))
            continue
        if doc.doc_id in seen:
            skip(path, f"another file already has the id {doc.doc_id}")
            continue
        seen.add(doc.doc_id)
        documents.append(doc)
        warnings += [f"{path}: {note}" for note in notes]
    if not documents:
        raise NoDocumentsError(f"no readable articles (.txt or .md) in {seeds_dir}")
    return LoadResult(tuple(documents), tuple(warnings), tuple(skipped))


def read_document(path: Path, seeds_dir: Path) -> tuple[Document, list[str]]:
    """Parse one file, with notes about lines left out; raises ValueError (or OSError) with a reason a person can act on."""
    raw = _read_article_bytes(path, seeds_dir)
    if b"\x00" in raw:
        raise ValueError("binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    doc_id = path.relative_to(seeds_dir).with_suffix("").as_posix()
    meta: dict[str, str] = {}
    if path.suffix.lower() in (".html", ".htm"):
        from index.content.webpage import parse_html

        page = parse_html(text)
        notes: list[str] = []
        title, date, paragraphs = page.title, page.date, list(page.paragraphs)
        meta = {key: value for key, value in (("url", page.url), ("outlet", page.outlet), ("byline", page.byline)) if value}
    else:
        meta, text = front_matter(text)
        if path.suffix.lower() == ".md":
            title, date, paragraphs, notes = _parse_markdown(text)
        else:
            title, date, paragraphs, notes = _parse_text(text)
        title, date = meta.get("title") or title, meta.get("date") or date
    name_date, name_title = _from_file_name(path)
    if not paragraphs:
        web = path.suffix.lower() in (".html", ".htm")
        raise ValueError("no article text found in the page" if web else "no paragraphs (empty file)")
    document = Document(
        doc_id=doc_id,
        title=_clean(title) if title else name_title,
        date=date or name_date,
        source=str(path),
        paragraphs=tuple(paragraphs),
        content_hash=hashlib.sha256(raw).hexdigest(),
        url=meta.get("url"),
        outlet=meta.get("outlet"),
        byline=meta.get("byline"),
    )
    return document, notes


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the top: (title, date, url, outlet, byline), and the text after it.

    `source` is another name for `url`, `publication` for `outlet` and `author` for `byline`; a date must be
    YYYY-MM-DD. Anything else in the block is ignored, and a file without the block is returned whole."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        return {}, text
    meta: dict[str, str] = {}
    aliases = {"source": "url", "publication": "outlet", "author": "byline"}
    for line in lines[1:end]:
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), _clean(value).strip("\"'")
        if key in _FRONT_KEYS and value:
            meta[aliases.get(key, key)] = value
    if "date" in meta and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"]):
        del meta["date"]
    if "url" in meta and not re.match(r"https?://", meta["url"]):
        del meta["url"]
    return meta, "\n".join(lines[end + 1 :])


def _read_article_bytes(path: Path, seeds_dir: Path) -> bytes:
    """The file's bytes, if it is a regular file inside SEEDS_DIR and within the size limit.

    A link that leads out of SEEDS_DIR is refused (it could quote `.env` or any file the bot can read);
    devices and pipes are refused (an endless or blocking read); the limit is enforced while reading,
    since a file's reported size can lie (`/proc`, a file still growing).
    """
    root = seeds_dir.resolve()
    target = path.resolve()
    if not target.is_relative_to(root):
        raise ValueError("a link that leads outside SEEDS_DIR; not followed")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags)  # O_NONBLOCK: opening a pipe with no writer must not hang
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("not a regular file (a device, pipe or socket)")
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"larger than the {MAX_FILE_BYTES:,}-byte limit for one article")
    return raw


# Control characters (escape sequences, bells) would act on a reader's terminal; tabs and the like become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(line: str) -> str:
    return " ".join(_CONTROL.sub(" ", line).split())


def _parse_text(text: str) -> tuple[str | None, str | None, list[str], list[str]]:
    """Title, date, paragraphs (one a line; a list item's marker dropped) and notes about the header."""
    lines = [_clean(line) for line in text.splitlines()]
    lines = [_list_item(line) for line in lines if line]
    if lines and (header := _TXT_HEADER.match(lines[0])):
        return header.group(2), header.group(1), lines[1:], []
    if lines and _DATE_LIKE.match(lines[0]):
        return None, None, lines[1:], [f"first line {lines[0][:60]!r} is not a header `date YYYY-MM-DD Title`; left out"]
    return None, None, lines, []


def _list_item(line: str) -> str:
    found = _LIST_ITEM.match(line)
    return found.group(1) if found else line


def _parse_markdown(text: str) -> tuple[str | None, str | None, list[str], list[str]]:
    """Title, date and paragraphs of Markdown: list items and table rows are paragraphs of their own."""
    title: str | None = None
    date: str | None = None
    paragraphs: list[str] = []
    notes: list[str] = []
    block: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if block:
            paragraphs.append(_markdown_text(" ".join(block)))
            block.clear()
        if table:
            header, *rows = table
            # A row is quoted with its column names, so "Aerospace | 1.2" still says what 1.2 is.
            paragraphs.extend(
                "; ".join(f"{name}: {cell}" if name else cell for name, cell in zip(header, row, strict=False) if cell)
                for row in rows
            )
            table.clear()

    for line in text.splitlines() + [""]:
        stripped = line.strip()
        at_top = not paragraphs and not block and not table
        if title is None and at_top and stripped.startswith("# "):
            title = _markdown_text(stripped[2:])
        elif date is None and at_top and (found := _MD_DATE.match(stripped)):
            date = found.group(1)
        elif at_top and _DATE_LIKE.match(stripped):
            notes.append(f"line {stripped[:60]!r} is not a date line `date: YYYY-MM-DD`; left out")
        elif not stripped or stripped.startswith("#"):
            # A blank line or a sub-heading ends a paragraph; headings are not quoted as answers.
            flush()
        elif stripped.startswith("|"):
            if block:
                flush()
            if not _TABLE_RULE.match(stripped):
                table.append([_markdown_text(cell) for cell in stripped.strip("|").split("|")])
        elif (item := _LIST_ITEM.match(stripped)) is not None:
            flush()
            block.append(item.group(1))  # an item is its own paragraph; a line right below continues it
        else:
            if table:
                flush()
            block.append(stripped)
    return title, date, [p for p in paragraphs if p], notes


def _markdown_text(text: str) -> str:
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return _clean(text)


def _from_file_name(path: Path) -> tuple[str | None, str]:
    stem = path.stem
    date = None
    if found := _NAME_DATE.match(stem):
        date, stem = found.group(1), found.group(2) or stem
    words = stem.replace("_", " ").replace("-", " ").split()
    return date, title_case(words) if words else path.stem


# File-name words that are acronyms in a headline, and the small words a headline keeps lower-case.
_ACRONYMS = frozenset({"us", "uk", "un", "eu", "nato", "ai", "mro", "dapa", "kai", "lig", "usns", "rok", "dprk", "ir", "r&d"})
_SMALL = frozenset({"a", "an", "the", "of", "in", "on", "for", "and", "or", "to", "at", "by", "with", "from", "as", "vs"})


def title_case(words: list[str]) -> str:
    """A headline from file-name words: "hanwha ocean us navy repair" -> "Hanwha Ocean US Navy Repair"."""
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in _ACRONYMS or any(ch.isdigit() for ch in word):
            out.append(word.upper())
        elif i > 0 and lower in _SMALL:
            out.append(lower)
        elif word[:1].islower():
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)
