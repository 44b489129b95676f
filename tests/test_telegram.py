"""The real bot, started the way `make run` starts it, against the Bot API double over real HTTP."""

from __future__ import annotations

import html
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.messages import say
from bot.telegram import _retryable, addressed_question
from index.conversation.journal import Journal
from index.core.records import Answer
from index.core.settings import Settings
from index.service import sources
from tests.botproc import TOKEN, Bot, answers_to, prepare_bot, reply_to
from tests.helpers import AIR_SHOW, BAD_INPUTS, CITATION, HYATT
from tests.telegram_double import (
    BOT,
    callback_update,
    document_update,
    html_problem,
    inline_update,
    plain,
    sticker_update,
    text_update,
)

APOLOGY = say("apology", "en")
ADMIN = 42
RATE_LIMIT = 6
# Chats and users the tests use; everything else is outside ALLOWED_CHAT_IDS.
ALLOWED = [*range(1000, 1100), *range(-1100, -1000), *range(2000, 2100)]


def _running(bot: Bot) -> Iterator[Bot]:
    """A module's bot, started, and stopped with its Bot API double afterwards."""
    try:
        bot.start()
        yield bot
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = prepare_bot(
        tmp_path_factory.mktemp("telegram"),
        ADMIN_USER_IDS=str(ADMIN),
        ALLOWED_CHAT_IDS=",".join(map(str, [*ALLOWED, ADMIN])),
        RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
    )
    yield from _running(bot)


