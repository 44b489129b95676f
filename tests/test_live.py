"""Live content: a running console or bot notices edits, deletions and additions under SEEDS_DIR by itself."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.service import QAService
from index.settings import Settings
from index.watch import Update, Watcher
from tests.botproc import answers_to, prepare_bot
from tests.helpers import AIR_SHOW, HYATT, SEED

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
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    service = QAService.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing"), lambda m: None)
    updates: list[Update] = []
    watcher = Watcher(service, updates.append).start()
    time.sleep(0.3)  # the watch is set up
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


def test_a_damaged_file_keeps_the_old_index_serving_and_is_reported(live: tuple[QAService, Watcher, list[Update]]) -> None:
    service, watcher, updates = live
    (service.settings.seeds_dir / "broken.txt").write_bytes(b"\x00\x01binary\xff" * 100)
    assert eventually(lambda: watcher.passes >= 1)
    assert eventually(lambda: bool(updates))
    assert not updates[-1].ok and "broken.txt" in updates[-1].message and "previous index" in updates[-1].message
    assert HYATT in top(service, "Where was K-Defense Day held?") and len(service.sources()) == 1


def test_the_telegram_bot_follows_the_articles_and_tells_admins_about_a_broken_one(tmp_path: Path) -> None:
    admin = 4242
    bot = prepare_bot(tmp_path / "home", WATCH="true", ADMIN_USER_IDS=str(admin))
    bot.start()
    try:
        article = bot.home / "seeds" / SEED.name
        article.write_text(article.read_text(encoding="utf-8").replace(HYATT, "Lotte Hotel"), encoding="utf-8")

        def answered_from_the_edit() -> bool:
            return "Lotte Hotel" in answers_to(bot, 3001, bot.ask(3001, "Where was K-Defense Day held?"))[0]["text"]

        assert eventually(answered_from_the_edit, WITHIN + 5)  # each try is a round trip through the double
        (bot.home / "seeds" / "broken.txt").write_bytes(b"\x00\xff" * 50)
        assert bot.double.wait_for(lambda: any("broken.txt" in m["text"] for m in bot.double.sent(chat_id=admin)), WITHIN)
        assert "Lotte Hotel" in answers_to(bot, 3002, bot.ask(3002, "Where was K-Defense Day held?"))[0]["text"]
    finally:
        bot.stop()
