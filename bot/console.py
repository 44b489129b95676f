"""The local console: a prompt with line editing and history, or one answer per piped line."""

from __future__ import annotations

import queue
import sys
from pathlib import Path
from typing import TextIO

from bot.format import SEPARATOR, answer_text, sources_text
from bot.messages import reader_language, skipped_notice
from index.conversation.followup import Conversations
from index.core.errors import BadQuestionError
from index.core.language import ENGLISH
from index.service import QAService
from index.service.watch import UNCHANGED, Update, Watcher

HELP = """Type a question about the articles and press Enter.
Commands:
  /sources  list the articles I answer from
  /help     show this help
  /quit     leave (Ctrl-D works too)"""


def run_console(
    service: QAService, stdin: TextIO | None = None, stdout: TextIO | None = None, *, history: Path | None = None
) -> int:
    """Answer questions until /quit or end of input; interactive only when both ends are terminals.

    With WATCH (the default), changes to the articles are picked up while it runs; an interactive console says
    so before the next answer."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    notices: queue.SimpleQueue[str] = queue.SimpleQueue()

    def on_update(update: Update) -> None:
        if update.message != UNCHANGED:
            notices.put(update.message)
        if update.skipped:
            notices.put(skipped_notice(update.skipped, ENGLISH))

    watcher = Watcher(service, on_update).start() if service.settings.watch else None
    try:
        return _loop(service, stdin, stdout, history, notices if stdin.isatty() and stdout.isatty() else None)
    finally:
        if watcher is not None:
            watcher.stop()


def _loop(service: QAService, stdin: TextIO, stdout: TextIO, history: Path | None, notices: queue.SimpleQueue[str] | None) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    conversation = Conversations(service.settings.followup_seconds)
    if interactive:
        if history is not None:
            _enable_history(history)
        docs = service.sources()
        print(
            f"Ask me about {len(docs)} article{'s' if len(docs) != 1 else ''} "
            f"({service.data.manifest.sentence_count} sentences). /help for commands, /quit to leave.",
            file=stdout,
        )
    while True:
        try:
            line = input("question> ") if interactive else stdin.readline()
        except EOFError:
            print(file=stdout)
            return 0
        except KeyboardInterrupt:
            print(file=stdout)
            continue
        if not interactive and line == "":
            return 0
        while notices is not None and not notices.empty():
            print(f"({notices.get()})", file=stdout)
        reply = respond(service, line, conversation)
        if reply is None:
            return 0
        if reply:
            # Piped: a line between answers, since there is no prompt to tell them apart.
            print(reply + ("\n" if interactive else f"\n{SEPARATOR}"), file=stdout, flush=True)


def respond(service: QAService, line: str, conversation: Conversations | None = None) -> str | None:
    """The reply to one console line; None means quit, "" means nothing to say. With a `conversation`, a short
    follow-up ("And when?") is read in the light of the previous question."""
    text = line.strip()
    if not text:
        return ""
    if text.startswith("/"):
        command = text.split()[0].lower()
        if command in {"/quit", "/exit", "/q"}:
            return None
        if command == "/help":
            return HELP
        if command == "/sources":
            return sources_text(service.sources())
        return f"Unknown command {command}; /help lists the commands."
    try:
        if conversation is None:
            return answer_text(service.answer(text))
        resolved = conversation.resolve("console", text)
        answer = service.answer(resolved.question, prefer=resolved.prefer)
        conversation.remember("console", resolved.question, answer)
        return answer_text(answer, reader_language(text))
    except BadQuestionError:
        return ""


def _enable_history(path: Path) -> None:
    """Line editing and a history kept between sessions, where readline exists."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: input() still works
        return
    import atexit
    import contextlib

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    atexit.register(save)