def test_start_up_registers_commands_and_logs_counts(bot: Bot) -> None:
    (commands,) = bot.double.sent("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == ["start", "help", "sources", "ask"]
    assert "1 articles, 21 sentences" in bot.log_file.read_text()


def test_private_question_is_answered_with_sentence_and_citation(bot: Bot) -> None:
    message_id = bot.ask(1001, "Where was K-Defense Day held?")
    (reply,) = bot.replies(1001, message_id)
    assert HYATT in reply["text"] and CITATION in reply["text"]
    assert reply["parse_mode"] == "HTML" and html_problem(reply["text"]) is None
    assert bot.double.sent("sendChatAction", chat_id=1001, action="typing")


def test_off_topic_question_is_declined_plainly(bot: Bot) -> None:
    message_id = bot.ask(1002, "What is the capital of France?")
    (reply,) = bot.replies(1002, message_id)
    assert "do not answer" in reply["text"] and "/sources" in reply["text"]


def test_start_help_and_sources(bot: Bot) -> None:
    (start,) = bot.replies(1003, bot.ask(1003, "/start"))
    # The example question comes from the articles: the newest one's title.
    assert "1 news article" in start["text"] and "What is new in “President Lee vows" in start["text"]
    help_id = bot.ask(1003, "/help")
    help_text = bot.replies(1003, help_id)[-1]["text"]
    assert "/ask" in help_text and "@event_test_bot" in help_text
    sources_id = bot.ask(1003, "/sources")
    sources = bot.replies(1003, sources_id)[-1]["text"]
    assert "President Lee vows to make Korea a global defense industry powerhouse (2025-07-08, 21 sentences)" in sources


def test_ask_in_a_group_and_silence_otherwise(bot: Bot) -> None:
    group = -1001
    ignored = bot.ask(group, "Where was K-Defense Day held?", user_id=1004)
    asked = bot.ask(group, "/ask@event_test_bot What contract did South Korea sign to export K2 tanks to Poland?", user_id=1004)
    replies = bot.replies(group, asked)
    assert any("9 trillion won" in r["text"] for r in replies)
    time.sleep(0.5)
    assert not [m for m in bot.double.sent(chat_id=group) if reply_to(m) == ignored]


def test_group_mention_and_reply_to_the_bot_are_answered(bot: Bot) -> None:
    group = -1002
    mentioned = bot.ask(group, "@event_test_bot where was K-Defense Day held?", user_id=1005)
    assert HYATT in bot.replies(group, mentioned)[0]["text"]
    replied = bot.ask(group, "And which country bought the K-2 tanks?", user_id=1005, reply_to_bot=10_001)
    assert any("Poland" in r["text"] for r in bot.replies(group, replied) if reply_to(r) == replied)


def test_ask_without_a_question_gets_usage(bot: Bot) -> None:
    (reply,) = bot.replies(1006, bot.ask(1006, "/ask"))
    assert reply["text"].startswith("Usage: /ask QUESTION")


def test_sticker_gets_a_request_for_text(bot: Bot) -> None:
    message_id = next(bot.messages)
    bot.double.push(sticker_update(1007, 1007, message_id))
    (reply,) = bot.replies(1007, message_id)
    assert reply["text"] == "Please send your question as text."


def test_inline_query_offers_answers_with_citations(bot: Bot) -> None:
    bot.double.push(inline_update(1008, "inline-1", "Where was K-Defense Day held?"))
    (call,) = bot.double.wait_for(lambda: bot.double.sent("answerInlineQuery", inline_query_id="inline-1"))
    results = call["results"]
    assert HYATT in results[0]["title"] + results[0]["input_message_content"]["message_text"]
    assert results[0]["description"].startswith("[1] President Lee vows")
    assert html_problem(results[0]["input_message_content"]["message_text"]) is None


def test_reload_by_admin_and_by_a_stranger(bot: Bot) -> None:
    (refused,) = bot.replies(1009, bot.ask(1009, "/reload"))
    assert "not allowed" in refused["text"]
    (done,) = answers_to(bot, ADMIN, bot.ask(ADMIN, "/reload"))
    assert done["text"] == "Reloaded: 1 articles, 21 sentences."


def test_long_question_is_answered_within_telegram_limits(bot: Bot) -> None:
    question = ("Where was K-Defense Day held? " * 200)[:5000]
    replies = bot.replies(1010, bot.ask(1010, question))
    assert any(HYATT in r["text"] for r in replies)
    assert any("only its first" in r["text"] for r in replies)
    assert all(len(r["text"]) <= 4096 and html_problem(r["text"]) is None for r in replies)


@pytest.mark.parametrize("question", ["<b>Where</b> was K-Defense Day held? & </a>", "<script>alert(1)</script> & &amp; <<>>"])
def test_html_in_questions_never_breaks_a_reply(bot: Bot, question: str) -> None:
    replies = bot.replies(1011, bot.ask(1011, question))
    assert all(html_problem(r["text"]) is None for r in replies)
    failed = [
        c for c in bot.double.all_calls("sendMessage") if c.params.get("chat_id") == 1011 and "Sorry" in str(c.params.get("text"))
    ]
    assert not failed


def test_rate_limit_is_polite_and_says_so_once(bot: Bot) -> None:
    ids = [bot.ask(1012, f"Question {n} about the tanks for Poland?") for n in range(RATE_LIMIT + 5)]
    for message_id in ids[:RATE_LIMIT]:
        bot.replies(1012, message_id)
    bot.double.wait_for(lambda: any("faster than I can answer" in m["text"] for m in bot.double.sent(chat_id=1012)))
    time.sleep(0.5)
    texts = [m["text"] for m in bot.double.sent(chat_id=1012)]
    assert sum("faster than I can answer" in t for t in texts) == 1
    assert len(texts) == RATE_LIMIT + 1


def test_chat_outside_allowed_chats_gets_one_refusal(bot: Bot) -> None:
    stranger = 5555
    first = bot.ask(stranger, "Where was K-Defense Day held?")
    bot.replies(stranger, first)
    bot.ask(stranger, "And again?")
    time.sleep(1.0)
    (only,) = bot.double.sent(chat_id=stranger)
    assert only["text"] == "Sorry, this bot is not available in this chat."
    bot.double.push(inline_update(stranger, "inline-stranger", "Where was K-Defense Day held?"))
    (call,) = bot.double.wait_for(lambda: bot.double.sent("answerInlineQuery", inline_query_id="inline-stranger"))
    assert call["results"] == []


@pytest.mark.parametrize("fault", ["429", "500", "502", "drop"])
def test_send_faults_are_retried_and_the_answer_goes_out_once(bot: Bot, fault: str) -> None:
    chat = 1020 + ["429", "500", "502", "drop"].index(fault)
    bot.double.fail_next("sendMessage", fault)
    (reply,) = bot.replies(chat, bot.ask(chat, "Where was K-Defense Day held?"))
    assert HYATT in reply["text"]
    attempts = [c for c in bot.double.all_calls("sendMessage") if c.params.get("chat_id") == chat]
    assert len(attempts) == 2 and not attempts[0].delivered and attempts[1].delivered


@pytest.mark.parametrize("fault", ["slow", "badjson"])
def test_ambiguous_send_failures_are_not_repeated(bot: Bot, fault: str) -> None:
    """A time-out or an unreadable answer may hide a delivered message: sending again could duplicate it."""
    chat = 1030 + ["slow", "badjson"].index(fault)
    bot.double.fail_next("sendMessage", fault)
    message_id = bot.ask(chat, "Where was K-Defense Day held?")
    bot.replies(chat, message_id)
    time.sleep(bot.double.slow_seconds + 1)
    answers = [m for m in bot.double.sent(chat_id=chat) if HYATT in m["text"]]
    assert len(answers) == 1
    # and the bot is still serving
    (reply,) = [m for m in bot.replies(chat, bot.ask(chat, "Which country bought K-2 tanks?")) if "Poland" in m["text"]]
    assert reply


def test_typing_failure_does_not_stop_the_answer(bot: Bot) -> None:
    bot.double.fail_next("sendChatAction", "500", "500", "500", "500")
    (reply,) = bot.replies(1040, bot.ask(1040, "Where was K-Defense Day held?"))
    assert HYATT in reply["text"]


TELEGRAM_INPUTS = [t for t in BAD_INPUTS if t.strip() and not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]


@pytest.mark.parametrize("index", range(len(TELEGRAM_INPUTS)))
def test_bad_input_over_telegram_gets_one_sensible_reply(bot: Bot, index: int) -> None:
    chat = 2000 + index
    text = TELEGRAM_INPUTS[index]
    message_id = bot.ask(chat, text)
    replies = [m for m in bot.replies(chat, message_id) if reply_to(m) == message_id]
    assert replies
    assert all(html_problem(r["text"]) is None and len(r["text"]) <= 4096 for r in replies)
    assert not any(r["text"].startswith("Sorry, something went wrong") for r in replies)
    if text.startswith("/"):
        assert len(replies) == 1  # commands answer in one message


def test_commands_and_callbacks_from_other_chats_are_refused(bot: Bot) -> None:
    stranger = 6666
    first = bot.ask(stranger, "/start")
    (refusal,) = bot.replies(stranger, first)
    assert refusal["text"] == "Sorry, this bot is not available in this chat."
    bot.ask(stranger, "/help")
    bot.double.push(callback_update(stranger, "cb-1"))
    (answered,) = bot.double.wait_for(lambda: bot.double.sent("answerCallbackQuery", callback_query_id="cb-1"))
    assert answered["text"] == "Sorry, this bot is not available in this chat."
    time.sleep(0.5)
    assert len(bot.double.sent(chat_id=stranger)) == 1


# --- /sources of a large index ---------------------------------------------------------------------

MANY = 121
PAGE = 30


def _many_articles() -> dict[str, str]:
    """120 more small articles; their titles need escaping, and one is far longer than a Telegram message."""
    articles = {}
    for n in range(1, MANY):
        title = f"Article {n:03d}: exports & <tanks> at the regional defense industry exhibition, day {n}"
        if n == 5:
            title += " & more <words>" * 400
        articles[f"article-{n:03d}.txt"] = f"date 2025-08-01 {title}\nVisitors saw K-2 tanks on day {n}. Officials spoke.\n"
    return articles


def test_sources_of_many_articles_lists_one_page_and_counts_the_rest(tmp_path: Path) -> None:
    bot = prepare_bot(tmp_path / "home", extra_seeds=_many_articles())
    try:
        bot.start()
        chat = 7001
        message_id = bot.ask(chat, "/sources")
        # The listing ends with the count of the rest; a failed one ends with the apology.
        ends = ("more articles", APOLOGY)
        bot.double.wait_for(lambda: any(end in m["text"] for m in bot.double.sent(chat_id=chat) for end in ends))
        messages = bot.double.sent(chat_id=chat)
        assert reply_to(messages[0]) == message_id
        assert all(m["parse_mode"] == "HTML" and html_problem(m["text"]) is None and len(m["text"]) <= 4096 for m in messages)
        shown = html.unescape("\n".join(m["text"] for m in messages))
        lines = shown.splitlines()
        assert lines[0] == f"{MANY} articles:"
        assert lines[-1] == f"… and {MANY - PAGE} more articles"
        listed = [line for line in lines if line.startswith("- ")]
        documents = sources(Settings(seeds_dir=bot.seeds, index_dir=bot.index_dir, embedding_backend="hashing"))
        assert len(listed) == PAGE
        for line, doc in zip(listed, documents[:PAGE], strict=True):  # the service's order
            assert line.startswith(f"- {doc.title[:80]}") and line.endswith(f"({doc.date}, {doc.sentence_count} sentences)")
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop()
        bot.double.stop()


# --- refusals are final ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["400", "403"])
def test_a_refused_send_is_not_retried(bot: Bot, fault: str) -> None:
    """A 4xx says the request itself is wrong (bad markup, a blocked bot): the same request fails again."""
    chat = 1060 + ["400", "403"].index(fault)
    bot.double.fail_next("sendMessage", fault)
    bot.ask(chat, "Where was K-Defense Day held?")
    (apology,) = bot.double.wait_for(lambda: bot.double.sent(chat_id=chat))
    assert apology["text"] == APOLOGY
    answers = [c for c in bot.double.all_calls("sendMessage") if c.params.get("chat_id") == chat and HYATT in c.params["text"]]
    assert len(answers) == 1 and not answers[0].delivered


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (NetworkError("Internal Server Error"), True),  # 500, 502
        (NetworkError("Unknown error in HTTP implementation: RemoteProtocolError()"), True),  # dropped connection
        (BadRequest("Bad Request: can't parse entities"), False),  # 400, although a NetworkError
        (Forbidden("Forbidden: bot was blocked by the user"), False),  # 403
        (InvalidToken("Unauthorized"), False),  # 401, 404
        (Conflict("Conflict: terminated by other getUpdates request"), False),  # 409
        (EndPointNotFound("Not Found"), False),
        (ChatMigrated(-100123), False),
        (RetryAfter(1), False),  # 429: AIORateLimiter waits and retries
        (TimedOut(), False),  # perhaps delivered
    ],
    ids=["5xx", "dropped", "400", "403", "401", "409", "404", "migrated", "429", "timed-out"],
)
def test_only_server_errors_and_dropped_connections_are_retried(error: TelegramError, retry: bool) -> None:
    assert _retryable(error) is retry


