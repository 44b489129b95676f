"""Load and restart: every question answered exactly once, none lost across a SIGTERM."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from index.models.embedder import Embedder
from tests.botproc import Bot, prepare_bot, reply_to
from tests.telegram_double import text_update

HYATT = "Grand Hyatt Hotel"


def test_restart_with_queued_updates_loses_nothing(tmp_path: Path) -> None:
    bot = prepare_bot(tmp_path / "home")
    try:
        bot.start()
        questions = [(chat, bot.ask(chat, "Where was K-Defense Day held?")) for chat in range(3000, 3030)]
        # Stop while updates are queued: some fetched and in flight, some still waiting at "Telegram".
        bot.double.wait_for(lambda: bot.double.sent(chat_id=3000), timeout=60)
        assert bot.stop() == 0
        later = [(chat, bot.ask(chat, "Which country bought K-2 tanks?")) for chat in range(3000, 3010)]
        bot.start()
        for chat, message_id in questions + later:
            bot.double.wait_for(lambda c=chat, m=message_id: [x for x in bot.double.sent(chat_id=c) if reply_to(x) == m], 60)
        time.sleep(1.0)
        counts = Counter((m["chat_id"], reply_to(m)) for m in bot.double.sent())
        for key in questions + later:
            assert counts[key] == 1, key  # answered, and answered once
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


@pytest.mark.load
@pytest.mark.parametrize("messages_per_second", ["30", "1000"], ids=["telegram-flood-limit", "local-bot-api"])
def test_thousand_questions_from_fifty_chats(
    tmp_path: Path, real_embedder: Embedder, model_cache: Path, messages_per_second: str
) -> None:
    """All answered exactly once; reply times are printed and saved, never asserted.

    At Telegram's own limit (30 messages a second) the send queue bounds reply times; at 1000 a second
    (a local Bot API server) the bot's own capacity does.
    """
    bot = prepare_bot(
        tmp_path / "home",
        real=(real_embedder, model_cache),
        RATE_LIMIT_PER_MINUTE="1000",
        LOG_LEVEL="INFO",
        TELEGRAM_MESSAGES_PER_SECOND=messages_per_second,
    )
    try:
        bot.start()
        pushed: dict[tuple[int, int], float] = {}
        questions = [
            "Where was K-Defense Day held?",
            "How much is the Poland tank deal worth?",
            "Who is the presidential spokesperson?",
            "What is the capital of France?",
        ]
        message_id = 1
        for n in range(1000):
            chat = 4000 + n % 50
            pushed[(chat, message_id)] = time.monotonic()
            bot.double.push(text_update(chat, chat, message_id, questions[n % len(questions)]))
            message_id += 1
        bot.double.wait_for(lambda: len(bot.double.sent()) >= 1000, timeout=600)
        time.sleep(1.0)
        replies = bot.double.all_calls("sendMessage")
        delivered = [c for c in replies if c.delivered]
        counts = Counter((c.params["chat_id"], reply_to(c.params)) for c in delivered)
        assert set(counts) == set(pushed)
        assert all(count == 1 for count in counts.values())
        seconds = [c.at - pushed[(c.params["chat_id"], reply_to(c.params))] for c in delivered]
        figures = {
            "messages_per_second_allowed": float(messages_per_second),
            "questions": len(pushed),
            "chats": 50,
            "p50_ms": float(np.percentile(seconds, 50) * 1000),
            "p95_ms": float(np.percentile(seconds, 95) * 1000),
            "all_answered_s": max(c.at for c in delivered) - min(pushed.values()),
        }
        print("\nload:", json.dumps(figures))
        out = Path(__file__).resolve().parent.parent / ".eventbot" / f"load-{messages_per_second}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(figures, indent=1))
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(port: int, update: bytes, secret: str | None) -> int:
    """POST an update to the bot's webhook as Telegram does (with the secret header) or as anyone can (without)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=update, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0  # the server starts listening just after setWebhook


def _webhook_bot(home: Path, **settings: str) -> tuple[Bot, int]:
    """A bot in webhook mode on a free local port (not started)."""
    port = _free_port()
    bot = prepare_bot(
        home, WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), **settings
    )
    return bot, port


