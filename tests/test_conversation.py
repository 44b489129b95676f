"""The reader's conversation: replies for a phone, follow-ups, buttons, and what editors learn (the question log)."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from index.conversation.followup import Conversations, leans_on_previous, resolve
from index.conversation.journal import SCHEMA_VERSION, Journal
from index.core.records import Answer
from index.core.settings import Settings
from index.service import QAService
from tests.botproc import answers_to, prepare_bot
from tests.helpers import REPO, SEED, article_folder
from tests.telegram_double import callback_update, html_problem, plain


def test_a_follow_up_leans_on_the_previous_question_and_a_stand_alone_one_does_not() -> None:
    assert leans_on_previous("And how many were delivered?") and leans_on_previous("When?")
    assert leans_on_previous("Who said that?") and leans_on_previous("그건 얼마예요?")
    assert not leans_on_previous("How much did Hanwha pay for Philly Shipyard in December 2024?")
    assert not leans_on_previous("Is there a KF-21 export deal?")  # names its own subject
    assert not leans_on_previous("한화오션 매출은?") and leans_on_previous("몇 대야?")
    assert leans_on_previous("What about the KF-21?")
    chat = Conversations(seconds=60, clock=lambda: 0.0)
    stand_alone = "Which ship will Hanwha Ocean repair for the US Navy?"
    assert chat.resolve(1, stand_alone).question == stand_alone  # nothing to lean on yet, and nothing changed


def test_follow_ups_expire_and_are_per_chat(tmp_path: Path) -> None:
    service = QAService.open(
        Settings(seeds_dir=article_folder(tmp_path / "s", SEED), index_dir=tmp_path / "i", embedding_backend="hashing"),
        lambda m: None,
    )
    now = [0.0]
    chats = Conversations(seconds=60, clock=lambda: now[0])
    chats.remember(
        1, "How much is the K-2 tank deal with Poland worth?", service.answer("How much is the K-2 tank deal with Poland worth?")
    )
    resolved = chats.resolve(1, "And who builds it?")
    assert "Poland" in resolved.question and resolved.prefer == "2025-07-08-k-defense-day"
    assert chats.resolve(2, "And who builds it?").question == "And who builds it?"  # another chat
    now[0] = 61.0
    assert chats.resolve(1, "And who builds it?").question == "And who builds it?"  # too late
    assert resolve("Who said that?", None) == "Who said that?"


def _answer(service: QAService, question: str) -> Answer:
    return service.answer(question)


def test_the_question_log_records_hashes_feedback_once_retention_and_reports(tmp_path: Path) -> None:
    service = QAService.open(
        Settings(seeds_dir=article_folder(tmp_path / "s", SEED), index_dir=tmp_path / "i", embedding_backend="hashing"),
        lambda m: None,
    )
    journal = Journal(tmp_path / "journal.sqlite3", retention_days=90)
    answered = journal.record(_answer(service, "Where was K-Defense Day held?"), chat=111, asker=222, shown=1)
    for _ in range(2):  # the same question twice, and a near-duplicate: one group of three
        journal.record(_answer(service, "What is the capital of France?"), chat=111, asker=222, shown=0)
    journal.record(_answer(service, "what is the capital of France"), chat=333, asker=444, shown=0)
    assert journal.feedback(answered, 222, -1) and journal.feedback(answered, 222, -1)  # idempotent per person
    assert journal.feedback(answered, 555, -1) and not journal.feedback(9999, 222, 1)
    report = journal.report()
    assert report.questions == 4 and report.unanswered[0][1] == 3 and "capital of France" in report.unanswered[0][0]
    assert report.disliked == [("Where was K-Defense Day held?", report.disliked[0][1], 2, 2)]
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        askers = {row[0] for row in db.execute("SELECT asker FROM questions")}
        assert "222" not in askers and all(len(a) == 32 for a in askers)
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert journal.forget(444) == 1
    assert journal.purge(now=time.time() + 91 * 86_400) == 3 and journal.report().questions == 0
    journal.close()
    reopened = Journal(tmp_path / "journal.sqlite3")  # migrations are not run twice
    assert reopened.report().questions == 0


def test_telegram_replies_buttons_feedback_more_follow_up_report_and_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = 777
    bot = prepare_bot(tmp_path / "home", ADMIN_USER_IDS=str(admin), QUESTION_LOG="true")
    bot.start()
    try:
        (reply,) = answers_to(bot, 701, bot.ask(701, "Where was K-Defense Day held?"))
        assert "<blockquote>" in reply["text"] and html_problem(reply["text"]) is None
        buttons = reply["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in buttons] == ["👍", "👎", "More"]
        down, more = buttons[1]["callback_data"], buttons[2]["callback_data"]
        bot.double.push(callback_update(701, "cb1", down, message_id=reply["message_id"]))
        assert bot.double.wait_for(lambda: bot.double.sent("answerCallbackQuery", callback_query_id="cb1"))
        bot.double.push(callback_update(701, "cb2", more, message_id=reply["message_id"]))
        assert bot.double.wait_for(lambda: len(bot.double.sent(chat_id=701)) >= 2)
        assert "[1]" in bot.double.sent(chat_id=701)[-1]["text"]
        # A follow-up through Telegram: "them" are the tanks of the previous question (alone, it finds no company).
        answers_to(bot, 704, bot.ask(704, "How much is the K-2 tank contract worth?"))
        (followed,) = answers_to(bot, 704, bot.ask(704, "Which company makes them?"))
        assert "Hyundai Rotem" in plain(followed["text"])
        (declined,) = answers_to(bot, 702, bot.ask(702, "What is the capital of France?"))
        assert "do not answer" in plain(declined["text"])
        (report,) = answers_to(bot, admin, bot.ask(admin, "/report"))
        assert "capital of France" in report["text"] and "Where was K-Defense Day held?" in report["text"]
    finally:
        bot.stop()
    # After a restart, the buttons under the old answer still work: their state is in the log, not in memory.
    bot.start()
    try:
        before = len(bot.double.sent(chat_id=701))
        bot.double.push(callback_update(701, "cb3", more, message_id=reply["message_id"]))
        assert bot.double.wait_for(lambda: bot.double.sent("answerCallbackQuery", callback_query_id="cb3"))
        assert bot.double.wait_for(lambda: len(bot.double.sent(chat_id=701)) > before)
    finally:
        bot.stop()
    # The editor's report on the command line: the 👎 answer and the unanswered question, as JSON too.
    for name, value in bot.env.items():
        if name in {"SEEDS_DIR", "INDEX_DIR", "EMBEDDING_BACKEND"}:
            monkeypatch.setenv(name, value)
    assert main(["report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unanswered"][0]["question"] == "What is the capital of France?"
    assert data["disliked"][0]["question"] == "Where was K-Defense Day held?"


def test_the_question_log_survives_a_process_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    writer = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from pathlib import Path
from index.conversation.journal import Journal
from index.core.records import Answer
journal = Journal(Path({str(path)!r}))
print("ready", flush=True)
n = 0
while True:
    journal.record(Answer("question %d" % n, False, ()), chat=1, asker=2, shown=0)
    n += 1
"""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        process.send_signal(sig)
        process.wait(timeout=10)
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] > 0
    assert Journal(path).report().questions > 0  # and it opens and reports as before


