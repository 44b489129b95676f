"""Live content: a running console or bot notices edits, deletions and additions under SEEDS_DIR by itself."""

from __future__ import annotations

import http.server
import io
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.console import run_console
from index.content import loader
from index.core.settings import Settings
from index.service import QAService
from index.service.watch import Update, Watcher
from tests.botproc import answers_to, prepare_bot
from tests.helpers import AIR_SHOW, EXTRA, HYATT, REPO, SEED, article_folder
from tests.telegram_double import document_update, plain

if TYPE_CHECKING:
    from index.content.loader import Skipped

PAGE = REPO / "tests" / "pages" / "hanwha-navy-repair.html"


@pytest.fixture
def web_page() -> Iterator[str]:
    """The test page, served by a local web server."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = PAGE.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/hanwha"
    server.shutdown()


# The swap must be done this soon after a change (the target for a small corpus).
WITHIN = 10.0


def eventually(check: Callable[[], bool], timeout: float = WITHIN) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def live(tmp_path: Path) -> tuple[QAService, Watcher, list[Update]]:
    seeds = article_folder(tmp_path / "seeds", SEED)
    service = QAService.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing"), lambda m: None)
    updates: list[Update] = []
    watcher = Watcher(service, updates.append).start()
    assert watcher.ready.wait(10)
    yield service, watcher, updates
    watcher.stop()


def top(service: QAService, question: str) -> str:
    return service.answer(question).hits[0].sentence.text


def test_an_edit_an_addition_and_a_deletion_take_effect_without_a_restart(live: tuple[QAService, Watcher, list[Update]]) -> None:
    service, _, updates = live
    seeds = service.settings.seeds_dir
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_asking() -> None:  # questions in flight while the index is swapped: none may fail
        while not stop.is_set():
            try:
                service.answer("Where was K-Defense Day held?")
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(exc)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        article = seeds / SEED.name
        article.write_text(article.read_text(encoding="utf-8").replace(HYATT, "Lotte Hotel"), encoding="utf-8")
        assert eventually(lambda: "Lotte Hotel" in top(service, "Where was K-Defense Day held?"))
        (seeds / "2025-10-20-air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
        assert eventually(lambda: "50,000 visitors" in top(service, "How many visitors did the air show draw?"))
        (seeds / "2025-10-20-air-show.txt").unlink()
        assert eventually(lambda: all(doc.doc_id != "2025-10-20-air-show" for doc in service.sources()))
        assert all("50,000" not in hit.sentence.text for hit in service.answer("How many visitors did the air show draw?").hits)
    finally:
        stop.set()
        asker.join()
    assert failures == [] and all(update.ok for update in updates)


def test_fifty_files_copied_at_once_cause_one_rebuild(live: tuple[QAService, Watcher, list[Update]]) -> None:
    service, watcher, _ = live
    for i in range(50):
        (service.settings.seeds_dir / f"2025-10-{i % 28 + 1:02d}-story-{i}.txt").write_text(
            f"date 2025-10-{i % 28 + 1:02d} Story number {i}\nStory {i} reports that {i * 7} drones were ordered.\n",
            encoding="utf-8",
        )
    assert eventually(lambda: len(service.sources()) == 51)
    time.sleep(2.0)  # anything still pending would have fired by now
    assert watcher.passes == 1


# Entries a hostile folder can hold that cannot be read as an article, and the reason each is left out for.
UNREADABLE = {
    "outside-link": "outside SEEDS_DIR",
    "empty": "empty",
    "half-copied": "not UTF-8",
    "fifo": "not a regular file",
    "device": "not a regular file",
    "binary": "binary",
}


def make_unreadable(seeds: Path, kind: str) -> Path:
    """Put one unreadable entry of this kind in the folder; its name is `{kind}.txt`."""
    path = seeds / f"{kind}.txt"
    if kind == "outside-link":
        secret = seeds.parent / "outside.txt"
        secret.write_text("date 2025-01-01 Outside\nThe vault code is 7431.\n", encoding="utf-8")
        path.symlink_to(secret)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "half-copied":
        path.write_bytes(AIR_SHOW.encode()[:60] + "…".encode()[:2])  # cut inside a character
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
        except PermissionError:
            pytest.skip("making a device needs root")
    else:
        path.write_bytes(b"\x00\x01binary\xff" * 100)
    return path


def told(updates: list[Update], name: str) -> list[Skipped]:
    return [skipped for update in list(updates) for skipped in update.skipped if skipped.name == name]


def served(service: QAService, doc_id: str) -> bool:
    return any(doc.doc_id == doc_id for doc in service.sources())


def with_extra_article(service: QAService) -> str:
    """Add a second article and wait until it is served; its id."""
    (service.settings.seeds_dir / "2025-07-20-k2-tanks.txt").write_text(EXTRA, encoding="utf-8")
    assert eventually(lambda: served(service, "2025-07-20-k2-tanks"))
    return "2025-07-20-k2-tanks"


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_an_unreadable_file_is_skipped_and_every_other_change_is_swapped_in(
    live: tuple[QAService, Watcher, list[Update]], kind: str
) -> None:
    service, _, updates = live
    seeds = service.settings.seeds_dir
    extra = with_extra_article(service)
    make_unreadable(seeds, kind)
    article = seeds / SEED.name
    article.write_text(article.read_text(encoding="utf-8").replace(HYATT, "Lotte Hotel"), encoding="utf-8")
    (seeds / f"{extra}.txt").unlink()
    (seeds / "2025-10-20-air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    assert eventually(lambda: "50,000 visitors" in top(service, "How many visitors did the air show draw?"))
    assert eventually(lambda: not served(service, extra))
    assert "Lotte Hotel" in top(service, "Where was K-Defense Day held?")
    assert not served(service, kind) and "7431" not in " ".join(h.sentence.text for h in service.answer("vault code").hits)
    assert eventually(lambda: bool(told(updates, f"{kind}.txt")))
    (skipped,) = told(updates, f"{kind}.txt")
    assert UNREADABLE[kind] in skipped.reason


@pytest.mark.parametrize("kind", ["half-copied", "empty"])
def test_an_article_that_becomes_unreadable_is_no_longer_quoted(live: tuple[QAService, Watcher, list[Update]], kind: str) -> None:
    service, _, updates = live
    air_show = service.settings.seeds_dir / "2025-10-20-air-show.txt"
    air_show.write_text(AIR_SHOW, encoding="utf-8")
    assert eventually(lambda: "50,000 visitors" in top(service, "How many visitors did the air show draw?"))
    # A retraction half written over the article, or an editor's empty placeholder: the old text must go.
    half = b"date 2025-10-20 Seoul air show: correction\nThe figure of 50" + "…".encode()[:2]
    air_show.write_bytes(b"" if kind == "empty" else half)
    assert eventually(lambda: not served(service, "2025-10-20-air-show"))
    assert all("50,000" not in hit.sentence.text for hit in service.answer("How many visitors did the air show draw?").hits)
    assert HYATT in top(service, "Where was K-Defense Day held?")
    assert eventually(lambda: bool(told(updates, air_show.name)))


def test_a_skipped_file_is_told_once_for_each_reason(live: tuple[QAService, Watcher, list[Update]]) -> None:
    service, watcher, updates = live
    seeds = service.settings.seeds_dir
    broken = make_unreadable(seeds, "binary")
    assert eventually(lambda: bool(told(updates, broken.name)))
    for i in range(3):  # other changes while it stays broken: swapped in, and the broken file is not told again
        (seeds / f"2025-10-0{i + 1}-story.txt").write_text(f"date 2025-10-0{i + 1} Story {i}\nStory {i} ran.\n", encoding="utf-8")
        assert eventually(lambda i=i: served(service, f"2025-10-0{i + 1}-story"))
    assert len(told(updates, broken.name)) == 1
    broken.write_bytes(b"")  # broken another way: told again, once
    assert eventually(lambda: len(told(updates, broken.name)) == 2)
    assert "empty" in told(updates, broken.name)[-1].reason
    passes = watcher.passes
    (seeds / "2025-10-09-story.txt").write_text("date 2025-10-09 Story 9\nStory 9 ran.\n", encoding="utf-8")
    assert eventually(lambda: served(service, "2025-10-09-story") and watcher.passes > passes)
    assert len(told(updates, broken.name)) == 2


@pytest.mark.parametrize("pause", [0.0, 2.5])
def test_a_seeds_folder_removed_and_created_again_is_followed(
    live: tuple[QAService, Watcher, list[Update]], pause: float
) -> None:
    service, _, _ = live
    seeds = service.settings.seeds_dir
    # As a deploy or a fresh `git clone` does: at once (ext4 then often gives the new folder the old one's inode),
    # or with the folder missing for a while.
    shutil.rmtree(seeds)
    time.sleep(pause)
    seeds.mkdir()
    (seeds / "2025-10-20-air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    (seeds / "2025-07-20-k2-tanks.txt").write_text(EXTRA, encoding="utf-8")
    assert eventually(lambda: "50,000 visitors" in top(service, "How many visitors did the air show draw?"))
    assert eventually(lambda: not served(service, SEED.stem))
    assert all(HYATT not in hit.sentence.text for hit in service.answer("Where was K-Defense Day held?").hits)
    # The new folder is watched, not just read once: a later deletion in it takes effect too.
    (seeds / "2025-07-20-k2-tanks.txt").unlink()
    assert eventually(lambda: not served(service, "2025-07-20-k2-tanks"))


# Deletions must take effect this soon whatever else is in the folder: WITHIN, and a margin for a loaded machine.
DELETION_BOUND = WITHIN + 5


def test_a_deletion_takes_effect_within_ten_seconds_whatever_else_is_in_the_folder(
    live: tuple[QAService, Watcher, list[Update]],
) -> None:
    service, _, updates = live
    seeds = service.settings.seeds_dir
    extra = with_extra_article(service)
    for kind in ("fifo", "outside-link", "half-copied"):
        make_unreadable(seeds, kind)
    with open(seeds / "huge.txt", "wb") as handle:  # over the size limit (sparse: no time spent writing it)
        handle.truncate(loader.MAX_FILE_BYTES * 3)
    (seeds / f"{extra}.txt").unlink()
    assert eventually(lambda: not served(service, extra), DELETION_BOUND)
    assert all("Gdynia" not in hit.sentence.text for hit in service.answer("Where did the first K-2 tanks arrive?").hits)
    assert eventually(lambda: bool(told(updates, "huge.txt")))
    # And again once the watcher knows the unreadable files (they are told, not re-read into a stall).
    (seeds / "2025-10-20-air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    assert eventually(lambda: served(service, "2025-10-20-air-show"))
    (seeds / "2025-10-20-air-show.txt").unlink()
    assert eventually(lambda: not served(service, "2025-10-20-air-show"), DELETION_BOUND)


def test_when_the_system_cannot_watch_the_folder_it_is_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import watchfiles

    real = watchfiles.watch

    def no_system_watches(*args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("force_polling"):
            raise OSError(28, "OS file watch limit reached")
        return real(*args, **kwargs)

    monkeypatch.setattr(watchfiles, "watch", no_system_watches)
    seeds = article_folder(tmp_path / "seeds", SEED)
    service = QAService.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing"), lambda m: None)
    updates: list[Update] = []
    watcher = Watcher(service, updates.append).start()
    try:
        assert watcher.ready.wait(10)
        (seeds / "2025-10-20-air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
        assert eventually(lambda: served(service, "2025-10-20-air-show"))
        (failure,) = [update for update in updates if not update.ok]
        assert "polling" in failure.message and "Traceback" not in failure.message
    finally:
        watcher.stop()


def test_the_telegram_bot_follows_the_articles_and_tells_admins_once_about_a_broken_one(tmp_path: Path) -> None:
    admin = 4242
    bot = prepare_bot(tmp_path / "home", WATCH="true", ADMIN_USER_IDS=str(admin))
    bot.start()
    try:
        article = bot.home / "seeds" / SEED.name
        article.write_text(article.read_text(encoding="utf-8").replace(HYATT, "Lotte Hotel"), encoding="utf-8")

        def answered_from_the_edit() -> bool:
            return "Lotte Hotel" in answers_to(bot, 3001, bot.ask(3001, "Where was K-Defense Day held?"))[0]["text"]

        assert eventually(answered_from_the_edit, WITHIN + 5)  # each try is a round trip through the double
        air_show = bot.home / "seeds" / "2025-10-20-air-show.txt"
        air_show.write_text(AIR_SHOW, encoding="utf-8")

        def quoted(chat: int, text: str) -> bool:
            return text in plain(answers_to(bot, chat, bot.ask(chat, "How many visitors did the air show draw?"))[0]["text"])

        assert eventually(lambda: quoted(3003, "50,000 visitors"), WITHIN + 5)
        air_show.unlink()
        assert eventually(lambda: not quoted(3004, "50,000 visitors"), WITHIN + 5)
        (bot.home / "seeds" / "broken.txt").write_bytes(b"\x00\xff" * 50)

        def told() -> list[str]:
            return [m["text"] for m in bot.double.sent(chat_id=admin) if "broken.txt" in m["text"]]

        assert bot.double.wait_for(told, WITHIN)
        assert "Lotte Hotel" in answers_to(bot, 3002, bot.ask(3002, "Where was K-Defense Day held?"))[0]["text"]
        # While it stays broken, other changes are still served, and the admin is not told again.
        air_show.write_text(AIR_SHOW, encoding="utf-8")
        assert eventually(lambda: quoted(3005, "50,000 visitors"), WITHIN + 5)
        (notice,) = told()
        assert "binary" in notice and "Traceback" not in notice
        assert not any("broken.txt" in m["text"] for m in bot.double.sent() if m["chat_id"] != admin)
    finally:
        bot.stop()


def test_admins_add_articles_by_upload_and_by_link_and_others_cannot(tmp_path: Path, web_page: str) -> None:
    admin, reader = 4343, 5454
    bot = prepare_bot(tmp_path / "home", ADMIN_USER_IDS=str(admin), TELEGRAM_FILE_BASE_URL="")
    bot.start()
    try:
        seeds = bot.home / "seeds"
        story = AIR_SHOW.encode("utf-8")
        bot.double.add_file("F1", story)
        # A reader's upload is refused, and nothing is downloaded or written.
        bot.double.push(document_update(reader, reader, 901, "F1", "air-show.txt", len(story)))
        (refusal,) = answers_to(bot, reader, 901)
        assert "not allowed" in refusal["text"] and not bot.double.all_calls("download")
        assert sorted(p.name for p in seeds.iterdir()) == [SEED.name]
        # An admin's upload is added, confirmed with its title, date and size, and answered from at once.
        bot.double.push(document_update(admin, admin, 902, "F1", "2025-10-20-air-show.txt", len(story)))
        (added,) = answers_to(bot, admin, 902)
        assert "Added: Seoul air show opens (2025-10-20), 3 sentences" in added["text"]
        reply = answers_to(bot, admin, bot.ask(admin, "How many visitors did the air show draw?"))[0]["text"]
        assert "50,000 visitors" in plain(reply)
        # The same name again: saved beside it, and said so. A binary file and a PDF: refused in one line.
        bot.double.push(document_update(admin, admin, 903, "F1", "2025-10-20-air-show.txt", len(story)))
        assert "2025-10-20-air-show-2.txt" in answers_to(bot, admin, 903)[0]["text"]
        bot.double.add_file("F2", b"\xff\xfe\x00binary")
        bot.double.push(document_update(admin, admin, 904, "F2", "notes.txt", 9))
        assert "Not added: notes.txt is not UTF-8 text" in answers_to(bot, admin, 904)[0]["text"]
        bot.double.push(document_update(admin, admin, 905, "F2", "report.pdf", 9))
        assert "not an article file" in answers_to(bot, admin, 905)[0]["text"]
        # /add URL: fetched from the (local) web, confirmed; a reader may not.
        reply = answers_to(bot, admin, bot.ask(admin, f"/add {web_page}"), timeout=60)[0]["text"]
        assert "Added: Hanwha Ocean wins third US Navy repair deal (2025-09-16), 4 sentences" in reply
        assert "not allowed" in answers_to(bot, reader, bot.ask(reader, f"/add {web_page}"))[0]["text"]
        assert not list(seeds.glob(".*partial"))
    finally:
        bot.stop()


def test_the_console_follows_the_articles_while_it_runs(tmp_path: Path) -> None:
    seeds = article_folder(tmp_path / "seeds", SEED)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing", watch=True)
    service = QAService.open(settings, lambda m: None)
    read, write = os.pipe()
    out = io.StringIO()
    with os.fdopen(read, "r", encoding="utf-8") as stdin, os.fdopen(write, "w", encoding="utf-8") as questions:
        console = threading.Thread(target=run_console, args=(service, stdin, out))
        console.start()

        def ask(text: str) -> str:
            before = len(out.getvalue())
            questions.write(text + "\n")
            questions.flush()
            eventually(lambda: len(out.getvalue()) > before, 5.0)
            time.sleep(0.1)
            return out.getvalue()[before:]

        assert HYATT in ask("Where was K-Defense Day held?")
        time.sleep(0.3)
        article = seeds / SEED.name
        article.write_text(article.read_text(encoding="utf-8").replace(HYATT, "Lotte Hotel"), encoding="utf-8")
        assert eventually(lambda: "Lotte Hotel" in ask("Where was K-Defense Day held?"))
        questions.write("/quit\n")
        questions.flush()
        console.join(timeout=10)
    assert not console.is_alive()