# --- who a group message is addressed to -----------------------------------------------------------

QUESTION = "where was K-Defense Day held?"


def _group_message(text: str, *, reply_to_bot: bool = False, entities: list[dict[str, Any]] | None = None) -> Message:
    data = text_update(-1003, 1003, 1, text, reply_to_bot=10_001 if reply_to_bot else None)["message"]
    if entities is not None:
        data["entities"] = entities
    message = Message.de_json(data, bot=None)
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (f"@event_test_bot {QUESTION}", QUESTION),
        (f"@EVENT_TEST_BOT {QUESTION}", QUESTION),
        (f"So @event_test_bot {QUESTION}", f"So {QUESTION}"),
        (f"🚀 @event_test_bot {QUESTION}", f"🚀 {QUESTION}"),
        (f"@event_test_bot ask @event_test_bot_fan {QUESTION}", f"ask @event_test_bot_fan {QUESTION}"),
        (f"@event_test_bot_fan {QUESTION}", None),
        (f"mail news@event_test_bot.com {QUESTION}", None),
        (f"{QUESTION} (ask event_test_bot)", None),
        ("@event_test_bot", None),
    ],
    ids=[
        "mention-first",
        "mention-in-capitals",
        "mention-in-the-middle",
        "mention-after-an-emoji",
        "another-mention-is-kept",
        "longer-username",
        "email-address",
        "username-without-at",
        "mention-alone",
    ],
)
def test_only_a_whole_mention_of_the_bot_addresses_it(text: str, question: str | None) -> None:
    assert addressed_question(_group_message(text), BOT["username"], BOT["id"]) == question