def test_webhook_mode_receives_updates_and_answers(tmp_path: Path) -> None:
    """With WEBHOOK_URL set, the bot registers the webhook and answers updates POSTed to it."""
    bot, port = _webhook_bot(tmp_path / "home", WEBHOOK_SECRET="webhook-secret-123")
    try:
        bot.start(ready="setWebhook")
        (registered,) = bot.double.wait_for(lambda: bot.double.sent("setWebhook"), timeout=120)
        assert registered["url"] == f"http://127.0.0.1:{port}/telegram"
        assert registered["secret_token"] == "webhook-secret-123"
        update = json.dumps({"update_id": 1, **text_update(5000, 5000, 77, "Where was K-Defense Day held?")}).encode()
        # Only Telegram knows the secret: anyone else is refused, and nothing is answered.
        bot.double.wait_for(lambda: _post(port, update, "wrong-secret") == 403, timeout=120)
        assert _post(port, update, "webhook-secret-123") == 200
        (reply,) = bot.double.wait_for(lambda: bot.double.sent(chat_id=5000), timeout=120)
        assert HYATT in reply["text"] and reply_to(reply) == 77
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


def test_webhook_without_a_configured_secret_refuses_forged_updates(tmp_path: Path) -> None:
    """No WEBHOOK_SECRET: the bot makes one up and tells only Telegram (setWebhook), so a forged POST is refused."""
    bot, port = _webhook_bot(tmp_path / "home", ADMIN_USER_IDS="5001")
    try:
        bot.start(ready="setWebhook")
        (registered,) = bot.double.sent("setWebhook")
        secret = registered.get("secret_token")
        assert secret
        # An admin's /reload and a question to some chat, forged by anyone who can reach the port.
        forged = [
            json.dumps({"update_id": 1, **text_update(5001, 5001, 66, "/reload")}).encode(),
            json.dumps({"update_id": 2, **text_update(5002, 5002, 67, "Where was K-Defense Day held?")}).encode(),
        ]
        assert bot.double.wait_for(lambda: _post(port, forged[0], None), timeout=30) == 403
        assert _post(port, forged[1], None) == 403
        assert _post(port, forged[1], "guessed-secret") == 403
        genuine = json.dumps({"update_id": 3, **text_update(5000, 5000, 77, "Where was K-Defense Day held?")}).encode()
        assert _post(port, genuine, secret) == 200
        (reply,) = bot.double.wait_for(lambda: bot.double.sent(chat_id=5000), timeout=30)
        assert HYATT in reply["text"] and reply_to(reply) == 77
        assert bot.stop() == 0
        assert not bot.double.sent(chat_id=5001) and not bot.double.sent(chat_id=5002)
        assert "reloaded" not in bot.log_file.read_text()
        assert secret not in bot.log_file.read_text() + bot.output.read_text(errors="replace")
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


def _run_until_it_stops(bot: Bot) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` for a bot that is expected to give up at start; the double is stopped after."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", "run"], cwd=bot.home, env=bot.env, capture_output=True, text=True, timeout=180
        )
    finally:
        bot.double.stop()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "999:wrong-token-value"}, "the Bot API refused the token: check TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"}, "cannot reach the Bot API at http://127.0.0.1:9/bot"),
    ],
    ids=["refused-token", "unreachable-api"],
)
def test_start_up_failures_are_one_line_without_the_token(tmp_path: Path, setting: dict[str, str], message: str) -> None:

    bot = prepare_bot(tmp_path / "home", **setting)
    done = _run_until_it_stops(bot)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("eventbot: " + message), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    for secret in (bot.env["TELEGRAM_BOT_TOKEN"], bot.env["TELEGRAM_BOT_TOKEN"].split(":")[1]):
        assert secret not in done.stderr + done.stdout + bot.log_file.read_text()


def test_webhook_port_in_use_is_one_line(tmp_path: Path) -> None:

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = prepare_bot(tmp_path / "home", WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_PORT=str(port))
        done = _run_until_it_stops(bot)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"eventbot: cannot listen for the webhook on 127.0.0.1:{port}"), done.stderr[-2000:]
    assert "WEBHOOK_PORT" in last and "Traceback" not in done.stderr
