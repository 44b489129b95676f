"""The Telegram front end (python-telegram-bot v22): it formats and sends; `index` answers.

Private chats: every text message is a question. Groups: `/ask`, a reply to the bot, or a message that
mentions it. Inline mode: `@bot question` offers the top answers. Edited messages are ignored (the
first version was already answered; answering again would post a second reply).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import time
import unicodedata
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, MessageEntityType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.errors import explain
from bot.format import answer_html, citation, escape, hit_html, pack_messages, report_text, shorten, sources_html
from bot.logs import redact
from bot.messages import example_question, reader_language, say, skipped_notice
from bot.settings import TelegramSettings
from index.content.fetch import UNSAFE_CATEGORIES, safe_name, save_article
from index.content.loader import MAX_FILE_BYTES, SUFFIXES
from index.conversation.followup import Conversations
from index.conversation.journal import FAILURES, QuestionLog, open_log
from index.conversation.journal import problem as journal_problem
from index.core.errors import BadQuestionError, EventBotError, Fix, JournalError
from index.core.language import ENGLISH
from index.core.records import DocumentInfo
from index.service import QAService
from index.service.adding import add_article, index_added
from index.service.batching import AnswerBatcher
from index.service.watch import Update as ContentUpdate
from index.service.watch import Watcher

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "what I know and how to ask"),
    BotCommand("help", "how to use me"),
    BotCommand("sources", "the articles I answer from"),
    BotCommand("ask", "ask a question (works in groups too)"),
]
# The bot's own words, in English and Korean, are in bot/messages.py.
# "More" under an answer sends this many further sentences.
MORE = 3
# An answer waits at most this long (seconds) for the question log; a slower write goes on without holding it up.
RECORD_WAIT = 0.5
# /add and uploads fetch and index on their own threads, never the ones answers use: at most ADD_WORKERS at
# once, at most ADD_WAITING more waiting; beyond that the admin is asked to try again.
ADD_WORKERS = 2
ADD_WAITING = 4
EXAMPLE = say("example", ENGLISH)


def _language(update: Update, question: str = "") -> str:
    """The reader's language: the question's, or their Telegram app's (`language_code`)."""
    user = update.effective_user
    return reader_language(question, user.language_code if user is not None else None)


class RateLimiter:
    """At most `limit` questions per user in any 60 seconds (a sliding window).

    Refused questions cost nothing but a dictionary look-up, so a user flooding the bot cannot take
    model time from others beyond `limit` questions a minute; the flooder is told once per window.
    """

    ALLOW, REFUSE_AND_SAY, REFUSE_SILENTLY = "allow", "refuse-and-say", "refuse-silently"

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: defaultdict[int, deque[float]] = defaultdict(deque)
        self._told: dict[int, float] = {}

    def check(self, user_id: int) -> str:
        now = self.clock()
        times = self._seen[user_id]
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return self.ALLOW
        if now - self._told.get(user_id, -self.window) >= self.window:
            self._told[user_id] = now
            return self.REFUSE_AND_SAY
        return self.REFUSE_SILENTLY


