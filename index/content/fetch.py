"""Adding a web page by its URL: fetched (httpx), checked, and saved under SEEDS_DIR with its source URL.

Every way a fetch can fail (no answer in time, an error status, a redirect loop, a PDF or an image, a page
too big to be an article, a page with no article text) is one FetchError line, and nothing is written: the
page is saved under a hidden temporary name and renamed into place only once it is known to be an article.

What a link cannot make the bot do: take longer than ADD_DEADLINE_SECONDS over one page (a server that trickles
a byte at a time is cut off), read a page on a loopback, private, link-local or reserved address (the machine's
own services, the office network, the cloud's metadata address) unless ADD_ALLOW_PRIVATE_ADDRESSES is on, or
hold more than the article limit in memory (compressed layers are undone as they stream, each held to it).
The same address added again updates the article it made.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tempfile
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from index.content.loader import MAX_FILE_BYTES, SUFFIXES
from index.content.webpage import SOURCE_COMMENT, parse_html, with_source, without_controls
from index.core.errors import FetchError

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 15.0  # one read, or one connection
DEADLINE_S = 20.0  # the whole page, redirects included (ADD_DEADLINE_SECONDS)
MAX_REDIRECTS = 5
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SLUG = re.compile(r"[^a-z0-9가-힣]+")
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Content-Encoding names this reader decodes (zlib's window bits for each); "identity" is no coding at all.
_CODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_MAX_CODINGS = 3
# One add at a time looks for the page's earlier copy and saves: two adds of one URL cannot make two files.
_SAVING = threading.Lock()


@dataclass(frozen=True, slots=True)
class Saved:
    """Where a page was saved, and what the loader will make of it; `updated` when it replaced its earlier copy."""

    path: Path
    title: str
    date: str | None
    url: str
    updated: bool = False


@dataclass(frozen=True, slots=True)
class Rules:
    """How far one fetch may go: the time for the whole page (ADD_DEADLINE_SECONDS), its size once decoded, and
    whether it may come from a loopback, private, link-local or reserved address (ADD_ALLOW_PRIVATE_ADDRESSES:
    off, so a link cannot make the bot read the machine's or the office network's own pages)."""

    deadline_s: float = DEADLINE_S
    allow_private: bool = False
    max_bytes: int = MAX_FILE_BYTES


def canonical_url(url: str) -> str:
    """The address as eventbot records it: scheme and host in lower case, no default port, no #fragment, and "/"
    for an empty path, so `HTTP://Example.com#top` and `http://example.com/` are one page."""
    text = url.strip()
    if not _WEB_ADDRESS.match(text):
        raise FetchError(f"{url!r} is not a web address (http:// or https://)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise FetchError(f"{url!r} is not a web address (its host or port is malformed)") from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if not host:
        raise FetchError(f"{url!r} is not a web address (no host)")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def fetch_page(url: str, *, rules: Rules | None = None, timeout: float | None = None) -> str:
    """The HTML of `url`, following redirects; FetchError with the reason otherwise."""
    import httpx

    rules = rules or Rules()
    timeout = timeout or TIMEOUT_S
    url = canonical_url(url)
    deadline = time.monotonic() + rules.deadline_s
    late = f"{url}: the page did not arrive within {rules.deadline_s:g} s (the limit for one page)"
    expired = threading.Event()
    try:
        with httpx.Client(
            follow_redirects=False, timeout=timeout, headers={"User-Agent": "eventbot", "Accept-Encoding": "gzip, deflate"}
        ) as client:
            # A server can send its headers a byte at a time, each within the read time-out: at the deadline the
            # client is closed under whatever it is waiting for.
            def stop() -> None:
                expired.set()
                client.close()

            watchdog = threading.Timer(rules.deadline_s, stop)
            watchdog.daemon = True
            watchdog.start()
            try:
                request = client.build_request("GET", url)
                for hop in range(MAX_REDIRECTS + 1):
                    _check_address(url, request.url, rules, redirected=hop > 0)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise FetchError(late)
                    request.extensions = {**request.extensions, "timeout": httpx.Timeout(min(timeout, left)).as_dict()}
                    response = client.send(request, stream=True)
                    try:
                        if response.next_request is None:
                            return _read(url, response, rules, deadline)
                        request = response.next_request
                    finally:
                        response.close()
            finally:
                watchdog.cancel()
    except httpx.TimeoutException:
        raise FetchError(late if expired.is_set() else f"{url}: no answer within {min(timeout, rules.deadline_s):g} s") from None
    except (httpx.HTTPError, RuntimeError) as exc:  # a client closed by the watchdog raises either
        if expired.is_set():
            raise FetchError(late) from None
        if not isinstance(exc, httpx.HTTPError):
            raise
        raise FetchError(f"cannot fetch {url} ({type(exc).__name__})") from None
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")


def _check_address(url: str, target: httpx.URL, rules: Rules, *, redirected: bool) -> None:
    """Refuse a page (the one named, or one it redirects to) whose host is, or resolves to, an address that is
    not public, unless the rules allow them: every address the name has must be public."""
    if target.scheme not in _DEFAULT_PORTS:
        raise FetchError(f"{url}: redirects to {target.scheme}:, not a web address")
    if rules.allow_private:
        return
    host = target.host
    try:
        found = _addresses(host, target.port or _DEFAULT_PORTS[target.scheme])
    except (OSError, UnicodeError):
        raise FetchError(f"{url}: cannot find the server {host}") from None
    for address in found:
        ip = ipaddress.ip_address(address.split("%")[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if not _public(mapped or ip):
            named = host if host == str(ip) else f"{host} ({ip})"
            where = f"redirects to {named}, which" if redirected else named
            raise FetchError(f"{url}: {where} is a private or local address; only public web pages can be added")


def _addresses(host: str, port: int) -> list[str]:
    """Every address `host` has (a literal address is its own)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_private)


