"""What readers asked and what they thought of the answers, for editors: an embedded SQLite database.

Every question is recorded with its outcome (answered, the closest the articles come, or declined; the article,
paragraph and sentence quoted first; the confidence) and any 👍 / 👎. What identifies a person is kept only as a
salted hash (the salt is random, per installation, kept beside the database), no other chat's messages are
stored, rows older than the retention period are deleted, and QUESTION_LOG=false records nothing at all.

The schema is versioned (`meta.schema_version`) and migrated forward when an older database is opened. Writes
are single transactions in WAL mode, so a process killed mid-write (SIGTERM, SIGKILL) leaves the last committed
state; front ends call it from a worker thread, never on the event loop.

The files (database, -wal, -shm, salt) are readable by their owner only. Deleted rows are overwritten
(`secure_delete`), and `forget` also empties the write-ahead log, so a forgotten question is gone from the disk.
Another process holding the database locked costs a write at most `BUSY_SECONDS`: the write fails
(sqlite3.OperationalError) and the caller answers without it, rather than wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from index.conversation.followup import Turn
from index.core.errors import JournalDamagedError, JournalError
from index.core.records import Answer

if TYPE_CHECKING:
    from index.core.settings import Settings

SCHEMA_VERSION = 3
_MIGRATIONS = {
    1: """
        CREATE TABLE questions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            chat TEXT NOT NULL,
            asker TEXT NOT NULL,
            question TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'closest', 'declined')),
            doc_id TEXT, title TEXT, paragraph INTEGER, sentence INTEGER, confidence REAL,
            shown INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX questions_at ON questions (at);
        CREATE TABLE feedback (
            question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
            asker TEXT NOT NULL,
            verdict INTEGER NOT NULL CHECK (verdict IN (-1, 1)),
            at REAL NOT NULL,
            PRIMARY KEY (question_id, asker)
        );
    """,
    # Where each answer with buttons went (chat as a pseudonym, message id): a press is honoured only there.
    2: """
        CREATE TABLE buttons (
            chat TEXT NOT NULL,
            message INTEGER NOT NULL,
            question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
            PRIMARY KEY (chat, message)
        );
        CREATE INDEX buttons_question ON buttons (question_id);
        INSERT INTO meta VALUES ('buttons_from', (SELECT COALESCE(MAX(id), 0) + 1 FROM questions));
    """,
    # Each chat's last question, for follow-ups (in the log, so that they survive a restart and, on PostgreSQL,
    # reach whichever replica gets the next message).
    3: """
        CREATE TABLE turns (
            chat TEXT PRIMARY KEY,
            asker TEXT NOT NULL,
            question TEXT NOT NULL,
            quoted TEXT NOT NULL,
            doc_id TEXT,
            at REAL NOT NULL
        );
        CREATE INDEX turns_at ON turns (at);
    """,
}
DAY = 86_400.0
# Old questions are deleted when the log is opened and then at most this often (seconds), as questions arrive.
PURGE_EVERY = 3_600.0
# How long a write waits for another process's lock before giving up (the answer does not wait for the log).
BUSY_SECONDS = 0.25
# What the files may be: readable and writable by their owner only.
PRIVATE = 0o600
# Text read back from the log is cut at this many characters: a hostile row (10 MB of text) changes nothing.
MAX_TEXT = 4_000


class LogFailure(Exception):
    """A call to the PostgreSQL log failed (server gone, timeout); `FAILURES` names what either backend raises."""


FAILURES: tuple[type[Exception], ...] = (sqlite3.Error, LogFailure)


def clean_text(text: str | None) -> str | None:
    """Text as the log stores it: NUL (which PostgreSQL refuses) becomes U+FFFD."""
    return text.replace("\x00", "\ufffd") if text is not None else None


@dataclass(frozen=True, slots=True)
class Asked:
    """One recorded question, as the buttons under its answer need it."""

    id: int
    question: str
    shown: int


@dataclass
class Report:
    """What an editor reads: unanswered questions (near-duplicates grouped), answers marked 👎, articles cited."""

    since: float
    questions: int
    unanswered: list[tuple[str, int]] = field(default_factory=list)  # (question, times asked with its near-duplicates)
    disliked: list[tuple[str, str, int, int]] = field(default_factory=list)  # (question, article, paragraph, 👎)
    articles: list[tuple[str, int]] = field(default_factory=list)  # (article title, answers citing it)


class QuestionLog(Protocol):
    """What the front ends use of the question log, on SQLite (`Journal`) or PostgreSQL (`journal_pg`)."""

    @property
    def path(self) -> Path | str: ...  # what messages name: the file, or the database URL without its password

    def pseudonym(self, identity: int | str) -> str: ...
    def record(self, answer: Answer, *, chat: int | str, asker: int | str, shown: int) -> int: ...
    def asked(self, question_id: int) -> Asked | None: ...
    def sent(self, question_id: int, *, chat: int | str, message: int) -> None: ...
    def button(self, question_id: int, *, chat: int | str, message: int) -> Asked | None: ...
    def feedback(self, question_id: int, asker: int | str, verdict: int) -> bool: ...
    def purge(self, now: float | None = None) -> int: ...
    def forget(self, asker: int | str) -> int: ...
    def report(self, since: float = 0.0, top: int = 10) -> Report: ...
    def last_turn(self, chat: object, newer_than: float) -> Turn | None: ...
    def save_turn(self, chat: object, asker: object, turn: Turn) -> None: ...
    def close(self) -> None: ...


class Journal:
    """The question log in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path, *, retention_days: float = 90.0, busy_seconds: float = BUSY_SECONDS) -> None:
        self.path = path
        self.retention = retention_days * DAY
        path.parent.mkdir(parents=True, exist_ok=True)
        self._salt = _salt(path.with_name(path.name + ".salt"))
        self._lock = threading.Lock()
        _private(path)  # SQLite gives the -wal and -shm files the database file's mode
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_seconds)
        try:
            self._db.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            for companion in ("-wal", "-shm"):
                _private(path.with_name(path.name + companion), create=False)
        except BaseException:
            self._db.close()
            raise
        self._purged = 0.0
        self._purge_when_due()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"{self.path} was written by a newer eventbot (schema {version})")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(_MIGRATIONS[step]):
                        self._db.execute(statement)
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(step),))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def pseudonym(self, identity: int | str) -> str:
        """A salted hash standing for a person or chat: stable here, meaningless anywhere else."""
        return hashlib.sha256(self._salt + str(identity).encode("utf-8")).hexdigest()[:32]

    def record(self, answer: Answer, *, chat: int | str, asker: int | str, shown: int) -> int:
        """Store one question and its outcome; returns its id (for the buttons under the answer)."""
        first = answer.presented[0] if answer.presented else (answer.hits[0] if answer.hits else None)
        outcome = "answered" if answer.answered else "closest" if answer.closest else "declined"
        row = (
            time.time(), self.pseudonym(chat), self.pseudonym(asker), clean_text(answer.question), outcome,
            *((first.document.doc_id, first.document.title, first.sentence.paragraph, first.sentence.sentence,
               first.confidence) if first is not None else (None, None, None, None, None)),
            shown,
        )  # fmt: skip
        self._purge_when_due()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO questions (at, chat, asker, question, outcome, doc_id, title, paragraph, sentence,"
                " confidence, shown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid or 0)

    def asked(self, question_id: int) -> Asked | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, substr(question, 1, ?), shown FROM questions WHERE id = ?", (MAX_TEXT, question_id)
            ).fetchone()
        return Asked(int(row[0]), str(row[1]), int(row[2])) if row else None

    def sent(self, question_id: int, *, chat: int | str, message: int) -> None:
        """The answer to `question_id`, with its buttons, went to `message` in `chat`: its buttons work there only."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO buttons (chat, message, question_id) VALUES (?, ?, ?)",
                (self.pseudonym(chat), message, question_id),
            )

    def button(self, question_id: int, *, chat: int | str, message: int) -> Asked | None:
        """The question whose answer is `message` in `chat` (see `sent`), or None when that message holds no answer
        in the log; a caller honours a press only when its id is `question_id`. Answers logged before their messages
        were (schema 1) count as under any message of their own chat."""
        who = self.pseudonym(chat)
        with self._lock:
            row = (
                self._db.execute(
                    "SELECT q.id, substr(q.question, 1, ?), q.shown FROM buttons b JOIN questions q ON q.id = b.question_id"
                    " WHERE b.chat = ? AND b.message = ?",
                    (MAX_TEXT, who, message),
                ).fetchone()
                or self._db.execute(
                    "SELECT id, substr(question, 1, ?), shown FROM questions WHERE id = ? AND chat = ?"
                    " AND id < (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'buttons_from')",
                    (MAX_TEXT, question_id, who),
                ).fetchone()
            )
        return Asked(int(row[0]), str(row[1]), int(row[2])) if row else None

    def feedback(self, question_id: int, asker: int | str, verdict: int) -> bool:
        """Record 👍 (1) or 👎 (-1) once per person and answer (a second press replaces the first); False when
        the question is not in the log (deleted by retention, or the log was off)."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is None:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO feedback (question_id, asker, verdict, at) VALUES (?, ?, ?, ?)",
                (question_id, self.pseudonym(asker), 1 if verdict > 0 else -1, time.time()),
            )
            return True

    def purge(self, now: float | None = None) -> int:
        """Delete what is older than the retention period; returns how many questions went."""
        cutoff = (now or time.time()) - self.retention
        with self._lock:
            removed = self._db.execute("DELETE FROM questions WHERE at < ?", (cutoff,)).rowcount
            self._db.execute("DELETE FROM turns WHERE at < ?", (cutoff,))
        self._purged = time.time()
        return removed

    def _purge_when_due(self) -> None:
        if time.time() - self._purged > PURGE_EVERY:
            with contextlib.suppress(sqlite3.OperationalError):  # the log is busy: the next question tries again
                self.purge()

    def forget(self, asker: int | str) -> int:
        """Delete everything one person asked or pressed (their right to be forgotten), from the disk too: the
        rows are overwritten (secure_delete), the write-ahead log copied back and emptied, the file compacted.
        JournalError when another process keeps the deleted rows in the write-ahead log (the rows are gone from
        the database all the same); sqlite3.OperationalError when it holds the log locked."""
        who = self.pseudonym(asker)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM feedback WHERE asker = ?", (who,))
                self._db.execute("DELETE FROM turns WHERE asker = ? OR chat = ?", (who, who))
                removed = self._db.execute("DELETE FROM questions WHERE asker = ?", (who,)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._scrub()
            return removed

    def _scrub(self) -> None:
        """Leave no deleted row readable on the disk: compact the file (which also clears free pages left by
        deletes before secure_delete was on) and empty the write-ahead log."""
        self._db.execute("VACUUM")
        busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy is not None and busy[0]:
            raise JournalError(
                f"the questions were deleted from {self.path}, but another process is reading it, so they may"
                " linger on the disk: run forget again when the bot is idle"
            )

    def report(self, since: float = 0.0, top: int = 10) -> Report:
        with self._lock:
            rows = self._db.execute(
                "SELECT substr(question, 1, ?), outcome, substr(title, 1, ?) FROM questions WHERE at >= ?",
                (MAX_TEXT, MAX_TEXT, since),
            ).fetchall()
            disliked = self._db.execute(
                "SELECT substr(q.question, 1, ?), substr(q.title, 1, ?), q.paragraph, COUNT(*) FROM feedback f"
                " JOIN questions q ON q.id = f.question_id"
                " WHERE f.verdict = -1 AND q.at >= ? GROUP BY q.id ORDER BY COUNT(*) DESC, q.at DESC LIMIT ?",
                (MAX_TEXT, MAX_TEXT, since, top),
            ).fetchall()
        return assemble_report(since, top, rows, disliked)

    def last_turn(self, chat: object, newer_than: float) -> Turn | None:
        """The chat's last question (as searched), if it was asked at `newer_than` (wall clock) or later."""
        with self._lock:
            row = self._db.execute(
                "SELECT substr(question, 1, ?), substr(quoted, 1, ?), at, doc_id FROM turns WHERE chat = ? AND at >= ?",
                (MAX_TEXT, MAX_TEXT, self.pseudonym(str(chat)), newer_than),
            ).fetchone()
        return Turn(str(row[0]), str(row[1]), float(row[2]), row[3]) if row else None

    def save_turn(self, chat: object, asker: object, turn: Turn) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO turns (chat, asker, question, quoted, doc_id, at) VALUES (?, ?, ?, ?, ?, ?)",
                (self.pseudonym(str(chat)), self.pseudonym(str(asker)), clean_text(turn.question),
                 clean_text(turn.quoted), turn.doc_id, turn.at),
            )  # fmt: skip