def test_a_reply_to_the_bot_keeps_other_mentions() -> None:
    message = _group_message(f"@event_test_bot_fan {QUESTION}", reply_to_bot=True)
    assert addressed_question(message, BOT["username"], BOT["id"]) == f"@event_test_bot_fan {QUESTION}"


def test_a_text_mention_of_the_bot_addresses_it() -> None:
    # A mention by name (no username in the text): Telegram marks it with the user it points at.
    mention = {"type": "text_mention", "offset": 0, "length": 8, "user": BOT}
    message = _group_message(f"EventBot {QUESTION}", entities=[mention])
    assert addressed_question(message, BOT["username"], BOT["id"]) == QUESTION
    other = {**mention, "user": {"id": 5, "is_bot": False, "first_name": "EventBot"}}
    assert addressed_question(_group_message(f"EventBot {QUESTION}", entities=[other]), BOT["username"], BOT["id"]) is None


# --- inline declines -------------------------------------------------------------------------------

DECLINED = ["a<b & c?", "Is x <i>y</i> && z > 2?"]


@pytest.mark.parametrize("question", DECLINED)
def test_inline_decline_shows_the_question_as_typed(bot: Bot, question: str) -> None:
    user = 1070 + DECLINED.index(question)
    bot.double.push(inline_update(user, f"inline-decline-{user}", question))
    (call,) = bot.double.wait_for(lambda: bot.double.sent("answerInlineQuery", inline_query_id=f"inline-decline-{user}"))
    (result,) = call["results"]
    assert result["id"] == "none"
    content = result["input_message_content"]
    text = content["message_text"]
    if content.get("parse_mode") == "HTML":
        assert html_problem(text) is None
        text = html.unescape(text)
    assert text == f"{question}: the articles do not answer that."