def test_the_report_groups_near_duplicates_among_many_distinct_questions() -> None:
    """Grouping compares a question only with groups sharing one of its rarest words: still the same groups as
    comparing it with every earlier group, the earliest matching one taking it."""
    import random

    from index.conversation import journal

    def every_group(questions: list[str]) -> list[tuple[str, int]]:  # the plain scan, as the report once did it
        groups: list[tuple[set[str], dict[str, int]]] = []
        for question in questions:
            words = set(journal._TOKEN.findall(question.lower()))
            for seen, wordings in groups:
                if words and len(words & seen) / len(words | seen) >= 0.6:
                    wordings[question] = wordings.get(question, 0) + 1
                    break
            else:
                groups.append((words, {question: 1}))
        ranked = [(max(w, key=lambda q: (w[q], -list(w).index(q))), sum(w.values())) for _, w in groups]
        return sorted(ranked, key=lambda item: -item[1])

    rng = random.Random(7)
    vocabulary = [
        "who",
        "what",
        "when",
        "where",
        "how",
        "many",
        "lee",
        "tanks",
        "poland",
        "seoul",
        "boats",
        "parade",
        "day",
        "defense",
        "the",
        "said",
    ]
    for _ in range(200):
        questions = [" ".join(rng.sample(vocabulary, rng.randint(0, 6))) for _ in range(40)]
        assert journal._grouped(questions) == every_group(questions)
    many = [f"question {n}" for n in range(5000)] + ["Who won the match?", "who won the match", "Who won the match ?"]
    grouped = journal._grouped(many)
    assert grouped[0] == ("Who won the match?", 3) and len(grouped) == 5001


