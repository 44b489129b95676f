"""Follow-up questions: "And how many were delivered?" read in the light of the question before it.

In a chat, a short question that leans on the previous one (it opens with "and", "what about", "so"; it points
back with "it", "that", "they", "그건"; or it is only a question word, "When?") is searched together with what
the previous question was about (its names and content words) and, for "who said that?", the sentence the bot
quoted. A question that stands on its own is left exactly as it is. Turns are kept per chat, in memory, for
`followup_seconds` (FOLLOWUP_SECONDS); no language model rewrites anything: the reader's words are only joined.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from index.core.language import has_hangul
from index.core.records import Answer

log = logging.getLogger(__name__)

# At most this many words (Korean: eojeol) for a question to lean on the one before it.
SHORT_WORDS = 7
_OPENERS = re.compile(r"^\s*(and|but|also|so|then|what about|how about|plus|what else)\b", re.I)
_POINTERS = re.compile(r"\b(it|its|it's|that|this|these|those|they|them|their|he|she|his|her|him|there|the same)\b", re.I)
_ONLY_ASKING = re.compile(r"^\s*(who|what|when|where|why|how( many| much| long)?|which( one)?)\s*(else)?\s*\??\s*$", re.I)
_KO_POINTERS = re.compile(r"(그건|그거|그게|그것|그럼|그러면|그때|그 때|거기|그분|그 사람|그들|이건|저건|그리고|그래서|또)")
# "What about the KF-21?": the same question about another subject.
_COMPARING = re.compile(r"^\s*(and\s+)?(what|how) about\b", re.I)
# A name or a model number after the first word: the question says what it is about.
_NAMED = re.compile(r"\b[A-Z][\w'’-]*|\b[\w-]*\d[\w-]*")
_KO_ASKING = re.compile(r"^\s*(얼마|언제|어디|누구|누가|몇|왜|어떻게|무슨|뭐)")
_SAID = re.compile(r"\b(said|say|says|announced|told)\b|말했|발언", re.I)
# Words of the previous question that carry its subject: names, numbers, and longer content words.
_SUBJECT = re.compile(r"[A-Z][\w'’.-]*|[\w-]*\d[\w-]*|[가-힣]{2,}|[a-z]{4,}")
_FUNCTION = frozenset(
    {"what", "when", "where", "which", "whose", "much", "many", "does", "did", "will", "would", "could", "should",
     "about", "with", "from", "that", "this", "there", "their", "have", "been", "were", "into", "after", "before",
     "How", "What", "When", "Where", "Who", "Which", "Why", "Is", "Are", "Was", "Were", "Did", "Does", "Do", "The"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Turn:
    question: str  # as searched (already resolved)
    quoted: str  # the first sentence the bot showed, "" when it declined
    at: float
    doc_id: str | None = None  # the article it quoted


@dataclass(frozen=True, slots=True)
class Resolved:
    """What to search with: the question (joined with the previous turn's subject, for a follow-up) and the
    article to lean towards (the one the previous answer quoted)."""

    question: str
    prefer: str | None = None


def leans_on_previous(question: str) -> bool:
    """Whether a question is a follow-up: short, and pointing back or cut short."""
    words = question.split()
    if not words or len(words) > SHORT_WORDS:
        return False
    if has_hangul(question):
        # "그건 얼마예요?", "몇 대야?"; not "한화오션 매출은?", which names its own subject.
        return bool(_KO_POINTERS.search(question) or (len(words) <= 2 and _KO_ASKING.match(question)))
    if _COMPARING.search(question):  # "What about the KF-21?": the previous question, about another subject
        return True
    if _NAMED.search(" ".join(words[1:])):  # "Is there a KF-21 export deal?" names its own subject
        return False
    return bool(len(words) <= 3 or _POINTERS.search(question) or _OPENERS.search(question) or _ONLY_ASKING.match(question))


def resolve(question: str, previous: Turn | None) -> str:
    """The question to search with: unchanged, or joined with what the previous turn was about."""
    if previous is None or not leans_on_previous(question):
        return question
    subject = [w for w in _SUBJECT.findall(previous.question) if w not in _FUNCTION]
    words = [w for w in dict.fromkeys(subject) if w.lower() not in question.lower()]
    joined = f"{question} {' '.join(words)}".strip()
    if previous.quoted and _SAID.search(question):
        joined = f"{joined} {previous.quoted}"
    return joined


def _resolved(question: str, turn: Turn | None) -> Resolved:
    searched = resolve(question, turn)
    return Resolved(searched, turn.doc_id if turn is not None and searched != question else None)


class TurnStore(Protocol):
    """Where turns are shared (the question log): every replica of a bot reads the chat's last turn there."""

    def last_turn(self, chat: object, newer_than: float) -> Turn | None: ...
    def save_turn(self, chat: object, asker: object, turn: Turn) -> None: ...


class Conversations:
    """The last turn of each chat, forgotten after `seconds`; safe to share between threads.

    With a `store` (the question log) turns are kept there (wall-clock times), so a follow-up works whichever
    replica it reaches and after a restart; when the store fails, the turn this process remembers is used."""

    def __init__(self, seconds: float, clock: Callable[[], float] | None = None, store: TurnStore | None = None) -> None:
        self.seconds = seconds
        self.store = store
        self.clock = clock or (time.time if store is not None else time.monotonic)
        self._turns: dict[object, Turn] = {}
        self._lock = threading.Lock()

    def resolve(self, chat: object, question: str) -> Resolved:
        turn = None
        if self.store is not None:
            try:
                turn = self.store.last_turn(chat, self.clock() - self.seconds)
            except Exception:  # the log is a help: without it, this process's memory
                log.warning("could not read the chat's previous question from the log", exc_info=True)
                turn = self._remembered(chat)
        else:
            turn = self._remembered(chat)
        return _resolved(question, turn)

    def resolve_here(self, chat: object, question: str) -> Resolved:
        """`resolve` from what this process remembers alone (when the store is too slow to wait for)."""
        return _resolved(question, self._remembered(chat))

    def _remembered(self, chat: object) -> Turn | None:
        with self._lock:
            turn = self._turns.get(chat)
            if turn is not None and self.clock() - turn.at > self.seconds:
                del self._turns[chat]
                turn = None
        return turn

    def remember(self, chat: object, searched: str, answer: Answer, asker: object = None) -> None:
        first = answer.presented[0] if answer.presented else None
        quoted = first.sentence.text if first is not None else ""
        turn = Turn(searched, quoted, self.clock(), first.document.doc_id if first is not None else None)
        with self._lock:
            if len(self._turns) > 100_000:  # a bound on memory: the oldest half goes
                for key in list(self._turns)[: len(self._turns) // 2]:
                    del self._turns[key]
            self._turns[chat] = turn
        if self.store is not None:
            try:
                self.store.save_turn(chat, chat if asker is None else asker, turn)
            except Exception:
                log.warning("could not keep the chat's question in the log", exc_info=True)