def test_reload_of_a_damaged_index_keeps_serving_the_old_one(bot: Bot) -> None:
    from index import store

    faiss_file = store.current_build(bot.index_dir) / "faiss.index"
    good = faiss_file.read_bytes()
    faiss_file.write_bytes(b"garbage")
    try:
        (reply,) = answers_to(bot, ADMIN, bot.ask(ADMIN, "/reload"))
        assert reply["text"].startswith("Reload failed; still serving the previous index.")
        assert "faiss.index is damaged" in reply["text"] and "eventbot build" in reply["text"]
        (answer,) = bot.replies(1050, bot.ask(1050, "Where was K-Defense Day held?"))
        assert HYATT in answer["text"]
    finally:
        faiss_file.write_bytes(good)


def test_rebuild_and_reload_under_load_lose_nothing(bot: Bot) -> None:
    from index.core.settings import Settings
    from index.models.hashing import HashingEmbedder
    from index.store.builder import build

    chats = list(range(2060, 2070))
    asked: list[tuple[int, int]] = []

    def load() -> None:
        for n in range(RATE_LIMIT):
            for chat in chats:
                asked.append((chat, bot.ask(chat, f"Where was K-Defense Day held? ({n})")))
                time.sleep(0.01)

    worker = threading.Thread(target=load)
    worker.start()
    (bot.seeds / "air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    report = build(Settings(seeds_dir=bot.seeds, index_dir=bot.index_dir, embedding_backend="hashing"), HashingEmbedder)
    assert report.plan.added == ("air-show",)
    (reloaded,) = answers_to(bot, ADMIN, bot.ask(ADMIN, "/reload"), timeout=60)
    assert reloaded["text"] == "Reloaded: 2 articles, 24 sentences."
    worker.join()
    for chat, message_id in asked:
        bot.double.wait_for(
            lambda chat=chat, message_id=message_id: [m for m in bot.double.sent(chat_id=chat) if reply_to(m) == message_id], 60
        )
    time.sleep(0.5)
    for chat in chats:
        replies = bot.double.sent(chat_id=chat)
        assert len(replies) == RATE_LIMIT, chat  # exactly one reply per question
        assert all(HYATT in r["text"] for r in replies)
    (new,) = bot.replies(1051, bot.ask(1051, "How many visitors did the Seoul aerospace exhibition draw?"))
    assert "50,000 visitors" in plain(new["text"]) and "Seoul air show opens, 2025-10-20" in new["text"]


def test_polling_survives_get_updates_errors(bot: Bot) -> None:
    bot.double.fail_next("getUpdates", "500", "502", "badjson", "drop")
    (reply,) = bot.replies(1041, bot.ask(1041, "Where was K-Defense Day held?"), timeout=60)
    assert HYATT in reply["text"]
    assert bot.process.poll() is None


# --- uploads with hostile file names ---------------------------------------------------------------

# (name as sent, whether it names an article file at all). REPORT.TXT comes twice: the second one finds the name taken.
HOSTILE_NAMES = [
    ("nul\x00byte.txt", True),
    ("..txt", True),
    ("REPORT.TXT", True),
    ("REPORT.TXT", True),
    ("x" * 300 + ".txt", True),
    ("가" * 200 + ".md", True),
    ("/..//.txt", True),
    ("evil\u202etxt.md", True),
    ("new\nline.txt", True),
    ("...", False),
    ("/../..//", False),
    ("report\u202etxt.exe", False),
    ("report.txt\x00.exe", False),
]
INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = prepare_bot(tmp_path_factory.mktemp("uploads"), ADMIN_USER_IDS=str(ADMIN), TELEGRAM_FILE_BASE_URL="")
    yield from _running(bot)


@pytest.mark.parametrize("case", range(len(HOSTILE_NAMES)), ids=[repr(n)[1:21] for n, _ in HOSTILE_NAMES])
def test_a_hostile_upload_name_gets_a_safe_name_and_a_true_reply(uploads: Bot, case: int) -> None:
    """Whatever the name, the file is saved under a safe one (or refused), and the reply says what really happened."""
    sent, article = HOSTILE_NAMES[case]
    story = f"Library wing {case} opens\n\nThe city library opened reading wing number {case} on Monday.\n".encode()
    before = {p.name for p in uploads.seeds.iterdir()}
    message_id = next(uploads.messages)
    uploads.double.add_file(f"H{case}", story)
    uploads.double.push(document_update(ADMIN, ADMIN, message_id, f"H{case}", sent, len(story)))
    (reply,) = answers_to(uploads, ADMIN, message_id, timeout=60)
    text = html.unescape(reply["text"])
    assert text != APOLOGY and "went wrong" not in text
    assert not INVISIBLE.search(text.replace("\n", " "))  # nothing invisible or control-like is echoed back
    new = {p.name for p in uploads.seeds.iterdir()} - before
    if not article:
        assert text.startswith("Not added:") and "not an article file" in text and not new
        return
    assert text.startswith("Added:"), text
    (saved,) = new
    assert (uploads.seeds / saved).read_bytes() == story
    assert (
        not INVISIBLE.search(saved)
        and "/" not in saved
        and "\\" not in saved
        and not saved.startswith(".")
        and len(saved.encode()) <= 255
    )
    assert Path(saved).suffix in {".txt", ".md"}
    if saved == sent:
        assert "(" not in text.split("sentences.", 1)[1]  # no note about the name
        return
    assert saved in text  # the name it was really saved under
    taken_before = {Path(name).stem.lower() for name in before}
    name = re.escape(saved)
    claimed = re.search(rf"\(Another article has the name (.+); saved as {name}\.\)$", text) or re.search(
        rf"\(Saved as {name}: (.+), the safe form of the file name it was sent with, is the name of another article\.\)$", text
    )
    if claimed or "exists" in text:  # a claim that the name was taken must be true
        wanted = claimed.group(1) if claimed else sent
        assert Path(wanted).stem.lower() in taken_before, text
        assert Path(saved).stem.lower() not in taken_before
    else:
        assert f"Saved as {saved}, the safe form" in text


# --- buttons under answers: bound to the chat and message their answer went to ---------------------

BUTTON_UNKNOWN = say("button_unknown", "en")


def _answer_with_buttons(bot: Bot, chat: int, question: str, user: int | None = None) -> tuple[dict[str, Any], int]:
    """The answer to `question` in `chat` (the message with the buttons) and its question id."""
    message_id = bot.ask(chat, question, user_id=user)
    (reply,) = [m for m in answers_to(bot, chat, message_id) if m.get("reply_markup")]
    buttons = reply["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"].split(":")[0] for b in buttons] == ["up", "down", "more"]
    return reply, int(buttons[2]["callback_data"].split(":")[1])