def _files(path: Path) -> list[Path]:
    """The database and every file SQLite or the journal keeps beside it."""
    return [p for p in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", ".salt"))) if p.exists()]


def test_forget_leaves_no_forgotten_question_readable_on_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    secret = "Zyxwvut-forget-me-7391 what did the minister say?"
    for n in range(50):  # others' questions around it, so that the page holding it is not simply dropped
        journal.record(Answer(f"question number {n} about the parade", False, ()), chat=1, asker=2, shown=0)
    journal.record(Answer(secret, False, ()), chat=3, asker=4, shown=0)
    journal.record(Answer("a later question", False, ()), chat=1, asker=2, shown=0)
    assert any(secret.encode() in p.read_bytes() for p in _files(path))  # the test can see it before
    assert journal.forget(4) == 1
    for file in _files(path):
        assert secret.encode() not in file.read_bytes(), file.name
    assert journal.report().questions == 51  # the others' are kept
    journal.close()
    for file in _files(path):
        assert secret.encode() not in file.read_bytes(), file.name


def test_forget_on_the_command_line_scrubs_the_files_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "data" / "index"))
    path = tmp_path / "data" / "journal.sqlite3"
    running = Journal(path)  # as a running bot holds it open
    running.record(Answer("Qwerty-secret-0042 who won?", False, ()), chat=9, asker=9, shown=0)
    running.record(Answer("someone else's question", False, ()), chat=8, asker=8, shown=0)
    assert main(["forget", "9"]) == 0 and "Deleted 1 question " in capsys.readouterr().out
    assert all(b"Qwerty-secret-0042" not in file.read_bytes() for file in _files(path))
    assert running.record(Answer("a question after", False, ()), chat=8, asker=8, shown=0) > 0  # the bot goes on
    assert running.report().questions == 2
    running.close()


def test_the_question_log_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.record(Answer("question", False, ()), chat=1, asker=2, shown=0)
    files = _files(path)
    assert {p.name[len(path.name) :] for p in files} == {"", "-wal", "-shm", ".salt"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: "0o600" for p in files}
    journal.close()
    # A log written world-readable (by an older version) is made private when it is opened.
    for file in _files(path):
        file.chmod(0o644)
    Journal(path).close()
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in _files(path))


def test_a_locked_question_log_loses_the_record_not_the_time(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError):
            journal.record(Answer("question", False, ()), chat=1, asker=2, shown=0)
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert journal.record(Answer("question", False, ()), chat=1, asker=2, shown=0) > 0  # and works once free


def test_a_telegram_answer_does_not_wait_for_a_locked_question_log(tmp_path: Path) -> None:
    bot = prepare_bot(tmp_path / "home", QUESTION_LOG="true")
    bot.start()
    try:
        (first,) = answers_to(bot, 801, bot.ask(801, "Where was K-Defense Day held?"))
        assert "reply_markup" in first  # the log works: buttons under the answer
        holder = sqlite3.connect(bot.home / "journal.sqlite3", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            (reply,) = answers_to(bot, 802, bot.ask(802, "Where was K-Defense Day held?"), timeout=30)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert "<blockquote>" in reply["text"] and waited < 5
    finally:
        bot.stop()
    assert bot.double.wait_for(lambda: "could not record a question" in bot.log_file.read_text(), timeout=5)


def _damage(path: Path) -> None:
    path.write_bytes(b"this is not a database\x00\xff" * 400)


@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_a_damaged_question_log_is_reported_as_damaged_not_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "data" / "index"))
    path = tmp_path / "data" / "journal.sqlite3"
    path.parent.mkdir()
    if damage == "garbage":
        _damage(path)
    else:  # a sound header, garbage where the rows are
        journal = Journal(path)
        for n in range(300):
            journal.record(Answer(f"question {n} " * 20, False, ()), chat=1, asker=2, shown=0)
        journal.close()
        with path.open("r+b") as file:
            file.seek(4096)
            file.write(b"\xde\xad" * 40_000)
    for argv in (["report"], ["report", "--json"], ["forget", "5"]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert err.startswith(f"eventbot: the question log at {path} is damaged: "), err
        assert err.count("\n") == 1 and "off" not in err and "Traceback" not in err
        assert argv[-1] != "--json" or json.loads(out)["error"].startswith("the question log at")


def test_a_damaged_question_log_is_reported_as_damaged_on_telegram(tmp_path: Path) -> None:
    admin = 778
    bot = prepare_bot(tmp_path / "home", ADMIN_USER_IDS=str(admin), QUESTION_LOG="true")
    _damage(bot.home / "journal.sqlite3")
    bot.start()
    try:
        (answer,) = answers_to(bot, 705, bot.ask(705, "Where was K-Defense Day held?"))
        assert "<blockquote>" in answer["text"]  # answering goes on without the log
        (report,) = answers_to(bot, admin, bot.ask(admin, "/report"))
        assert "is damaged" in report["text"] and str(bot.home / "journal.sqlite3") in report["text"]
        assert "QUESTION_LOG=false" not in report["text"]
    finally:
        bot.stop()


def test_the_report_is_linear_in_the_questions_it_covers(tmp_path: Path) -> None:
    """16,000 distinct unanswered questions: a quadratic grouping would compare 128 million pairs."""
    import random

    rng = random.Random(3)
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    words = [f"w{n}" for n in range(4000)]
    questions = [f"What did {' '.join(rng.sample(words, 4))} say about item{n}?" for n in range(16_000)]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO questions (at, chat, asker, question, outcome, shown) VALUES (?, 'c', 'a', ?, 'declined', 0)",
            [(time.time(), q) for q in questions],
        )
    started = time.monotonic()
    report = journal.report(top=20_000)
    assert time.monotonic() - started < 20
    assert report.questions == 16_000 and len(report.unanswered) == 16_000