class FloodLimiter(AIORateLimiter):
    """Telegram's flood limits for messages; chat actions ("typing…") are not messages and skip the queue.

    Without this, every answer would spend two places of the 30-a-second budget, one of them on the
    typing indicator, halving how many chats the bot can answer.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class TelegramFrontEnd:
    """Handlers and the state they share: the answering service, the batcher and the limits."""

    def __init__(self, settings: TelegramSettings, service: QAService) -> None:
        self.settings = settings
        self.service = service
        self.batcher = AnswerBatcher(service, wait_ms=service.settings.batch_wait_ms)
        self.rate = RateLimiter(settings.rate_limit_per_minute)
        self._refused_chats: set[int] = set()
        self._watcher: Watcher | None = None
        engine = service.settings
        # The question log, and with it the buttons under answers (their state lives there, not in memory).
        self.journal: QuestionLog | None = None
        self.journal_problem: EventBotError | None = None  # why the log is not kept though QUESTION_LOG is on
        if engine.question_log:
            try:
                self.journal = open_log(engine)
            except JournalError as exc:
                if engine.journal_url is not None:  # replicas share it: one without it would disagree with the rest
                    raise JournalError(exc.problem, fix=Fix.SETTING) from None
                log.warning("%s; answering without it", exc.problem, exc_info=True)  # answering matters more
                self.journal_problem = exc
        # Follow-ups: each chat's last question, kept in the log (shared by replicas) when there is one.
        self.conversations = Conversations(service.settings.followup_seconds, store=self.journal)
        self._add_pool = ThreadPoolExecutor(max_workers=ADD_WORKERS, thread_name_prefix="add")
        self._adds = 0  # /adds running or waiting (counted on the event loop)
        self._background: set[asyncio.Future[None]] = set()  # turns being written to the log

    # --- wiring -----------------------------------------------------------------------------------

    def build(self) -> Application:  # type: ignore[type-arg]
        """The python-telegram-bot application with every handler registered."""
        token = self.settings.telegram_bot_token
        if token is None:
            raise EventBotError("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env", fix=Fix.SETTING)
        timeout = self.settings.telegram_timeout
        app = (
            ApplicationBuilder()
            .token(token.get_secret_value())
            .base_url(self.settings.telegram_api_base_url)
            .base_file_url(
                self.settings.telegram_file_base_url or self.settings.telegram_api_base_url.replace("/bot", "/file/bot")
            )
            .rate_limiter(FloodLimiter(overall_max_rate=self.settings.telegram_messages_per_second, max_retries=3))
            .concurrent_updates(True)
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .pool_timeout(timeout)
            .get_updates_read_timeout(timeout + 20)
            .post_init(self._post_init)
            .post_shutdown(self._post_shutdown)
            .build()
        )
        new = filters.UpdateType.MESSAGE  # edited messages are deliberately ignored
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler("start", self.start, filters=new))
        app.add_handler(CommandHandler("help", self.help, filters=new))
        app.add_handler(CommandHandler("sources", self.sources, filters=new))
        app.add_handler(CommandHandler("ask", self.ask, filters=new))
        app.add_handler(CommandHandler("reload", self.reload, filters=new))
        app.add_handler(CommandHandler("add", self.add, filters=new))
        app.add_handler(CommandHandler("report", self.report, filters=new))
        app.add_handler(CallbackQueryHandler(self.pressed))
        private = filters.ChatType.PRIVATE & new
        groups = filters.ChatType.GROUPS & new
        app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.private_text))
        app.add_handler(MessageHandler(private & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, self.group_text))
        app.add_handler(MessageHandler(private & filters.Document.ALL, self.upload))
        app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.not_text))
        app.add_handler(InlineQueryHandler(self.inline))
        app.add_error_handler(self.on_error)
        return app

    async def _post_init(self, app: Application) -> None:  # type: ignore[type-arg]
        """Register the command menu and say what is being served."""
        try:
            await app.bot.set_my_commands(COMMANDS)
        except TelegramError as exc:
            log.warning("could not register the command menu: %s", exc)
        data = self.service.data
        log.warning(
            "serving @%s: %d articles, %d sentences; %s",
            app.bot.username,
            len(data.manifest.documents),
            data.manifest.sentence_count,
            self.service.describe_readers(),
        )
        if self.service.settings.watch:
            loop = asyncio.get_running_loop()

            def on_update(update: ContentUpdate) -> None:
                # From the watcher's thread: a failed update and newly skipped files are told to the admins, on the
                # bot's event loop (the watcher tells each skipped file once, while it lasts).
                texts = [update.message] if not update.ok else []
                if update.skipped:
                    texts.append(skipped_notice(update.skipped, ENGLISH))
                for text in texts:
                    for admin in self.settings.admin_user_ids:
                        asyncio.run_coroutine_threadsafe(_best_effort(send(app.bot, admin, escape(text))), loop)

            self._watcher = Watcher(self.service, on_update).start()

    async def _post_shutdown(self, app: Application) -> None:  # type: ignore[type-arg]
        self._add_pool.shutdown(wait=False, cancel_futures=True)  # waiting /adds are dropped, running ones end
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)

    # --- gate: allowed chats ----------------------------------------------------------------------

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop updates from chats outside ALLOWED_CHAT_IDS; each such chat hears one refusal."""
        allowed = self.settings.allowed_chat_ids
        if not allowed:
            return
        chat_id = update.effective_chat.id if update.effective_chat else None
        if chat_id is None and update.effective_user:
            chat_id = update.effective_user.id  # inline queries have no chat; the user's private chat stands in
        if chat_id in allowed:
            return
        if update.inline_query:
            await _best_effort(update.inline_query.answer([], cache_time=0, is_personal=True))
        elif update.callback_query:
            await _best_effort(update.callback_query.answer(say("not_allowed", _language(update))))
        elif update.effective_message and chat_id is not None and chat_id not in self._refused_chats:
            self._refused_chats.add(chat_id)
            message = update.effective_message
            text = escape(say("not_allowed", _language(update, message.text or "")))
            await send(message.get_bot(), chat_id, text, reply_to=message.message_id)
        raise ApplicationHandlerStop

    # --- commands ---------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What the bot knows, in two lines, with an example question."""
        docs = self.service.sources()
        language = _language(update)
        titles = "; ".join(doc.title for doc in docs[:3]) + ("; …" if len(docs) > 3 else "")
        text = say(
            "start",
            language,
            count=len(docs),
            s="s" if len(docs) != 1 else "",
            titles=escape(titles),
            example=escape(example_question([doc.title for doc in docs], language)),
        )
        await self._reply(update, text)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """How to ask, in private chats, groups and inline."""
        await self._reply(update, escape(say("help", _language(update), username=context.bot.username)))

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A page of articles with their dates and sentence counts, then how many more there are."""
        await self._reply(update, *sources_html(self.service.sources(), language=_language(update)))

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ask QUESTION, anywhere."""
        question = " ".join(context.args or [])
        if not question.strip():
            language = _language(update)
            await self._reply(update, escape(say("ask_usage", language, example=say("example", language))))
            return
        await self._answer(update, context, question)

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Admins only: load the rebuilt index from disk; on failure keep serving the old one."""
        user = update.effective_user
        if user is None or user.id not in self.settings.admin_user_ids:
            await self._reply(update, escape(say("not_admin", _language(update))))
            return
        try:
            data = await asyncio.to_thread(self.service.reload)
        except EventBotError as exc:
            log.warning("reload refused: %s", exc)
            await self._reply(update, escape(f"Reload failed; still serving the previous index. {explain(exc)}"))
            return
        log.warning("reloaded: %d articles, %d sentences", len(data.manifest.documents), data.manifest.sentence_count)
        await self._reply(update, f"Reloaded: {len(data.manifest.documents)} articles, {data.manifest.sentence_count} sentences.")

    def _is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_user_ids

    async def add(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Admins only: /add URL fetches a page into SEEDS_DIR and answers from it at once."""
        language = _language(update)
        if not self._is_admin(update):
            await self._reply(update, escape(say("not_admin", language)))
            return
        if not context.args:
            await self._reply(update, escape(say("add_usage", language)))
            return
        if self._adds >= ADD_WORKERS + ADD_WAITING:
            await self._reply(update, escape(say("add_busy", language)))
            return
        url = context.args[0]
        loop = asyncio.get_running_loop()
        settings = self.service.settings
        self._adds += 1
        try:
            add = functools.partial(add_article, settings, url, lambda: self.service.embedder, log.info)
            saved, info = await loop.run_in_executor(self._add_pool, add)
            await loop.run_in_executor(self._add_pool, self.service.reload)
        except EventBotError as exc:
            await self._reply(update, escape(say("not_added", language, reason=explain(exc))))
            return
        finally:
            self._adds -= 1
        await self._reply(update, escape(_added(info, language, updated=saved.updated)))

    async def upload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Admins only: a .txt, .md or .html document in a private chat becomes an article."""
        message = update.effective_message
        assert message is not None and message.document is not None
        language = _language(update)
        if not self._is_admin(update):
            await self._reply(update, escape(say("not_admin", language)))  # and nothing is downloaded or written
            return
        document = message.document
        sent_as = document.file_name or "article.txt"
        wanted = safe_name(sent_as)  # what it is saved as unless an article has that name already
        name = _shown_name(sent_as)  # as the reader sees it in a refusal
        if Path(wanted).suffix not in SUFFIXES:
            await self._reply(update, escape(say("not_added", language, reason=say("upload_type", language, name=name))))
            return
        if (document.file_size or 0) > MAX_FILE_BYTES:
            reason = say("upload_size", language, name=name, limit=MAX_FILE_BYTES)
            await self._reply(update, escape(say("not_added", language, reason=reason)))
            return
        try:
            file = await document.get_file()
            data = bytes(await file.download_as_bytearray())
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            await self._reply(update, escape(say("not_added", language, reason=say("upload_encoding", language, name=name))))
            return
        if self._adds >= ADD_WORKERS + ADD_WAITING:
            await self._reply(update, escape(say("add_busy", language)))
            return
        settings = self.service.settings
        loop = asyncio.get_running_loop()
        self._adds += 1
        try:  # on the /add pool: indexing an upload never holds the threads answers use
            path = await loop.run_in_executor(self._add_pool, save_article, settings.seeds_dir, wanted, text)
            index = functools.partial(index_added, settings, path, lambda: self.service.embedder, log.info)
            info = await loop.run_in_executor(self._add_pool, index)
            await loop.run_in_executor(self._add_pool, self.service.reload)
        except EventBotError as exc:
            await self._reply(update, escape(say("not_added", language, reason=explain(exc))))
            return
        finally:
            self._adds -= 1
        await self._reply(update, escape(_added(info, language) + _saved_as(sent_as, wanted, path.name, language)))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command this bot does not have."""
        await self._reply(update, escape(say("unknown_command", _language(update))))

    # --- messages ---------------------------------------------------------------------------------

    async def private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a private chat every text message is a question."""
        assert update.effective_message is not None
        await self._answer(update, context, update.effective_message.text or "")

    async def group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group, answer only a reply to the bot or a message that mentions it."""
        message = update.effective_message
        assert message is not None
        question = addressed_question(message, context.bot.username, context.bot.id)
        if question is not None:
            await self._answer(update, context, question)

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, files, locations: ask for text."""
        await self._reply(update, escape(say("text_only", _language(update))))

    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """@bot QUESTION in any chat: the top answers as results to pick from."""
        query = update.inline_query
        assert query is not None
        if not query.query.strip():
            await query.answer([], cache_time=0)
            return
        if self.rate.check(query.from_user.id) != RateLimiter.ALLOW:
            await query.answer([], cache_time=0, is_personal=True)
            return
        try:
            answer = await self.batcher.answer(query.query)
        except BadQuestionError:
            await query.answer([], cache_time=0)
            return
        results = []
        language = _language(update, query.query)
        if answer.answered:
            for number, hit in enumerate(answer.presented, start=1):
                results.append(
                    InlineQueryResultArticle(
                        id=str(number),
                        title=shorten(hit.sentence.text, 100),
                        description=shorten(citation(hit, number, language), 200),
                        input_message_content=InputTextMessageContent(
                            hit_html(hit, number, language=language), parse_mode=ParseMode.HTML
                        ),
                    )
                )
        else:
            results.append(
                InlineQueryResultArticle(
                    id="none",
                    title=say("inline_decline_title", language),
                    description=say("inline_decline_description", language),
                    input_message_content=InputTextMessageContent(
                        say("inline_decline_body", language, question=escape(query.query[:200])), parse_mode=ParseMode.HTML
                    ),
                )
            )
        await query.answer(results, cache_time=0, is_personal=True)

    # --- the answer path --------------------------------------------------------------------------

    async def _answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
        message = update.effective_message
        assert message is not None
        user = update.effective_user
        language = _language(update, question)
        verdict = self.rate.check(user.id) if user is not None else RateLimiter.ALLOW
        if verdict != RateLimiter.ALLOW:
            if verdict == RateLimiter.REFUSE_AND_SAY:
                await self._reply(update, escape(say("slow_down", language)))
            return
        # The typing indicator is a courtesy: if it fails, the answer still goes out.
        await _best_effort(context.bot.send_chat_action(message.chat_id, ChatAction.TYPING))
        # A short follow-up ("And when?") is read in the light of this chat's previous question.
        try:  # the previous question comes from the log (shared by replicas), but never holds up the answer
            resolved = await asyncio.wait_for(
                asyncio.to_thread(self.conversations.resolve, message.chat_id, question), RECORD_WAIT
            )
        except TimeoutError:
            log.warning("the question log was too slow to give the chat's previous question; answering without it")
            resolved = self.conversations.resolve_here(message.chat_id, question)
        try:
            answer = await self.batcher.answer(resolved.question, resolved.prefer)
        except BadQuestionError:
            await self._reply(update, escape(say("ask_in_words", language, example=say("example", language))))
            return
        asker_id = user.id if user is not None else message.chat_id
        remembering = asyncio.ensure_future(
            asyncio.to_thread(self.conversations.remember, message.chat_id, resolved.question, answer, asker_id)
        )
        self._background.add(remembering)
        remembering.add_done_callback(self._background.discard)
        markup = None
        if self.journal is not None:  # off the event loop: a write never holds up another chat's answer
            asker = user.id if user is not None else message.chat_id
            record = functools.partial(
                self.journal.record, answer, chat=message.chat_id, asker=asker, shown=len(answer.presented)
            )
            # The log is a help to editors: when it is slow or locked, the reader gets the answer without buttons.
            writing = asyncio.ensure_future(asyncio.to_thread(record))
            try:
                question_id = await asyncio.wait_for(asyncio.shield(writing), RECORD_WAIT)
            except TimeoutError:
                writing.add_done_callback(functools.partial(_recorded_late, self.journal.path))
            except FAILURES:
                log.warning("could not record a question in %s", self.journal.path, exc_info=True)
            else:
                markup = _buttons(question_id, language) if answer.presented else None
        messages = answer_html(answer, language=language)
        sent: Message | None = None
        for i, text in enumerate(messages):
            last = i == len(messages) - 1
            sent = await send(
                context.bot,
                message.chat_id,
                text,
                reply_to=message.message_id if i == 0 else None,
                markup=markup if last else None,
            )
        # The buttons work under the message that carries them, in this chat, and nowhere else.
        if markup is not None and self.journal is not None and sent is not None:
            bind = functools.partial(self.journal.sent, question_id, chat=message.chat_id, message=sent.message_id)
            try:
                await asyncio.to_thread(bind)
            except FAILURES:
                log.warning("could not record where an answer went in %s", self.journal.path, exc_info=True)

    async def pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """👍, 👎 and More under an answer: answered at once, recorded once per person, working after a restart.

        A press counts only under the message its answer went to, in that chat (the journal knows where each answer
        went): callback data naming another answer, from another chat or message, gets a short notice, and so does
        anything that is not a button of this bot."""
        query = update.callback_query
        assert query is not None
        language = _language(update)
        button = _BUTTON.fullmatch(query.data or "")
        where = query.message  # None for a message sent inline, which never has these buttons
        if self.journal is None:
            await _best_effort(query.answer(say("buttons_off", language)))
            return
        if button is None or where is None:
            await _best_effort(query.answer(say("button_unknown", language)))
            return
        kind, question_id, user, chat_id = button[1], int(button[2]), query.from_user.id, where.chat.id
        find = functools.partial(self.journal.button, question_id, chat=chat_id, message=where.message_id)
        try:
            asked = await asyncio.to_thread(find)
            if asked is not None and asked.id == question_id and kind in {"up", "down"}:
                saved = await asyncio.to_thread(self.journal.feedback, question_id, user, 1 if kind == "up" else -1)
                await _best_effort(query.answer(say("thanks" if saved else "too_old", language)))
                return
        except FAILURES:
            log.warning("could not read or write the question log %s", self.journal.path, exc_info=True)
            await _best_effort(query.answer(say("log_unavailable", language)))
            return
        if asked is None or asked.id != question_id:
            await _best_effort(query.answer(say("too_old" if asked is None else "button_unknown", language)))
            return
        await _best_effort(query.answer())
        if self.rate.check(user) != RateLimiter.ALLOW:  # More costs a ranking, like a question
            return
        language = reader_language(asked.question, query.from_user.language_code)
        first = await asyncio.to_thread(self.service.answer, asked.question)  # what was shown (the ranking is stable)
        more = await asyncio.to_thread(self.service.answer, asked.question, len(first.hits) + MORE)
        seen = {(hit.sentence.doc_id, hit.sentence.paragraph, hit.sentence.sentence) for hit in first.presented}
        extra = tuple(h for h in more.hits if (h.sentence.doc_id, h.sentence.paragraph, h.sentence.sentence) not in seen)
        if not extra:
            await send(context.bot, chat_id, escape(say("no_more", language)))
            return
        # Further sentences keep the first answer's standing: after "the closest the articles come", still that.
        shown = replace(more, presented=extra[:MORE], notes=(), answered=first.answered)
        for text in answer_html(shown, language=language):
            await send(context.bot, chat_id, text)

    async def report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Admins only: what readers asked that the articles do not answer, 👎 answers, articles cited (7 days)."""
        language = _language(update)
        if not self._is_admin(update):
            await self._reply(update, escape(say("not_admin", language)))
            return
        if self.journal_problem is not None:  # damaged or unusable, which is not the same as off
            await self._reply(update, escape(explain(self.journal_problem)))
            return
        if self.journal is None:
            await self._reply(update, escape(say("log_off", language)))
            return
        try:
            report = await asyncio.to_thread(self.journal.report, time.time() - 7 * 86_400.0, 5)
        except FAILURES as exc:  # damaged after it opened, or held by another process
            failure = journal_problem(self.journal.path, exc)
            log.warning("%s", failure.problem, exc_info=True)
            await self._reply(update, escape(explain(failure)))
            return
        await self._reply(update, *pack_messages([escape(line) for line in report_text(report).splitlines()], separator="\n"))

    async def _reply(self, update: Update, *texts: str) -> None:
        """Send HTML messages to the update's chat, the first as a reply to its message."""
        message = update.effective_message
        if message is not None:
            for i, text in enumerate(texts):
                await send(message.get_bot(), message.chat_id, text, reply_to=message.message_id if i == 0 else None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback; tell the user briefly; keep running."""
        log.error("error while handling an update", exc_info=context.error)
        if isinstance(update, Update) and update.callback_query is not None:  # a press: a notice, not a message
            await _best_effort(update.callback_query.answer(say("button_failed", _language(update))), quiet=True)
            return
        if isinstance(update, Update) and update.effective_chat and update.effective_message:
            apology = escape(say("apology", _language(update, update.effective_message.text or "")))
            await _best_effort(send(context.bot, update.effective_chat.id, apology), quiet=True)


def _added(info: DocumentInfo, language: str, *, updated: bool = False) -> str:
    return say("updated" if updated else "added", language, title=info.title, date=info.date or "-", count=info.sentence_count)


def _saved_as(sent_as: str, wanted: str, saved: str, language: str) -> str:
    """What an upload's reply says of its file name: nothing when saved under the name it was sent with; else why not."""
    cleaned, taken = wanted != sent_as, saved != wanted
    if not (cleaned or taken):
        return ""
    key = "upload_cleaned_renamed" if cleaned and taken else "upload_cleaned" if cleaned else "upload_renamed"
    return " " + say(key, language, wanted=wanted, name=saved)


def _shown_name(name: str, limit: int = 100) -> str:
    """A file name as sent, safe to show: invisible and control characters written out (U+202E would turn the
    rest of the reply around), cut to `limit` characters."""
    shown = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in UNSAFE_CATEGORIES else ch for ch in name)
    return shown[: limit - 1] + "…" if len(shown) > limit else shown


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message addressed to the bot (mention or reply), without the mentions of the bot.

    Only Telegram's own entities count as mentions: "@yourbot_fan" or "news@yourbot.com" contain the username
    but address someone else.
    """
    mentions = [entity for entity in message.entities or () if _mentions_bot(message, entity, username, bot_id)]
    replied = message.reply_to_message is not None and (
        message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == bot_id
    )
    if not (mentions or replied):
        return None
    cleaned = _without(message.text or "", mentions)
    return cleaned if cleaned.strip() else None


def _mentions_bot(message: Message, entity: MessageEntity, username: str, bot_id: int) -> bool:
    if entity.type == MessageEntityType.MENTION:
        return message.parse_entity(entity).lower() == f"@{username}".lower()  # usernames ignore case
    return entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id


def _without(text: str, entities: list[MessageEntity]) -> str:
    """The text without the entities' spans, spaces tidied; Telegram counts offsets in UTF-16 code units."""
    units = text.encode("utf-16-le")
    kept, start = [], 0
    for entity in sorted(entities, key=lambda entity: entity.offset):
        kept.append(units[2 * start : 2 * entity.offset])
        start = entity.offset + entity.length
    kept.append(units[2 * start :])
    return " ".join(b"".join(kept).decode("utf-16-le", errors="replace").split())