def _press(bot: Bot, chat: int, data: str, message_id: int, user: int | None = None) -> str | None:
    """Press a button (callback data `data`) under `message_id`; returns the notice the bot answered with."""
    query_id = f"press-{next(bot.messages)}"
    bot.double.push(callback_update(chat, query_id, data, user_id=user, message_id=message_id))
    (answered,) = bot.double.wait_for(lambda: bot.double.sent("answerCallbackQuery", callback_query_id=query_id))
    return answered.get("text")


def _dislikes(bot: Bot, question: str) -> int:
    """👎 for `question` in the editors' report, as /report and `eventbot report` read it."""
    journal = Journal(bot.home / "journal.sqlite3")
    try:
        return sum(n for q, _, _, n in journal.report().disliked if q == question)
    finally:
        journal.close()


def test_a_forged_more_never_sends_another_readers_answer(bot: Bot) -> None:
    victim, forger = 1080, 1081
    secret = "Where was the K-Defense Day ceremony held?"
    answer, victims = _answer_with_buttons(bot, victim, secret)
    own, _ = _answer_with_buttons(bot, forger, "Which country bought K-2 tanks?")
    sent = len(bot.double.sent(chat_id=forger))
    # The victim's question id under the forger's own answer, under a message id the forger made up, and under
    # the victim's answer's message id (from the forger's chat): none is the victim's answer in the forger's chat.
    assert _press(bot, forger, f"more:{victims}", own["message_id"]) == BUTTON_UNKNOWN
    assert _press(bot, forger, f"more:{victims}", own["message_id"] + 1000) == say("too_old", "en")
    assert _press(bot, forger, f"more:{victims}", answer["message_id"]) == say("too_old", "en")
    time.sleep(1.0)
    assert len(bot.double.sent(chat_id=forger)) == sent
    # The victim's own More still works, in the victim's chat.
    before = len(bot.double.sent(chat_id=victim))
    assert _press(bot, victim, f"more:{victims}", answer["message_id"]) is None
    assert bot.double.wait_for(lambda: len(bot.double.sent(chat_id=victim)) > before)


