"""The question log's behaviour, the same on both backends: SQLite (the default) and PostgreSQL (JOURNAL_URL), the
latter on a throw-away server (`tests/pg.py`; skipped with the reason where PostgreSQL is not installed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from index.conversation.followup import Conversations, Turn
from index.conversation.journal import FAILURES, Journal, LogFailure, QuestionLog, open_log
from index.core.errors import JournalError
from index.core.records import Answer
from index.core.settings import Settings
from index.service.answering import QAService
from tests import pg
from tests.helpers import SEED


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a log lives: a SQLite file, or a fresh PostgreSQL database (as a URL)."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite3")
    server = request.getfixturevalue("postgres")
    return pg.fresh_database(server, re.sub(r"\W", "_", request.node.name.lower())[:60])


def opened(where: str, **options: float) -> QuestionLog:
    if where.startswith("postgresql://"):
        from index.conversation.journal_pg import PostgresJournal

        return PostgresJournal(where, retention_days=options.get("retention_days", 90.0))
    return Journal(Path(where), retention_days=options.get("retention_days", 90.0))


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Answer]:
    home = tmp_path_factory.mktemp("service")
    (home / "seeds").mkdir()
    (home / "seeds" / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(seeds_dir=home / "seeds", index_dir=home / "index", embedding_backend="hashing")
    service = QAService.open(settings, lambda message: None)
    made = {
        "answered": service.answer("Where was K-Defense Day held?"),
        "declined": service.answer("What is the capital of Peru?"),
    }
    assert made["answered"].answered and not made["declined"].answered
    return made


def test_records_buttons_votes_and_the_report(backend: str, answers: dict[str, Answer]) -> None:
    log = opened(backend)
    first = log.record(answers["answered"], chat=10, asker=7, shown=1)
    second = log.record(answers["declined"], chat=10, asker=7, shown=0)
    assert second > first
    assert log.asked(first) is not None and log.asked(first).question == answers["answered"].question  # type: ignore[union-attr]
    log.sent(first, chat=10, message=555)
    assert log.button(first, chat=10, message=555).id == first  # type: ignore[union-attr]
    assert log.button(first, chat=11, message=555) is None  # another chat's message holds no answer of this one
    assert log.feedback(first, 7, -1) and log.feedback(first, 7, -1)  # twice by one person: one vote
    assert log.feedback(first, 8, -1)
    assert not log.feedback(999_999, 7, 1)
    report = log.report()
    assert report.questions == 2
    assert report.unanswered == [(answers["declined"].question, 1)]
    (disliked,) = report.disliked
    assert disliked[0] == answers["answered"].question and disliked[3] == 2
    log.close()


def test_two_instances_on_one_database_agree_like_replicas(backend: str, answers: dict[str, Answer]) -> None:
    if not backend.startswith("postgresql://"):
        pytest.skip("replicas share PostgreSQL; SQLite is one process's log")
    a, b = opened(backend), opened(backend)  # the second starts on an existing schema and salt
    assert a.pseudonym(42) == b.pseudonym(42)
    made = a.record(answers["answered"], chat=5, asker=5, shown=1)
    a.sent(made, chat=5, message=77)
    assert b.button(made, chat=5, message=77).id == made  # type: ignore[union-attr]  # a press on replica B
    assert b.feedback(made, 5, 1) and a.feedback(made, 5, -1)  # the same person on both: one vote, the last
    assert b.report().questions == 1 and len(a.report().disliked) == 1
    assert b.record(answers["declined"], chat=6, asker=6, shown=0) != made
    assert a.forget(5) == 1 and b.asked(made) is None
    a.close()
    b.close()


def test_follow_up_turns_are_kept_in_the_log_and_forgotten_with_the_person(backend: str, answers: dict[str, Answer]) -> None:
    log = opened(backend)
    replica_a, replica_b = Conversations(300, store=log), Conversations(300, store=opened(backend))
    replica_a.remember(31, "Where was K-Defense Day held?", answers["answered"], asker=31)
    resolved = replica_b.resolve(31, "And when?")
    assert resolved.question != "And when?" and "K-Defense" in resolved.question
    assert replica_b.resolve(32, "And when?").question == "And when?"  # another chat has no previous question
    assert log.last_turn(31, time.time() - 300) is not None
    assert log.last_turn(31, time.time() + 1) is None  # older than the follow-up window
    log.record(answers["answered"], chat=31, asker=31, shown=1)
    log.forget(31)
    assert log.last_turn(31, 0.0) is None
    log.close()


def test_retention_deletes_old_questions_and_turns(backend: str, answers: dict[str, Answer]) -> None:
    log = opened(backend, retention_days=1.0)
    old = log.record(answers["answered"], chat=1, asker=1, shown=1)
    log.save_turn(1, 1, Turn("Where?", "", time.time()))
    assert log.purge(now=time.time() + 2 * 86_400) == 1
    assert log.asked(old) is None and log.last_turn(1, 0.0) is None
    log.close()


def test_hostile_values_change_nothing(backend: str, answers: dict[str, Answer]) -> None:
    from dataclasses import replace

    log = opened(backend)
    nul = replace(answers["declined"], question="What\x00 is this?")
    huge = replace(answers["declined"], question="x" * 10_000_000)
    a = log.record(nul, chat=2, asker=2, shown=0)
    b = log.record(huge, chat=2, asker=2, shown=0)
    assert "\x00" not in log.asked(a).question  # type: ignore[union-attr]
    assert len(log.asked(b).question) <= 4_000  # type: ignore[union-attr]
    report = log.report()
    assert report.questions == 2 and all(len(q) <= 4_000 for q, _ in report.unanswered)
    log.close()


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    settings = Settings(journal_url=f"postgresql://eventbot:hunter2-secret@127.0.0.1:{port}/eventbot")
    with pytest.raises(JournalError) as caught:
        open_log(settings)
    message = str(caught.value.problem)
    assert "\n" not in message and "hunter2" not in message and f"127.0.0.1:{port}" in message
    assert "hunter2" not in repr(settings)


def test_a_wrong_password_is_refused_and_never_shown(postgres: pg.Server) -> None:
    wrong = postgres.url.replace("secret-pw", "not-the-password-xyz")
    with pytest.raises(JournalError) as caught:
        open_log(Settings(journal_url=wrong))
    assert "not-the-password-xyz" not in str(caught.value.problem) and "secret-pw" not in str(caught.value.problem)


def test_a_server_lost_while_serving_fails_calls_fast_and_the_log_comes_back(
    postgres: pg.Server, answers: dict[str, Answer]
) -> None:
    url = pg.fresh_database(postgres, "lost_and_back")
    log = opened(url)
    made = log.record(answers["answered"], chat=3, asker=3, shown=1)
    postgres.halt()
    try:
        with pytest.raises(FAILURES):
            log.record(answers["answered"], chat=3, asker=3, shown=1)
        with pytest.raises(LogFailure):
            log.report()
    finally:
        postgres.restart()
    deadline = time.monotonic() + 30
    while True:  # the pool reconnects by itself
        try:
            again = log.record(answers["declined"], chat=3, asker=3, shown=0)
            break
        except LogFailure:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert again > made and log.asked(made) is not None  # nothing half-written, nothing lost that was committed
    log.close()