def assemble_report(since: float, top: int, rows: Sequence[Sequence[Any]], disliked: Sequence[Sequence[Any]]) -> Report:
    """The report from either backend's rows: (question, outcome, title) per question asked since `since`, and
    (question, title, paragraph, 👎 count) per disliked answer."""
    report = Report(since, len(rows))
    report.unanswered = _grouped([str(q) for q, outcome, _ in rows if outcome != "answered"])[:top]
    report.disliked = [(str(q), str(t), int(p or 0), int(n)) for q, t, p, n in disliked]
    report.articles = Counter(str(t) for _, outcome, t in rows if outcome == "answered" and t).most_common(top)
    return report


def open_log(settings: Settings) -> QuestionLog:
    """The question log the settings name: PostgreSQL when JOURNAL_URL is set, else the SQLite file beside the
    index. JournalError (one line) when it cannot be opened."""
    if settings.journal_url is not None:
        from index.conversation.journal_pg import open_postgres

        return open_postgres(settings.journal_url.get_secret_value(), retention_days=settings.question_log_days)
    return open_journal(settings.journal_path, retention_days=settings.question_log_days)


def open_journal(path: Path, *, retention_days: float = 90.0, busy_seconds: float = BUSY_SECONDS) -> Journal:
    """The question log at `path`; JournalDamagedError when the file is not a sound database, JournalError when
    it cannot be opened (permissions, a newer schema, another process holding it)."""
    try:
        return Journal(path, retention_days=retention_days, busy_seconds=busy_seconds)
    except (sqlite3.Error, OSError) as exc:
        raise problem(path, exc) from None