def test_forged_and_repeated_votes_are_not_counted(bot: Bot) -> None:
    group, members, outsiders = -1020, (1082, 1083), range(1084, 1090)
    question = "Where exactly was K-Defense Day held?"
    answer, asked = _answer_with_buttons(bot, group, f"/ask {question}", user=members[0])
    for n, outsider in enumerate(outsiders):  # forged 👎 from other chats, under their own answers or made-up ones
        own, _ = _answer_with_buttons(bot, outsider, f"Which company makes the K-2 tank? ({n})")
        for message_id in (own["message_id"], answer["message_id"], 1):
            assert _press(bot, outsider, f"down:{asked}", message_id) in {BUTTON_UNKNOWN, say("too_old", "en")}
    assert _dislikes(bot, question) == 0
    thanks = say("thanks", "en")
    for member in members:  # each member once, however often they press; a change of mind replaces the vote
        for _ in range(3):
            assert _press(bot, group, f"down:{asked}", answer["message_id"], user=member) == thanks
    assert _dislikes(bot, question) == 2
    assert _press(bot, group, f"up:{asked}", answer["message_id"], user=members[1]) == thanks
    assert _dislikes(bot, question) == 1


MALFORMED = ["up:" + "9" * 40, "more:" + "1" * 10_000, "down:²", "up:１２", "up:-1", "up:1 ", "more:0x1f", "", "vote:1"]


