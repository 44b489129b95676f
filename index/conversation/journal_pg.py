"""The question log on PostgreSQL (JOURNAL_URL=postgresql://…), for several bot replicas sharing one log.

The same schema, behaviour and interface as the SQLite log (`journal.Journal`): outcomes, feedback once per person
and answer, buttons bound to chat and message, follow-up turns, retention, forget, the report. What differs is
what replicas need: ids come from one sequence; the salt behind the pseudonyms lives in the database (`meta`), made
by whichever replica starts first, so every replica hashes a person alike; each chat's last turn is a row, so a
follow-up reaches whichever replica gets it.

Driver: psycopg 3 with psycopg_pool (a maintained driver and its pool; SQLAlchemy Core would add a layer over the
same driver for ten statements). Every call takes a connection from the pool for at most `wait_seconds` and runs
under a statement timeout, so a lost server costs an answer at most that long; a failure is a `LogFailure`. The
schema is versioned (`meta.schema_version`) and created on first start under an advisory lock (replicas starting
together create it once). Text from the database is read back bounded (`MAX_TEXT`): a hostile row changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from index.conversation.followup import Turn
from index.conversation.journal import DAY, MAX_TEXT, PURGE_EVERY, Asked, LogFailure, Report, assemble_report, clean_text
from index.core.errors import JournalError
from index.core.records import Answer

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
_LOCK_KEY = 7_201_520  # pg_advisory_xact_lock key: one replica migrates at a time
_MIGRATIONS = {
    1: """
        CREATE TABLE questions (
            id BIGSERIAL PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL,
            chat TEXT NOT NULL,
            asker TEXT NOT NULL,
            question TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'closest', 'declined')),
            doc_id TEXT, title TEXT, paragraph INTEGER, sentence INTEGER, confidence DOUBLE PRECISION,
            shown INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX questions_at ON questions (at);
        CREATE INDEX questions_asker ON questions (asker);
        CREATE TABLE feedback (
            question_id BIGINT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
            asker TEXT NOT NULL,
            verdict INTEGER NOT NULL CHECK (verdict IN (-1, 1)),
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (question_id, asker)
        );
        CREATE INDEX feedback_asker ON feedback (asker)
    """,
    2: """
        CREATE TABLE buttons (
            chat TEXT NOT NULL,
            message BIGINT NOT NULL,
            question_id BIGINT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
            PRIMARY KEY (chat, message)
        );
        CREATE INDEX buttons_question ON buttons (question_id)
    """,
    3: """
        CREATE TABLE turns (
            chat TEXT PRIMARY KEY,
            asker TEXT NOT NULL,
            question TEXT NOT NULL,
            quoted TEXT NOT NULL,
            doc_id TEXT,
            at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX turns_at ON turns (at)
    """,
}
# How long a call waits for a pooled connection, and how long a statement may run (seconds).
WAIT_SECONDS = 0.25
STATEMENT_MS = 2_000


def redacted(url: str) -> str:
    """The URL as it may be shown or logged: without its password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "postgresql://…"


class PostgresJournal:
    """The question log in a PostgreSQL database; safe to share between threads and between processes."""

    def __init__(self, url: str, *, retention_days: float = 90.0, wait_seconds: float = WAIT_SECONDS, pool_size: int = 4) -> None:
        from psycopg_pool import ConnectionPool

        self.path = redacted(url)  # what messages name (never the password)
        self.retention = retention_days * DAY
        self.wait = wait_seconds
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=wait_seconds,
            kwargs={"autocommit": True, "connect_timeout": 3, "options": f"-c statement_timeout={STATEMENT_MS}"},
            open=False,
            name="eventbot-journal",
        )
        try:
            _reachable(url)  # at once, with the server's own reason, rather than after the pool's retries
            self._pool.open(wait=True, timeout=5.0)
            self._migrate()
            self._salt = self._load_salt()
        except BaseException:
            self._pool.close()
            raise
        self._purged = 0.0
        self._purge_when_due()

    def close(self) -> None:
        self._pool.close()

    @contextlib.contextmanager
    def _connection(self, wait: float | None = None) -> Iterator[Any]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection(timeout=self.wait if wait is None else wait) as connection:
                yield connection
        except (psycopg.Error, PoolTimeout) as exc:
            log.debug("question log call failed", exc_info=True)
            raise LogFailure(f"{type(exc).__name__}: {_first_line(exc)}") from None

    def _migrate(self) -> None:
        with self._connection(wait=5.0) as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise LogFailure(f"the database was written by a newer eventbot (schema {version})")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (str(step),),
                )

    def _load_salt(self) -> bytes:
        with self._connection(wait=5.0) as db:
            db.execute("INSERT INTO meta VALUES ('salt', %s) ON CONFLICT (key) DO NOTHING", (secrets.token_hex(16),))
            (value,) = db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        return bytes.fromhex(str(value))

    def pseudonym(self, identity: int | str) -> str:
        return hashlib.sha256(self._salt + str(identity).encode("utf-8")).hexdigest()[:32]

    def record(self, answer: Answer, *, chat: int | str, asker: int | str, shown: int) -> int:
        first = answer.presented[0] if answer.presented else (answer.hits[0] if answer.hits else None)
        outcome = "answered" if answer.answered else "closest" if answer.closest else "declined"
        row = (
            time.time(), self.pseudonym(chat), self.pseudonym(asker), clean_text(answer.question), outcome,
            *((clean_text(first.document.doc_id), clean_text(first.document.title), first.sentence.paragraph,
               first.sentence.sentence, first.confidence) if first is not None else (None, None, None, None, None)),
            shown,
        )  # fmt: skip
        self._purge_when_due()
        with self._connection() as db:
            (number,) = db.execute(
                "INSERT INTO questions (at, chat, asker, question, outcome, doc_id, title, paragraph, sentence,"
                " confidence, shown) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                row,
            ).fetchone()
        return int(number)

    def asked(self, question_id: int) -> Asked | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT id, LEFT(question, %s), shown FROM questions WHERE id = %s", (MAX_TEXT, question_id)
            ).fetchone()
        return Asked(int(row[0]), str(row[1]), int(row[2])) if row else None

    def sent(self, question_id: int, *, chat: int | str, message: int) -> None:
        with self._connection() as db:
            db.execute(
                "INSERT INTO buttons (chat, message, question_id) VALUES (%s, %s, %s)"
                " ON CONFLICT (chat, message) DO UPDATE SET question_id = EXCLUDED.question_id",
                (self.pseudonym(chat), message, question_id),
            )

    def button(self, question_id: int, *, chat: int | str, message: int) -> Asked | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT q.id, LEFT(q.question, %s), q.shown FROM buttons b JOIN questions q ON q.id = b.question_id"
                " WHERE b.chat = %s AND b.message = %s",
                (MAX_TEXT, self.pseudonym(chat), message),
            ).fetchone()
        return Asked(int(row[0]), str(row[1]), int(row[2])) if row else None

    def feedback(self, question_id: int, asker: int | str, verdict: int) -> bool:
        with self._connection() as db:
            done = db.execute(
                "INSERT INTO feedback (question_id, asker, verdict, at) SELECT id, %s, %s, %s FROM questions WHERE id = %s"
                " ON CONFLICT (question_id, asker) DO UPDATE SET verdict = EXCLUDED.verdict, at = EXCLUDED.at",
                (self.pseudonym(asker), 1 if verdict > 0 else -1, time.time(), question_id),
            )
            return done.rowcount > 0

    def purge(self, now: float | None = None) -> int:
        cutoff = (now or time.time()) - self.retention
        with self._connection() as db:
            removed = db.execute("DELETE FROM questions WHERE at < %s", (cutoff,)).rowcount
            db.execute("DELETE FROM turns WHERE at < %s", (cutoff,))
        self._purged = time.time()
        return int(removed)

    def _purge_when_due(self) -> None:
        if time.time() - self._purged > PURGE_EVERY:
            with contextlib.suppress(LogFailure):
                self.purge()

    def forget(self, asker: int | str) -> int:
        """Delete everything one person asked or pressed, and their chats' follow-up turns, in one transaction.
        (PostgreSQL reuses the space of deleted rows after VACUUM, which autovacuum runs.)"""
        who = self.pseudonym(asker)
        with self._connection(wait=5.0) as db, db.transaction():
            db.execute("DELETE FROM feedback WHERE asker = %s", (who,))
            db.execute("DELETE FROM turns WHERE asker = %s OR chat = %s", (who, who))
            removed = db.execute("DELETE FROM questions WHERE asker = %s", (who,)).rowcount
        return int(removed)

    def report(self, since: float = 0.0, top: int = 10) -> Report:
        with self._connection(wait=5.0) as db:
            rows = db.execute(
                "SELECT LEFT(question, %s), outcome, LEFT(title, %s) FROM questions WHERE at >= %s",
                (MAX_TEXT, MAX_TEXT, since),
            ).fetchall()
            disliked = db.execute(
                "SELECT LEFT(q.question, %s), LEFT(q.title, %s), q.paragraph, COUNT(*) FROM feedback f"
                " JOIN questions q ON q.id = f.question_id WHERE f.verdict = -1 AND q.at >= %s"
                " GROUP BY q.id ORDER BY COUNT(*) DESC, q.at DESC LIMIT %s",
                (MAX_TEXT, MAX_TEXT, since, top),
            ).fetchall()
        return assemble_report(since, top, rows, disliked)

    # --- follow-up turns shared by replicas -------------------------------------------------------

    def last_turn(self, chat: object, newer_than: float) -> Turn | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT LEFT(question, %s), LEFT(quoted, %s), at, doc_id FROM turns WHERE chat = %s AND at >= %s",
                (MAX_TEXT, MAX_TEXT, self.pseudonym(str(chat)), newer_than),
            ).fetchone()
        return Turn(str(row[0]), str(row[1]), float(row[2]), row[3]) if row else None

    def save_turn(self, chat: object, asker: object, turn: Turn) -> None:
        with self._connection() as db:
            db.execute(
                "INSERT INTO turns (chat, asker, question, quoted, doc_id, at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (chat) DO UPDATE SET asker = EXCLUDED.asker, question = EXCLUDED.question,"
                " quoted = EXCLUDED.quoted, doc_id = EXCLUDED.doc_id, at = EXCLUDED.at",
                (
                    self.pseudonym(str(chat)),
                    self.pseudonym(str(asker)),
                    clean_text(turn.question),
                    clean_text(turn.quoted),
                    turn.doc_id,
                    turn.at,
                ),
            )


def open_postgres(url: str, *, retention_days: float = 90.0) -> PostgresJournal:
    """The log at `url`; JournalError (one line, no password) when the server cannot be reached or used."""
    from psycopg_pool import PoolTimeout

    # The pool logs every failed connection attempt at WARNING; the one line below says it once.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    try:
        return PostgresJournal(url, retention_days=retention_days)
    except LogFailure as exc:
        raise JournalError(f"the question log at {redacted(url)} cannot be used: {exc}; check JOURNAL_URL") from None
    except PoolTimeout:
        log.debug("opening the question log failed", exc_info=True)
        raise JournalError(
            f"the question log at {redacted(url)} cannot be reached (no server answers there, or it refuses the user or"
            " password); check JOURNAL_URL and that PostgreSQL is running"
        ) from None
    except Exception as exc:
        log.debug("opening the question log failed", exc_info=True)
        raise JournalError(
            f"the question log at {redacted(url)} cannot be used: {type(exc).__name__}; check JOURNAL_URL"
        ) from None


def _reachable(url: str) -> None:
    """One connection, closed at once; LogFailure with the reason (refused, timed out, password, no database)."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise LogFailure(reason.removeprefix("connection failed: ")[:200]) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
