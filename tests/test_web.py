"""Articles as web pages: HTML files in SEEDS_DIR, `eventbot add URL` against a local web server, metadata."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import os
import shutil
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from bot.cli import main
from bot.format import answer_html, answer_json, answer_text
from index.content import fetch
from index.content.loader import front_matter, load_documents, title_case
from index.core.errors import FetchError
from index.core.records import Answer, DocumentInfo, Hit, Sentence
from index.core.settings import Settings
from index.models.hashing import HashingEmbedder
from index.service import QAService, adding
from tests.botproc import answers_to, prepare_bot
from tests.helpers import HYATT, REPO, SEED, article_folder
from tests.telegram_double import html_problem

PAGE = REPO / "tests" / "pages" / "hanwha-navy-repair.html"
CONTROL_PAGE = REPO / "tests" / "pages" / "control-character-entity.html"
URL_IN_PAGE = "https://news.example.com/2025/09/16/hanwha-navy-repair"
BOILERPLATE = ("cookies", "Subscribe", "newsletter", "Samsung", "apartment prices", "Copyright", "Politics")


class Pages(http.server.BaseHTTPRequestHandler):
    """The stand-in for the web: an article, a redirect to it, and every way a fetch goes wrong."""

    editions = 0
    trickling = 0

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path == "/article":
            self._send(200, "text/html; charset=utf-8", PAGE.read_bytes())
        elif self.path == "/moved":
            self._redirect("/article")
        elif self.path == "/loop":
            self._redirect("/loop")
        elif self.path == "/slow":
            time.sleep(2.0)
            self._send(200, "text/html", PAGE.read_bytes())
        elif self.path == "/huge":
            self._send(200, "text/html", b"<html><body><p>" + b"word " * 4_000_000 + b"</p></body></html>")
        elif self.path == "/report.pdf":
            self._send(200, "application/pdf", b"%PDF-1.4 not an article")
        elif self.path == "/euc-kr":  # the encoding only in the page's <meta>, as older Korean sites do
            page = "<html><head><meta charset='euc-kr'><title>방산 수출</title></head><body><article>"
            page += "<p>" + "한화에어로스페이스는 폴란드에 자주포를 수출했다고 밝혔다. " * 8 + "</p></article></body></html>"
            self._send(200, "text/html", page.encode("euc-kr"))
        elif self.path == "/empty":
            self._send(200, "text/html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
        elif self.path.startswith("/trickle?"):  # the article, a byte at a time: each read is quick, the page is not
            Pages.trickling += 1
            self._trickle(PAGE.read_bytes(), pause=float(parse_qs(self.path.partition("?")[2])["pause"][0]))
        elif self.path.startswith("/slow-headers?"):  # the status line and headers a byte at a time
            pause = float(parse_qs(self.path.partition("?")[2])["pause"][0])
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Padding: " + b"x" * 4000 + b"\r\n\r\n"
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)
        elif self.path == "/bomb":  # 2 kB on the wire, 100 MB of spaces once both gzip layers are undone
            self._send(200, "text/html", _bomb(), encoding="gzip, gzip")
        elif self.path == "/gzip-twice":  # the article, gzipped twice: a stack a reader must undo in order
            self._send(200, "text/html", gzip.compress(gzip.compress(PAGE.read_bytes())), encoding="gzip, gzip")
        elif self.path == "/edition":  # the article as it is now: a later fetch finds a later edition
            Pages.editions += 1
            page = PAGE.read_bytes().replace(b"USNS Charles Drew", f"USNS Charles Drew (edition {Pages.editions})".encode())
            self._send(200, "text/html; charset=utf-8", page)
        elif self.path == "/control":
            self._send(200, "text/html; charset=utf-8", CONTROL_PAGE.read_bytes())
        elif self.path.startswith("/redirect?"):  # wherever the query says
            self._redirect(self.path.partition("?")[2])
        else:
            self._send(404, "text/html", b"<h1>Not found</h1>")

    def _send(self, status: int, kind: str, body: bytes, encoding: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (size limit)
            self.wfile.write(body)

    def _trickle(self, body: bytes, pause: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(pause)

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@functools.cache
def _bomb() -> bytes:
    inner = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * 1_000_000
    layer = inner.compress(b"<html><body><p>") + b"".join(inner.compress(block) for _ in range(100)) + inner.flush()
    return gzip.compress(layer, 9)


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_html_page_is_an_article_with_its_metadata_and_without_boilerplate(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(PAGE, seeds / PAGE.name)
    (doc,) = load_documents(seeds).documents
    assert doc.title == "Hanwha Ocean wins third US Navy repair deal" and doc.date == "2025-09-16"
    assert (doc.url, doc.outlet, doc.byline) == (URL_IN_PAGE, "Korea Defense Daily", "Kim Min-ji")
    text = " ".join(doc.paragraphs)
    assert "USNS Charles Drew" in text and not any(word in text for word in BOILERPLATE)


def test_questions_are_answered_from_the_body_never_the_boilerplate(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(PAGE, seeds / PAGE.name)
    shutil.copy(SEED, seeds / SEED.name)
    service = QAService.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing"), lambda m: None)
    answer = service.answer("What is the vessel called?")
    assert "USNS Charles Drew" in answer.hits[0].sentence.text
    for question in ("How do I subscribe to the newsletter?", "Do you use cookies?", "What happened to apartment prices?"):
        assert all(not any(word in hit.sentence.text for word in BOILERPLATE) for hit in service.answer(question).hits)
    # The citation links to the page: a URL in JSON and in the plain citation, a link in Telegram.
    assert answer_json(answer)["answers"][0]["url"] == URL_IN_PAGE
    assert URL_IN_PAGE in answer_text(answer, "en")
    assert f'<a href="{URL_IN_PAGE}">Hanwha Ocean wins third US Navy repair deal</a>' in answer_html(answer, language="en")[0]


def test_eventbot_add_saves_the_page_with_its_url_and_updates_the_index(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", f"{web}/moved"]) == 0  # through a redirect
    out = capsys.readouterr().out
    assert "Added: Hanwha Ocean wins third US Navy repair deal (2025-09-16, 4 sentences)" in out
    saved = next(env.seeds_dir.glob("2025-09-16-*.html"))
    assert saved.read_text(encoding="utf-8").rstrip().endswith(f"<!-- eventbot-source-url: {web}/moved -->")
    assert main(["ask", "--json", "What is the vessel called?"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert "Charles Drew" in row["answers"][0]["text"] and row["answers"][0]["url"] == f"{web}/moved"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "the server answered 404"),
        ("/slow", "no answer within"),
        ("/huge", "byte limit for one article"),
        ("/report.pdf", "not a web page (application/pdf)"),
        ("/loop", "redirects (a redirect loop?)"),
        ("/empty", "no article text found"),
    ],
)
def test_eventbot_add_failures_are_one_line_and_write_nothing(
    env: Settings, web: str, path: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the slow page is waited for briefly: the others must not turn into time-outs on a loaded machine.
    monkeypatch.setattr(fetch, "TIMEOUT_S", 0.5 if path == "/slow" else 30.0)
    before = sorted(p.name for p in env.seeds_dir.iterdir())
    assert main(["add", f"{web}{path}"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in env.seeds_dir.iterdir()) == before  # nothing written, not even a partial file


def test_front_matter_gives_metadata_and_plain_titles_are_cased(tmp_path: Path) -> None:
    meta, rest = front_matter(
        "---\ntitle: Budget 2026\ndate: 2025-09-02\nsource: https://example.com/b\nauthor: Lee\n---\nBody.\n"
    )
    assert meta == {"title": "Budget 2026", "date": "2025-09-02", "url": "https://example.com/b", "byline": "Lee"}
    assert rest.strip() == "Body."
    assert front_matter("No front matter here.\n") == ({}, "No front matter here.\n")
    assert title_case(["hanwha", "ocean", "us", "navy", "repair"]) == "Hanwha Ocean US Navy Repair"
    assert title_case(["kf21", "rolls", "out", "of", "the", "plant"]) == "KF21 Rolls Out of the Plant"


def test_sources_are_listed_newest_first(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    shutil.copy(PAGE, seeds / PAGE.name)
    (seeds / "undated-note.txt").write_text("A note without a date.\n", encoding="utf-8")
    service = QAService.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing"), lambda m: None)
    assert [doc.date for doc in service.sources()] == ["2025-09-16", "2025-07-08", None]


def test_a_saved_article_never_shares_an_id_or_a_name_and_long_urls_are_not_linked(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "report.txt").write_text("An article.\n", encoding="utf-8")
    saved = fetch.save_article(seeds, "Report.md", "# Report\n\nAnother article with the same name.\n")
    assert saved.name == "Report-2.md" and len(load_documents(seeds).documents) == 2  # two ids, none skipped
    assert fetch.save_article(seeds, "가" * 200 + ".txt", "긴 이름의 기사입니다.\n").name.endswith(".txt")  # no OSError
    assert not list(seeds.glob(".*"))  # no temporary file left
    hits = (
        Hit(
            Sentence("d", 1, 1, 0, 5, "Text."),
            DocumentInfo("d", "Title", "2025-01-01", "d.html", "h", 1, "https://example.com/" + "x" * 5000),
            1.0,
            0.9,
        ),
    )
    (message,) = answer_html(Answer("q", True, hits, (), hits))  # returns: no endless loop on a tight budget
    assert "<a href" not in message and html_problem(message) is None


def test_a_page_in_euc_kr_declared_only_in_its_meta_is_read_right(web: str) -> None:
    assert "한화에어로스페이스는 폴란드에" in fetch.fetch_page(f"{web}/euc-kr", rules=fetch.Rules(allow_private=True))


def test_an_added_file_the_loader_refuses_is_removed_before_any_build(tmp_path: Path) -> None:
    seeds = article_folder(tmp_path / "seeds", SEED)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing")
    blank = fetch.save_article(seeds, "blank.txt", "\n  \n")
    with pytest.raises(FetchError, match="blank.txt was not added: no paragraphs"):
        adding.index_added(settings, blank, HashingEmbedder, lambda message: None)
    assert not blank.exists() and not (tmp_path / "index").exists()  # removed, and nothing was built for it


def _add(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`eventbot add URL`: its exit code, standard output and standard error."""
    code = main(["add", url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _refused(code: int, err: str, message: str) -> None:
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_a_page_that_trickles_in_is_cut_off_at_the_deadline_for_the_whole_page(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every read gets a byte within a quarter of a second, far inside the 15 s a read may take: only a deadline
    # for the whole page stops it (the page would take over 20 minutes to arrive).
    monkeypatch.setenv("ADD_DEADLINE_SECONDS", "1.5")
    before = sorted(p.name for p in env.seeds_dir.iterdir())
    started = time.monotonic()
    code, _, err = _add(f"{web}/trickle?pause=0.25", capsys)
    assert time.monotonic() - started < 6.0
    _refused(code, err, "did not arrive within 1.5 s")
    assert sorted(p.name for p in env.seeds_dir.iterdir()) == before


def test_a_server_that_sends_its_headers_a_byte_at_a_time_is_cut_off_at_the_deadline(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADD_DEADLINE_SECONDS", "1.5")
    started = time.monotonic()
    code, _, err = _add(f"{web}/slow-headers?pause=0.2", capsys)
    assert time.monotonic() - started < 6.0  # the headers alone would take 13 minutes
    _refused(code, err, "did not arrive within 1.5 s")


def test_a_page_that_arrives_within_the_deadline_is_added(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADD_DEADLINE_SECONDS", "5")
    code, out, _ = _add(f"{web}/moved", capsys)
    assert code == 0 and out.startswith("Added: Hanwha Ocean wins third US Navy repair deal")


def test_private_and_local_addresses_are_refused_unless_allowed(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADD_ALLOW_PRIVATE_ADDRESSES", "false")
    before = sorted(p.name for p in env.seeds_dir.iterdir())
    code, _, err = _add(f"{web}/article", capsys)  # the stand-in web is on 127.0.0.1
    _refused(code, err, "127.0.0.1 is a private or local address")
    for address in ("http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/", "http://0.0.0.0/"):
        code, _, err = _add(address, capsys)
        _refused(code, err, "private or local address")
    assert sorted(p.name for p in env.seeds_dir.iterdir()) == before


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/article", "http://10.0.0.7/admin", "http://169.254.169.254/latest/"])
def test_a_public_page_that_redirects_to_a_private_or_local_address_is_refused(
    env: Settings, web: str, target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # news.test stands for a public site: the address check is told it is 93.184.215.14 (a public address), while
    # the connection goes to the stand-in web, which redirects to a loopback, private or link-local address.
    monkeypatch.setenv("ADD_ALLOW_PRIVATE_ADDRESSES", "false")
    port = int(web.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo

    def stand_in(host: str, *args: object, **kwargs: object) -> object:
        return real_getaddrinfo("127.0.0.1" if host == "news.test" else host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", stand_in)

    def addresses(host: str, port: int) -> list[str]:
        return (
            ["93.184.215.14"]
            if host == "news.test"
            else [str(i[4][0]) for i in real_getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        )

    monkeypatch.setattr(fetch, "_addresses", addresses, raising=False)
    before = sorted(p.name for p in env.seeds_dir.iterdir())
    code, _, err = _add(f"http://news.test:{port}/redirect?{target.format(port=port)}", capsys)
    _refused(code, err, "which is a private or local address")
    assert sorted(p.name for p in env.seeds_dir.iterdir()) == before


def test_a_gzip_bomb_is_refused_without_being_decompressed_into_memory(
    env: Settings, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _bomb()  # made before memory is measured
    tracemalloc.start()
    try:
        code, _, err = _add(f"{web}/bomb", capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _refused(code, err, "byte limit for one article")  # "the page is too large: over the 5,000,000-byte limit …"
    assert peak < 40_000_000, f"{peak:,} bytes at the peak for a page of {len(_bomb()):,} bytes"  # 100 MB unpacked


def test_a_page_compressed_twice_is_read(web: str) -> None:
    assert "USNS Charles Drew" in fetch.fetch_page(f"{web}/gzip-twice", rules=fetch.Rules(allow_private=True))


def test_the_same_address_added_again_updates_its_article(env: Settings, web: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _add(f"{web}/edition", capsys)
    assert code == 0 and out.startswith("Added: ")
    (saved,) = env.seeds_dir.glob("2025-09-16-*.html")
    code, out, _ = _add(f"{web}/edition", capsys)
    assert code == 0 and out.startswith("Updated: Hanwha Ocean wins third US Navy repair deal") and str(saved) in out
    assert list(env.seeds_dir.glob("2025-09-16-*.html")) == [saved]  # replaced, not a copy beside it
    # The same page by another spelling of its address: scheme and host in capitals, a #fragment.
    host = web.removeprefix("http://")
    code, out, _ = _add(f"HTTP://{host.upper()}/edition#comments", capsys)
    assert code == 0 and out.startswith("Updated: ") and list(env.seeds_dir.glob("2025-09-16-*.html")) == [saved]
    text = saved.read_text(encoding="utf-8")
    assert f"edition {Pages.editions}" in text and f"edition {Pages.editions - 1}" not in text
    assert not list(env.seeds_dir.glob(".*"))  # no temporary file left
    assert main(["ask", "--json", "What is the vessel called?"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert f"edition {Pages.editions}" in row["answers"][0]["text"]


def test_an_upper_case_scheme_is_a_web_address(env: Settings, web: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _add(f"HTTP://{web.removeprefix('http://')}/article", capsys)
    assert code == 0 and out.startswith("Added: Hanwha Ocean wins third US Navy repair deal"), err


def test_a_control_character_reference_in_a_page_is_not_a_refusal(
    env: Settings, web: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _add(f"{web}/control", capsys)
    assert code == 0 and out.startswith("Added: Korea and Poland sign second K2 tank contract"), err
    (saved,) = env.seeds_dir.glob("2025-08-01-*.html")
    assert "&#27;" not in saved.read_text(encoding="utf-8")
    # The loader reads such a page in SEEDS_DIR too (a copy put there by hand), without the control character.
    folder = article_folder(tmp_path / "by-hand", CONTROL_PAGE)
    (doc,) = load_documents(folder).documents
    assert "released in Seoul. The deal is worth" in " ".join(doc.paragraphs)
    assert not any(ch < " " for paragraph in doc.paragraphs for ch in paragraph)


@pytest.mark.load  # a load test: more slow downloads at once than the thread pool has threads, 40 s of waiting
def test_slow_adds_in_telegram_never_hold_up_a_readers_question(tmp_path: Path, web: str) -> None:
    # More slow /adds at once than Python's default thread pool has threads (cores + 4): each page takes about
    # 12 s to arrive. A reader asking meanwhile is answered at once, and the /adds beyond the ones add may run
    # or keep waiting are told to try again.
    admin, reader = 4242, 5151
    adds = (os.cpu_count() or 1) + 6
    bot = prepare_bot(
        tmp_path / "home", ADMIN_USER_IDS=str(admin), ADD_ALLOW_PRIVATE_ADDRESSES="true", ADD_DEADLINE_SECONDS="120"
    )
    bot.start()
    try:
        already = Pages.trickling
        for number in range(adds):
            bot.ask(admin, f"/add {web}/trickle?pause=0.006&copy={number}")
        bot.double.wait_for(lambda: Pages.trickling - already >= 2, timeout=30)  # downloads are under way
        time.sleep(0.5)
        asked = time.monotonic()
        (reply,) = answers_to(bot, reader, bot.ask(reader, "Where was K-Defense Day held?"), timeout=30)
        assert time.monotonic() - asked < 5.0, "the question waited for the downloads"
        assert HYATT in reply["text"]
        assert bot.double.wait_for(lambda: [m for m in bot.double.sent(chat_id=admin) if "Busy adding" in m["text"]], 10)
        assert bot.stop() == 0  # a clean stop with downloads under way: the waiting /adds are dropped
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()