@pytest.mark.parametrize(
    "data", MALFORMED, ids=["huge", "10k-digits", "superscript", "fullwidth", "negative", "space", "hex", "empty", "kind"]
)
def test_malformed_callback_data_gets_a_short_notice(bot: Bot, data: str) -> None:
    chat = 1090 + MALFORMED.index(data)
    answer, _ = _answer_with_buttons(bot, chat, "Where was K-Defense Day held?")
    sent, logged = len(bot.double.sent(chat_id=chat)), len(bot.log_file.read_bytes())
    assert _press(bot, chat, data, answer["message_id"]) == BUTTON_UNKNOWN
    time.sleep(0.5)
    assert len(bot.double.sent(chat_id=chat)) == sent  # no apology, nothing else
    assert b"Traceback" not in bot.log_file.read_bytes()[logged:]


def test_buttons_of_answers_logged_before_the_upgrade_work_in_their_own_chat_only(tmp_path: Path) -> None:
    """A schema-1 log knows no messages: its answers' buttons keep working in their chat, and nowhere else."""
    path = tmp_path / "journal.sqlite3"
    old = Journal(path)
    service_answer = Answer(question="Where was K-Defense Day held?", answered=False, hits=())
    legacy = old.record(service_answer, chat=11, asker=11, shown=0)
    old.close()
    with sqlite3.connect(path) as db:  # as schema 1 left it
        db.executescript("DROP TABLE buttons; DROP TABLE turns; DELETE FROM meta WHERE key = 'buttons_from';")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    journal = Journal(path)
    try:
        assert (found := journal.button(legacy, chat=11, message=5)) is not None and found.id == legacy
        assert journal.button(legacy, chat=12, message=5) is None
        new = journal.record(service_answer, chat=11, asker=11, shown=0)
        journal.sent(new, chat=11, message=6)
        assert (bound := journal.button(new, chat=11, message=6)) is not None and bound.id == new
        assert journal.button(new, chat=11, message=7) is None  # a new answer: only under its own message
        assert journal.button(new, chat=12, message=6) is None
    finally:
        journal.close()


def test_token_never_appears_in_logs_or_output(bot: Bot) -> None:
    # The bot has logged a session at DEBUG (the tests before it, on this worker), and a fault now: a refused send,
    # which the error handler logs with its traceback.
    bot.double.fail_next("sendMessage", "400")
    bot.ask(1043, "Where was K-Defense Day held?")
    bot.double.wait_for(lambda: bot.double.sent(chat_id=1043))
    bot.ask(1042, "Where was K-Defense Day held?")
    time.sleep(1.0)
    captured = bot.log_file.read_text() + bot.output.read_text(errors="replace")
    # The log really covers the faults (HTTP traffic itself is not logged: its updates hold readers' data).
    assert "error while handling an update" in captured and "Traceback" in captured
    assert TOKEN not in captured
    assert TOKEN.split(":")[1] not in captured
    for call in bot.double.sent():
        assert TOKEN not in call["text"]
    assert BOT["username"]
