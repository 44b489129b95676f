"""Articles as web pages: HTML files in SEEDS_DIR, `eventbot add URL` against a local web server, metadata."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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
from tests.helpers import REPO, SEED, article_folder
from tests.telegram_double import html_problem

PAGE = REPO / "tests" / "pages" / "hanwha-navy-repair.html"
URL_IN_PAGE = "https://news.example.com/2025/09/16/hanwha-navy-repair"
LOCAL = fetch.Rules(allow_private=True)  # the stand-in web is on 127.0.0.1
BOILERPLATE = ("cookies", "Subscribe", "newsletter", "Samsung", "apartment prices", "Copyright", "Politics")


class Pages(http.server.BaseHTTPRequestHandler):
    """The stand-in for the web: an article, a redirect to it, and every way a fetch goes wrong."""

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
        else:
            self._send(404, "text/html", b"<h1>Not found</h1>")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (size limit)
            self.wfile.write(body)

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


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
    monkeypatch.setattr(fetch, "TIMEOUT_S", 0.5)
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
    assert "한화에어로스페이스는 폴란드에" in fetch.fetch_page(f"{web}/euc-kr", rules=LOCAL)


def test_an_added_file_the_loader_refuses_is_removed_before_any_build(tmp_path: Path) -> None:
    seeds = article_folder(tmp_path / "seeds", SEED)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing")
    blank = fetch.save_article(seeds, "blank.txt", "\n  \n")
    with pytest.raises(FetchError, match="blank.txt was not added: no paragraphs"):
        adding.index_added(settings, blank, HashingEmbedder, lambda message: None)
    assert not blank.exists() and not (tmp_path / "index").exists()  # removed, and nothing was built for it