def _retryable(exc: BaseException) -> bool:
    """Telegram said the request failed (5xx, dropped connection): safe to send again.

    A 4xx is final: the request itself was refused (bad markup, a blocked bot, a wrong token) and would be
    refused again. python-telegram-bot raises BadRequest (400) as a NetworkError, so it is excluded by name;
    Forbidden, InvalidToken, Conflict and the like are not NetworkErrors at all.
    A time-out is not retried: the message may have been delivered, and a second copy is worse than none.
    Flood limits (429 with retry_after) are retried by AIORateLimiter.
    """
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest | TimedOut | RetryAfter)


def _recorded_late(path: Path | str, writing: asyncio.Future[int]) -> None:
    """A record that outlasted RECORD_WAIT: its answer went out without buttons; say if it was lost."""
    error = None if writing.cancelled() else writing.exception()
    if error is not None:
        log.warning("could not record a question in %s", path, exc_info=error)


# Callback data as `_buttons` writes it: strictly ASCII digits, few enough for an SQLite integer.
_BUTTON = re.compile(r"(up|down|more):([0-9]{1,18})")


def _buttons(question_id: int, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍", callback_data=f"up:{question_id}"),
                InlineKeyboardButton("👎", callback_data=f"down:{question_id}"),
                InlineKeyboardButton(say("more", language), callback_data=f"more:{question_id}"),
            ]
        ]
    )