def _read(url: str, response: httpx.Response, rules: Rules, deadline: float) -> str:
    """The body of a final (not redirecting) answer, decoded, within the rules' size and time."""
    max_bytes = rules.max_bytes
    too_large = f"{url}: the page is too large: over the {max_bytes:,}-byte limit for one article"
    if response.status_code >= 400:
        raise FetchError(f"{url}: the server answered {response.status_code} {response.reason_phrase}".rstrip())
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _HTML_TYPES:
        raise FetchError(f"{url}: not a web page ({kind or 'no content type'}); only HTML articles can be added")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url}: the page is {int(declared):,} bytes, over the {max_bytes:,}-byte limit for one article")
    layers = _decoders(url, response.headers.get("content-encoding", ""), max_bytes)
    body = bytearray()
    received = 0
    try:
        for chunk in _with_end(response.iter_raw()):
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(too_large)
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: the page did not arrive within {rules.deadline_s:g} s (the limit for one page)")
            last = not chunk
            for layer in layers:
                chunk = layer.feed(chunk) + (layer.flush() if last else b"")
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(too_large)
    except _TooLarge:
        raise FetchError(too_large) from None
    except zlib.error:
        raise FetchError(f"{url}: the page's compressed data is damaged") from None
    declared_charset = "charset=" in response.headers.get("content-type", "").lower()
    encoding = (response.charset_encoding if declared_charset else _meta_charset(bytes(body[:4096]))) or "utf-8"
    try:
        return bytes(body).decode(encoding, errors="replace")
    except LookupError:  # an encoding name Python does not know
        return bytes(body).decode("utf-8", errors="replace")


