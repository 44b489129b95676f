"""Starting the real bot (`python -m bot run`, as `make run` does) against a Bot API double."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.core.settings import Settings
from index.models.embedder import Embedder
from index.models.hashing import HashingEmbedder
from index.store.builder import build
from tests.helpers import HASHING_THRESHOLD, SEED
from tests.telegram_double import BotApiDouble, text_update

TOKEN = "123456789:AAE-secret-test-token_DoNotLeak"


def reply_to(message: dict[str, Any]) -> int | None:
    reply = message.get("reply_parameters")
    if isinstance(reply, str):
        reply = json.loads(reply)
    return reply.get("message_id") if isinstance(reply, dict) else None


def _counter(start: int) -> Iterator[int]:
    while True:
        yield start
        start += 1


@dataclass
class Bot:
    double: BotApiDouble
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    messages: Iterator[int] = field(default_factory=lambda: _counter(1))

    @property
    def seeds(self) -> Path:
        return self.home / "seeds"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def log_file(self) -> Path:
        return self.home / "bot.log"

    @property
    def output(self) -> Path:
        return self.home / "output.txt"

    def start(self, ready: str = "getUpdates") -> None:
        """Launch the bot and wait until it calls `ready` (it polls; in webhook mode it sets the webhook)."""
        calls = len(self.double.all_calls(ready))
        with open(self.output, "ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=self.home, env=self.env, stdout=sink, stderr=sink
            )
        self.double.wait_for(lambda: len(self.double.all_calls(ready)) > calls, timeout=120)

    def stop(self) -> int:
        """SIGTERM, as a service manager sends it; returns the exit code."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def ask(self, chat_id: int, text: str, *, user_id: int | None = None, reply_to_bot: int | None = None) -> int:
        message_id = next(self.messages)
        self.double.push(text_update(chat_id, user_id or chat_id, message_id, text, reply_to_bot=reply_to_bot))
        return message_id

    def replies(self, chat_id: int, message_id: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait for the reply to one message; returns every message sent to that chat since."""

        def found() -> list[dict[str, Any]]:
            return [m for m in self.double.sent(chat_id=chat_id) if reply_to(m) == message_id]

        self.double.wait_for(found, timeout)
        time.sleep(0.15)  # a reply split over several messages (sent back to back): let the rest arrive
        return self.double.sent(chat_id=chat_id)


def answers_to(bot: Bot, chat_id: int, message_id: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Only the messages that reply to one message."""
    return [m for m in bot.replies(chat_id, message_id, timeout) if reply_to(m) == message_id]


def prepare_bot(
    home: Path, *, real: tuple[Embedder, Path] | None = None, extra_seeds: dict[str, str] | None = None, **settings: str
) -> Bot:
    """A seeds folder with the article, a built index, a double, and the environment to run the bot in.

    The bot uses the hashing embedder, or with `real` (the loaded model and its ONNX export folder) the real model.
    `extra_seeds` (file name: text) are more articles, indexed with the first.
    """
    (home / "seeds").mkdir(parents=True)
    shutil.copy(SEED, home / "seeds" / SEED.name)
    for name, text in (extra_seeds or {}).items():
        (home / "seeds" / name).write_text(text, encoding="utf-8")
    backend = (
        {"EMBEDDING_BACKEND": "hashing", "DECLINE_THRESHOLD": HASHING_THRESHOLD}
        if real is None
        else {"EMBEDDING_BACKEND": "onnx", "MODEL_CACHE_DIR": str(real[1])}
    )
    embedder = HashingEmbedder() if real is None else real[0]
    build(
        Settings(seeds_dir=home / "seeds", index_dir=home / "index", embedding_backend=backend["EMBEDDING_BACKEND"]),
        lambda: embedder,
    )
    double = BotApiDouble(TOKEN)
    base_url = double.start()
    env = {
        **os.environ,
        "SEEDS_DIR": str(home / "seeds"),
        "INDEX_DIR": str(home / "index"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "TELEGRAM_TIMEOUT": "2",
        "LOG_LEVEL": "DEBUG",
        "LOG_FILE": str(home / "bot.log"),
        **backend,
        **settings,
    }
    if real is not None and "DECLINE_THRESHOLD" not in settings:
        env.pop("DECLINE_THRESHOLD", None)  # the real model's calibrated default, not the tests' hashing one
    return Bot(double, home, env)