def problem(path: Path | str, exc: Exception) -> JournalError:
    """The one-line error for a failure of the question log at `path`: damaged, or unusable."""
    if isinstance(exc, LogFailure):
        return JournalError(f"the question log at {path} cannot be used: {exc}")
    if isinstance(exc, OSError):
        return JournalError(f"the question log at {path} cannot be used: {exc.strerror or type(exc).__name__}")
    if getattr(exc, "sqlite_errorname", None) in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
        return JournalDamagedError(f"the question log at {path} is damaged: {exc}")
    return JournalError(f"the question log at {path} cannot be used: {exc}")


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _salt(path: Path) -> bytes:
    """The installation's random salt, made once (readable by its owner only); an empty or unreadable one is
    replaced. Two processes making it at once agree on one: the second reads the first's."""
    try:
        salt = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        salt, missing = b"", True
    except (OSError, ValueError):
        salt, missing = b"", False
    else:
        missing = False
    if len(salt) >= 16:
        _private(path, create=False)
        return salt
    salt = secrets.token_bytes(16)
    made = path.with_name(f"{path.name}.{secrets.token_hex(4)}.new")
    with os.fdopen(os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE), "w", encoding="ascii") as file:
        file.write(salt.hex())  # never readable by others, not even for a moment
    try:
        if missing:
            os.link(made, path)  # fails if another process made one meanwhile
        else:
            os.replace(made, path)
    except FileExistsError:
        return _salt(path)
    finally:
        made.unlink(missing_ok=True)
    return salt