def test_at_debug_level_the_log_holds_no_reader_id_name_or_question(tmp_path: Path) -> None:
    """Readers' ids, names and questions stay out of the log file at any level (python-telegram-bot and httpx
    log whole updates at DEBUG)."""
    admin, reader = 9_170_111, 9_260_222
    bot = prepare_bot(tmp_path / "home", ADMIN_USER_IDS=str(admin), QUESTION_LOG="true", LOG_LEVEL="DEBUG")
    question = "Where was K-Defense Day held, asked Quixotic-Reader-5521?"
    bot.start()
    try:
        (reply,) = answers_to(bot, reader, bot.ask(reader, question))
        down = reply["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
        bot.double.push(callback_update(reader, "cb9", down))
        assert bot.double.wait_for(lambda: bot.double.sent("answerCallbackQuery", callback_query_id="cb9"))
        answers_to(bot, reader, bot.ask(reader, "What is the capital of Zanzibarland-8812?"))
        (report,) = answers_to(bot, admin, bot.ask(admin, "/report"))
        assert "Zanzibarland-8812" in report["text"]  # the log recorded it: the editors see it, the log file does not
    finally:
        bot.stop()
    written = bot.log_file.read_text(encoding="utf-8")
    assert "DEBUG" in written or "INFO" in written  # the file was written at a verbose level
    for personal in (str(reader), f"User{reader}", str(admin), f"User{admin}", "Quixotic-Reader-5521", "Zanzibarland-8812"):
        assert personal not in written, personal


def test_library_records_with_readers_data_are_dropped_or_withheld(tmp_path: Path) -> None:
    import logging

    from bot.logs import setup_logging
    from bot.settings import LogSettings

    log_file = tmp_path / "eventbot.log"
    setup_logging(LogSettings(log_level="DEBUG", log_file=log_file), [])
    update = {"from": {"id": 4455667, "first_name": "Ottilie"}, "text": "Where is Quasimodo-31?"}
    logging.getLogger("telegram.ext.Updater").debug("Getting updates: %s", update)
    logging.getLogger("httpx").info("HTTP Request: POST %s", update)
    logging.getLogger("telegram.ext.ExtBot").critical("Error while parsing updates! Received data was %r", update)
    logging.getLogger("index.store").debug("our own debug line")
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert "our own debug line" in written and "Error while parsing updates" in written
    assert "4455667" not in written and "Ottilie" not in written and "Quasimodo-31" not in written


def test_an_empty_salt_is_replaced_not_used(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    salt = path.with_name(path.name + ".salt")
    salt.write_text("", encoding="ascii")
    journal = Journal(path)
    assert len(bytes.fromhex(salt.read_text(encoding="ascii"))) == 16 and salt.stat().st_mode & 0o777 == 0o600
    assert journal.pseudonym(5) != hashlib.sha256(b"5").hexdigest()[:32]  # an unsalted hash of an id is no pseudonym
    assert Journal(path).pseudonym(5) == journal.pseudonym(5)  # and it is kept
    assert sorted(p.name for p in tmp_path.iterdir() if "salt" in p.name) == ["journal.sqlite3.salt"]
