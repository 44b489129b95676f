"""Logging: full tracebacks to the log file, one line per problem on the terminal."""

from __future__ import annotations

import logging
import sys

from bot.settings import LogSettings

# Libraries that are chatty at INFO; httpx also logs request URLs, and Bot API URLs contain the token.
QUIET = ("httpx", "httpcore", "sentence_transformers", "transformers", "urllib3", "filelock", "apscheduler")
# Libraries whose DEBUG and INFO records carry whole updates and requests: readers' ids, names and questions.
# Whatever LOG_LEVEL says, only their warnings are logged (the level is set, and `NoPayloads` drops the rest).
PAYLOADS = ("telegram", "httpx", "httpcore", "apscheduler", "tenacity")


class NoPayloads(logging.Filter):
    """Readers' data never reaches a log through the libraries in PAYLOADS: their records below WARNING are
    dropped, and the arguments of the rest withheld (python-telegram-bot logs "Received data was %r", the raw
    update, when one cannot be parsed). The message and the traceback stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not any(record.name == name or record.name.startswith(name + ".") for name in PAYLOADS):
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.args:
            record.msg, record.args = f"{record.msg} [arguments withheld: they may hold readers' data]", None
        return True


class Redact(logging.Filter):
    """Replace secrets (the bot token, the webhook secret) wherever they would appear: message, arguments, traceback."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "[REDACTED]")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
        record.msg, record.args = message, None
        return True


class _NoTraceback(logging.Formatter):
    """A terminal formatter: tracebacks belong in the log file, not in front of a user."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


class _LogFile(logging.FileHandler):
    """The log file; if writing fails (a full disk, /dev/full), say so once and stop, instead of a traceback per record."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        error = sys.exc_info()[1]
        reason = getattr(error, "strerror", None) or type(error).__name__
        logging.getLogger().removeHandler(self)
        print(
            f"eventbot: cannot write the log file {self.baseFilename} ({reason}); logging to the terminal only", file=sys.stderr
        )


def redact(secret: str) -> None:
    """Redact one more secret from every handler set up by `setup_logging` (one made up after it ran)."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, Redact) and secret and secret not in found.secrets:
                found.secrets.append(secret)


def setup_logging(settings: LogSettings, secrets: list[str]) -> None:
    """Configure the root logger once per process; `secrets` are redacted from every record."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(settings.log_level)
    terminal.setFormatter(_NoTraceback("%(levelname)s %(name)s: %(message)s"))
    redact = Redact(secrets)
    terminal.addFilter(NoPayloads())
    terminal.addFilter(redact)
    root.addHandler(terminal)
    if settings.log_file is not None:
        try:
            settings.log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = _LogFile(settings.log_file, encoding="utf-8")
        except OSError as exc:
            print(
                f"eventbot: cannot write the log file {settings.log_file} ({exc.strerror}); logging to the terminal only",
                file=sys.stderr,
            )
        else:
            handler.setLevel(min(logging.INFO, logging.getLevelName(settings.log_level)))
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler.addFilter(NoPayloads())
            handler.addFilter(redact)
            root.addHandler(handler)
    for name in QUIET + PAYLOADS:
        logging.getLogger(name).setLevel(logging.WARNING)
