"""Domain errors: what went wrong and what fixes it, as data; front ends choose the words and exit codes."""

from __future__ import annotations

from enum import Enum


class Fix(Enum):
    """What an operator or user does about a failure; each front end words it in its own terms."""

    BUILD = "build the index"
    REBUILD = "rebuild the index"
    ADD_ARTICLES = "add articles to SEEDS_DIR"
    SETTING = "change the setting named in the message"
    ASK_AGAIN = "ask a question in words"
    INDEX_DIR = "free space in INDEX_DIR, make it writable, or point INDEX_DIR at another folder"
    JOURNAL_ASIDE = "move the damaged question log aside; a new one is started"


class EventBotError(Exception):
    """Base for every failure a user or operator can cause; `problem` is one line, `fix` says what mends it."""

    default_fix: Fix | None = None

    def __init__(self, problem: str, *, fix: Fix | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix or self.default_fix


class SettingsError(EventBotError):
    """A setting has an invalid value."""

    default_fix = Fix.SETTING


class NoDocumentsError(EventBotError):
    """The seeds folder holds no readable article."""

    default_fix = Fix.ADD_ARTICLES


class IndexMissingError(EventBotError):
    """No index has been built yet."""

    default_fix = Fix.BUILD


class IndexDamagedError(EventBotError):
    """The index on disk is unreadable, incomplete or built for another model."""

    default_fix = Fix.REBUILD


class IndexOutdatedError(IndexDamagedError):
    """The index was written by another version in another format; a build replaces it."""


class IndexWriteError(EventBotError):
    """The index could not be written (no space, read-only, a file in the way); the old one is untouched."""

    default_fix = Fix.INDEX_DIR


class ModelLoadError(EventBotError):
    """The embedding model could not be loaded."""

    default_fix = Fix.SETTING


class BadQuestionError(EventBotError):
    """The question is empty or blank."""

    default_fix = Fix.ASK_AGAIN


class FetchError(EventBotError):
    """A web page could not be added: unreachable, refused, too big, not HTML, or no article in it."""


class JournalError(EventBotError):
    """The question log cannot be used: the file cannot be opened, or another process keeps it busy."""


class JournalDamagedError(JournalError):
    """The question log's file is not a sound SQLite database (garbage bytes, a truncated copy)."""

    default_fix = Fix.JOURNAL_ASIDE