def _with_end(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, then one empty chunk: the sign for the decoders to give what they still hold."""
    yield from (chunk for chunk in chunks if chunk)
    yield b""


class _TooLarge(Exception):
    pass


class _Inflate:
    """One layer of Content-Encoding undone as the page streams in, never giving more than `limit` bytes in all:
    zlib's `max_length` stops a small bomb (2 kB of gzip can hold gigabytes) at the limit, before it is in memory."""

    def __init__(self, wbits: int, limit: int) -> None:
        self._wbits = wbits
        self._zlib = zlib.decompressobj(wbits)
        self._left = limit
        self._started = False

    def feed(self, data: bytes) -> bytes:
        try:
            out = self._zlib.decompress(data, self._left + 1)
        except zlib.error:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise
            self._wbits = -zlib.MAX_WBITS  # "deflate" sent raw, without the zlib header, as some servers do
            self._zlib = zlib.decompressobj(self._wbits)
            out = self._zlib.decompress(data, self._left + 1)
        self._started = True
        return self._take(out)

    def flush(self) -> bytes:
        return self._take(self._zlib.flush())

    def _take(self, out: bytes) -> bytes:
        if len(out) > self._left or self._zlib.unconsumed_tail:
            raise _TooLarge
        self._left -= len(out)
        return out


def _decoders(url: str, header: str, limit: int) -> list[_Inflate]:
    """The layers to undo, the last applied first (`gzip, gzip` is gzip twice), each held to `limit`."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
    unknown = [c for c in codings if c not in _CODINGS]
    if unknown:
        raise FetchError(f"{url}: the page is compressed as {unknown[0]}, which eventbot does not read")
    if len(codings) > _MAX_CODINGS:
        raise FetchError(f"{url}: the page is compressed {len(codings)} times over; eventbot undoes at most {_MAX_CODINGS}")
    return [_Inflate(_CODINGS[c], limit) for c in reversed(codings)]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)


def _meta_charset(head: bytes) -> str | None:
    """The encoding a page declares in its own <meta> (a Korean page may be EUC-KR), when the server did not say."""
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii") if found else None


def add_page(seeds_dir: Path, url: str, html: str | None = None, *, rules: Rules | None = None) -> Saved:
    """Fetch `url` (unless its `html` is given) and save it as an article; FetchError when it is not one.

    A page added before (the same address, by `canonical_url`) is updated in place: its file is replaced whole,
    under the same name, so the index has one article of it, not a copy per add."""
    url = canonical_url(url)
    text = with_source(without_controls(html if html is not None else fetch_page(url, rules=rules)), url)
    page = parse_html(text)  # exactly what the loader will read
    if not page.paragraphs:
        raise FetchError(f"{url}: no article text found in the page")
    title = page.title or url
    slug = _SLUG.sub("-", title.lower()).strip("-")[:60].strip("-") or "article"
    with _SAVING:
        earlier = find_added(seeds_dir, url)
        if earlier is not None:
            return Saved(replace_article(earlier, text), title, page.date, url, updated=True)
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


def find_added(seeds_dir: Path, url: str) -> Path | None:
    """The article file `eventbot add` saved from `url` (its source comment names the same canonical address)."""
    if not seeds_dir.is_dir():
        return None
    for path in sorted(seeds_dir.rglob("*")):
        if path.suffix.lower() not in (".html", ".htm") or path.name.startswith(".") or not path.is_file():
            continue
        try:
            with path.open("rb") as page:
                page.seek(max(0, page.seek(0, os.SEEK_END) - 2000))
                tail = page.read().decode("utf-8", errors="ignore")
        except OSError:
            continue
        found = SOURCE_COMMENT.search(tail)
        if found is None:
            continue
        try:
            if canonical_url(found.group(1)) == url:
                return path
        except FetchError:  # a comment written by hand, not an address
            continue
    return None


def replace_article(path: Path, text: str) -> Path:
    """Replace an article file whole or not at all: written beside it under a hidden temporary name, then renamed
    over it (`os.replace`: a reader sees the old page or the new one, never half of one)."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise FetchError(f"{path.name}: over the {MAX_FILE_BYTES:,}-byte limit for one article")
    partial: Path | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".", suffix=".partial", dir=path.parent)
        partial = Path(temporary)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
        partial = None
        return path
    except OSError as exc:
        raise FetchError(f"cannot save {path.name} in {path.parent} ({exc.strerror or type(exc).__name__})") from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)


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