async def send(bot: Any, chat_id: int, text: str, *, reply_to: int | None = None, markup: Any = None) -> Message:
    """Send one HTML message, retrying with back-off where that cannot duplicate it; returns the message sent."""
    reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.25, max=4),
        reraise=True,
    ):
        with attempt:
            return await bot.send_message(  # type: ignore[no-any-return]
                chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=reply, reply_markup=markup
            )
    raise AssertionError("unreachable: AsyncRetrying re-raises the last failure")


async def _best_effort(call: Awaitable[Any], *, quiet: bool = False) -> None:
    """Await a call whose failure must not stop the answer (typing indicator, apologies)."""
    try:
        await call
    except TelegramError as exc:
        if not quiet:
            log.warning("Telegram call failed, going on: %s", exc)


def webhook_secret(settings: TelegramSettings) -> str:
    """WEBHOOK_SECRET, or a random one for this run, redacted from the log either way.

    Telegram repeats the secret given to setWebhook in a header of every update, and python-telegram-bot
    refuses (403) a request without it; with no secret at all, anyone who can reach the port could post
    updates (a forged admin /reload, messages to any chat). Only Telegram needs to know it, so a fresh one
    at every start is enough: setWebhook hands Telegram the new one.
    """
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    secret = secrets.token_urlsafe(32)
    redact(secret)
    log.info("WEBHOOK_SECRET is not set: using a random secret for this run")
    return secret


