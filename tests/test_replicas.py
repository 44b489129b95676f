"""Two bot replicas behind one webhook, sharing a PostgreSQL question log: a button pressed under a message one
replica sent is handled by the other, a follow-up reaches either, a vote counts once, and `forget` and the report
see every replica's data. Each replica builds its own index from the same seeds, as deploy/README.md says."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from bot.cli import main
from tests import pg
from tests.botproc import Bot, prepare_bot, reply_to
from tests.telegram_double import callback_update, plain, text_update
from tests.test_telegram_load import _free_port

SECRET = "replica-secret-42"


def _rows(url: str, query: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute(query).fetchone()
    return int(row[0]) if row else 0


def _post(port: int, update: dict[str, object]) -> int:
    """POST an update as Telegram does (the webhook server starts listening just after setWebhook: retried)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.URLError as error:
            if not isinstance(error.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_two_replicas_share_buttons_follow_ups_votes_forget_and_the_report(
    tmp_path: Path, postgres: pg.Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg.fresh_database(postgres, "replicas")
    ports = [_free_port(), _free_port()]
    replicas: list[Bot] = []
    for name, port in zip("ab", ports, strict=True):
        bot = prepare_bot(
            tmp_path / name, ADMIN_USER_IDS="900", JOURNAL_URL=url, WEBHOOK_URL=f"http://127.0.0.1:{port}",
            WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET=SECRET,
        )  # fmt: skip
        if replicas:  # one Telegram for both: the first replica's double
            bot.double.stop()
            bot = Bot(
                replicas[0].double, bot.home, {**bot.env, "TELEGRAM_API_BASE_URL": replicas[0].env["TELEGRAM_API_BASE_URL"]}
            )
        replicas.append(bot)
    double = replicas[0].double
    try:
        for bot in replicas:
            bot.start(ready="setWebhook")
        a, b = ports
        updates = iter(range(1, 1000))

        def ask(port: int, chat: int, message: int, text: str) -> dict[str, object]:
            assert _post(port, {"update_id": next(updates), **text_update(chat, chat, message, text)}) == 200
            (reply,) = double.wait_for(lambda: [m for m in double.sent(chat_id=chat) if reply_to(m) == message], 60)
            return reply

        reply = ask(a, 701, 1, "Where was K-Defense Day held?")  # replica A answers
        buttons = reply["reply_markup"]["inline_keyboard"][0]  # type: ignore[index]
        up, more = buttons[0]["callback_data"], buttons[2]["callback_data"]
        # The buttons under A's message, pressed on B: B knows the answer from the shared log (once A has written
        # where the message went, which it does as soon as Telegram has taken it: a reader is never that quick).
        double.wait_for(lambda: _rows(url, "SELECT COUNT(*) FROM buttons") == 1, 30)
        assert _post(b, {"update_id": next(updates), **callback_update(701, "cb1", more, message_id=reply["message_id"])}) == 200
        assert double.wait_for(lambda: len(double.sent(chat_id=701)) >= 2, 60)
        assert "[1]" in double.sent(chat_id=701)[-1]["text"]
        for port, query in ((b, "cb2"), (a, "cb3")):  # the same reader votes on both replicas: one vote
            assert (
                _post(port, {"update_id": next(updates), **callback_update(701, query, up, message_id=reply["message_id"])})
                == 200
            )
            assert double.wait_for(lambda query=query: double.sent("answerCallbackQuery", callback_query_id=query), 60)
        assert _rows(url, "SELECT COUNT(*) FROM feedback") == 1
        # A follow-up asked on B leans on the question A answered ("them": the tanks; alone it finds no company).
        ask(a, 704, 2, "How much is the K-2 tank contract worth?")
        followed = ask(b, 704, 3, "Which company makes them?")
        assert "Hyundai Rotem" in plain(str(followed["text"]))
        ask(b, 702, 4, "What is the capital of France?")
        report = ask(a, 900, 5, "/report")  # A's report sees what B was asked
        assert "4 questions" in str(report["text"]) and "capital of France" in str(report["text"])  # asked A, A, B, B
    finally:
        for bot in replicas:
            if bot.process is not None and bot.process.poll() is None:
                bot.stop()
        double.stop()
    # forget on the command line erases what both replicas logged of that reader.
    monkeypatch.setenv("JOURNAL_URL", url)
    monkeypatch.setenv("INDEX_DIR", str(replicas[0].index_dir))
    assert main(["forget", "704"]) == 0
    assert "Deleted 2 questions" in capsys.readouterr().out
    assert _rows(url, "SELECT COUNT(*) FROM questions") == 2  # 701's (on A) and 702's (on B) are left
    assert _rows(url, "SELECT COUNT(*) FROM turns") == 2  # and their chats' turns; 704's went with its questions


def test_a_replica_whose_postgresql_is_unreachable_stops_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    port = _free_port()  # nothing listens there
    bot = prepare_bot(tmp_path / "home", JOURNAL_URL=f"postgresql://eventbot:hunter2-pw@127.0.0.1:{port}/eventbot")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "telegram"], cwd=bot.home, env=bot.env, capture_output=True, text=True, timeout=120
        )
    finally:
        bot.double.stop()
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert last.startswith("eventbot: the question log at") and f"127.0.0.1:{port}" in last and "JOURNAL_URL" in last
    assert "hunter2" not in done.stderr + done.stdout + bot.log_file.read_text(encoding="utf-8")


def test_answers_go_on_while_postgresql_is_lost_and_the_log_comes_back(tmp_path: Path, postgres: pg.Server) -> None:
    url = pg.fresh_database(postgres, "lost_while_serving")
    port = _free_port()
    bot = prepare_bot(
        tmp_path / "home", JOURNAL_URL=url, WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port), WEBHOOK_SECRET=SECRET,
    )  # fmt: skip
    double = bot.double
    updates = iter(range(1, 100))

    def ask(chat: int, message: int) -> dict[str, object]:
        update = {"update_id": next(updates), **text_update(chat, chat, message, "Where was K-Defense Day held?")}
        assert _post(port, update) == 200
        (reply,) = double.wait_for(lambda: [m for m in double.sent(chat_id=chat) if reply_to(m) == message], 60)
        return reply

    try:
        bot.start(ready="setWebhook")
        assert "reply_markup" in ask(801, 1)
        postgres.halt()
        try:
            lost = ask(802, 2)  # answered all the same, without buttons (they would need the log)
            assert "Grand Hyatt" in plain(str(lost["text"])) and "reply_markup" not in lost
        finally:
            postgres.restart()
        again = double.wait_for(lambda: "reply_markup" in ask(803 + next(updates), 3), 60)  # the pool reconnects
        assert again
        assert _rows(url, "SELECT COUNT(*) FROM questions") >= 2  # before and after; the lost one is said in the log
        assert "could not record" in bot.log_file.read_text(encoding="utf-8")
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        double.stop()