def _private(path: Path, *, create: bool = True) -> None:
    """Make `path` (created empty when missing and `create`) readable and writable by its owner only."""
    if create:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    try:
        if path.stat().st_mode & 0o777 != PRIVATE:
            path.chmod(PRIVATE)  # a log written by an older version, world-readable
    except FileNotFoundError:
        pass


_TOKEN = re.compile(r"\w+")
_SAME = 0.6  # Jaccard similarity at which two questions count as one


def _grouped(questions: list[str]) -> list[tuple[str, int]]:
    """Questions counted with their near-duplicates (the same words, mostly: Jaccard ≥ 0.6), most asked first;
    each group is shown as its most frequent wording.

    Linear in the questions, not quadratic: two word sets with Jaccard ≥ 0.6 share at least 0.6 of the larger
    one, so they share one of each set's rarest few words (prefix filtering); a question is compared only
    with the groups that hold one of those."""
    word_sets = [frozenset(_TOKEN.findall(question.lower())) for question in questions]
    frequency = Counter(word for words in word_sets for word in words)
    groups: list[tuple[frozenset[str], Counter[str]]] = []
    by_word: dict[str, list[int]] = {}
    for question, words in zip(questions, word_sets, strict=True):
        rarest = sorted(words, key=lambda word: (frequency[word], word))
        prefix = rarest[: len(words) - math.ceil(_SAME * len(words)) + 1]  # empty for a question with no words
        matches = [
            g for word in prefix for g in by_word.get(word, ()) if len(words & groups[g][0]) / len(words | groups[g][0]) >= _SAME
        ]
        if matches:
            found = min(matches)  # the earliest group, as a scan in order would find
        else:
            found = len(groups)
            groups.append((words, Counter()))
            for word in prefix:
                by_word.setdefault(word, []).append(found)
        groups[found][1][question] += 1
    ranked = [(wordings.most_common(1)[0][0], sum(wordings.values())) for _, wordings in groups]
    return sorted(ranked, key=lambda item: -item[1])