def run_telegram(settings: TelegramSettings, service: QAService) -> int:
    """Long polling, or a webhook when WEBHOOK_URL is set; returns when stopped (Ctrl-C, SIGTERM)."""
    app = TelegramFrontEnd(settings, service).build()
    hidden = settings.secrets()
    try:
        if settings.webhook_url:
            secret = webhook_secret(settings)
            hidden.append(secret)
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=3,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)
    except InvalidToken:
        raise EventBotError(
            "the Bot API refused the token: check TELEGRAM_BOT_TOKEN (from @BotFather)", fix=Fix.SETTING
        ) from None
    except TelegramError as exc:
        reason = str(exc)
        for secret in filter(None, hidden):
            reason = reason.replace(secret, "[REDACTED]")
        raise EventBotError(
            f"cannot reach the Bot API at {settings.telegram_api_base_url} ({reason}); "
            "check the network, TELEGRAM_API_BASE_URL and WEBHOOK_* settings",
            fix=Fix.SETTING,
        ) from None
    except OSError as exc:  # the webhook's port: taken, or not ours to bind
        raise EventBotError(
            f"cannot listen for the webhook on {settings.webhook_listen}:{settings.webhook_port} "
            f"({exc.strerror or type(exc).__name__}); change WEBHOOK_LISTEN or WEBHOOK_PORT",
            fix=Fix.SETTING,
        ) from None
    return 0
