"""Adding a web page by its URL: fetched (httpx), checked, and saved under SEEDS_DIR with its source URL.

Every way a fetch can fail (no answer in time, an error status, a redirect loop, a PDF or an image, a page
too big to be an article, a page with no article text) is one FetchError line, and nothing is written: the
page is saved under a hidden temporary name and renamed into place only once it is known to be an article.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.content.loader import MAX_FILE_BYTES, SUFFIXES
from index.content.webpage import parse_html, with_source
from index.core.errors import FetchError

TIMEOUT_S = 15.0
MAX_REDIRECTS = 5
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SLUG = re.compile(r"[^a-z0-9가-힣]+")


@dataclass(frozen=True, slots=True)
class Saved:
    """Where a page was saved, and what the loader will make of it."""

    path: Path
    title: str
    date: str | None
    url: str


def fetch_page(url: str, *, timeout: float | None = None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The HTML of `url`, following redirects; FetchError with the reason otherwise."""
    import httpx

    timeout = timeout or TIMEOUT_S
    if not re.match(r"https?://[^\s/]+", url):
        raise FetchError(f"{url!r} is not a web address (http:// or https://)")
    try:
        with (
            httpx.Client(
                follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout, headers={"User-Agent": "eventbot"}
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise FetchError(f"{url}: the server answered {response.status_code} {response.reason_phrase}".rstrip())
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in _HTML_TYPES:
                raise FetchError(f"{url}: not a web page ({kind or 'no content type'}); only HTML articles can be added")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url}: the page is {int(declared):,} bytes, over the {max_bytes:,}-byte limit for one article")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url}: the page is over the {max_bytes:,}-byte limit for one article")
            declared_charset = "charset=" in response.headers.get("content-type", "").lower()
            encoding = (response.encoding if declared_charset else _meta_charset(bytes(body[:4096]))) or "utf-8"
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url} ({type(exc).__name__})") from None
    try:
        return bytes(body).decode(encoding, errors="replace")
    except LookupError:  # an encoding name Python does not know
        return bytes(body).decode("utf-8", errors="replace")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)


def _meta_charset(head: bytes) -> str | None:
    """The encoding a page declares in its own <meta> (a Korean page may be EUC-KR), when the server did not say."""
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii") if found else None


def add_page(seeds_dir: Path, url: str, html: str | None = None) -> Saved:
    """Fetch `url` (unless its `html` is given) and save it as an article; FetchError when it is not one."""
    text = with_source(html if html is not None else fetch_page(url), url)
    page = parse_html(text)  # exactly what the loader will read
    if not page.paragraphs:
        raise FetchError(f"{url}: no article text found in the page")
    title = page.title or url
    slug = _SLUG.sub("-", title.lower()).strip("-")[:60].strip("-") or "article"
    path = save_article(seeds_dir, f"{page.date or time.strftime('%Y-%m-%d')}-{slug}.html", text)
    return Saved(path, title, page.date, url)


# Control characters (NUL, newlines), format characters (bidirectional overrides such as U+202E, zero-width
# spaces), surrogates, private-use and unassigned code points, line and paragraph separators.
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def safe_name(name: str) -> str:
    """The name an article called `name` is saved under when no article has it yet (save_article may then add
    "-2", …): never a path (the part after the last / or \\: "../.env" would write outside SEEDS_DIR), without
    unsafe characters (a NUL cannot be in a file name; U+202E would show "report\u202etxt.exe" as "reportexe.txt"),
    not hidden (leading dots and spaces go), the suffix in lower case, and the stem cut to 150 bytes (file names
    are at most 255: room for "-2" and the suffix); "article" when nothing of the stem is left."""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in UNSAFE_CATEGORIES).strip()
    suffix = name[name.rfind(".") :] if "." in name else ""  # ".txt" too, which Path takes for a hidden name
    stem = name[: len(name) - len(suffix)].lstrip(". ")
    stem = stem.encode("utf-8")[:150].decode("utf-8", errors="ignore").rstrip() or "article"
    return stem + suffix.lower()


def save_article(seeds_dir: Path, name: str, text: str) -> Path:
    """Write an article under SEEDS_DIR as `name` (or `name-2`, … when taken: nothing is overwritten), whole or
    not at all: it is written under a hidden temporary name, which neither the loader nor the watcher reads, and
    then linked into place only if that name is still free (two uploads at once cannot take the same one).

    A name is taken when any article file has its stem, whatever its extension: `report.md` beside `report.txt`
    would give two articles one id."""
    name = safe_name(name)
    suffix = Path(name).suffix  # as the loader sees it: the stem is never empty or hidden
    stem = name[: len(name) - len(suffix)]
    if suffix not in SUFFIXES:
        raise FetchError(f"{name}: only {', '.join(SUFFIXES)} files are articles")
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise FetchError(f"{name}: over the {MAX_FILE_BYTES:,}-byte limit for one article")
    partial: Path | None = None
    try:
        seeds_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".", suffix=".partial", dir=seeds_dir)
        partial = Path(temporary)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        taken = {p.stem.lower() for p in seeds_dir.iterdir() if p.suffix.lower() in SUFFIXES}
        for number in range(1, 10_000):
            candidate = stem if number == 1 else f"{stem}-{number}"
            if candidate.lower() in taken:
                continue
            target = seeds_dir / f"{candidate}{suffix}"
            try:
                os.link(partial, target)  # fails if the name was taken meanwhile: then the next one
            except FileExistsError:
                continue
            return target
        raise FetchError(f"{name}: too many articles of that name")
    except OSError as exc:
        raise FetchError(f"cannot save {name} in {seeds_dir} ({exc.strerror or type(exc).__name__})") from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
