"""Everything the bot says in its own words, in each language it speaks: one table, one function.

A reader gets Korean when the question is in Korean (any Hangul) or, in Telegram, when their app is set to
Korean (`language_code` "ko"); English otherwise. Article text is always quoted as written. To add a
language, add its column to every entry of MESSAGES and its code to index.core.language.LANGUAGES.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.content.loader import Skipped
from index.core.language import ENGLISH, KOREAN, language_of
from index.ranking import conflicts

MESSAGES: dict[str, dict[str, str]] = {
    "decline": {ENGLISH: "The articles do not answer that.", KOREAN: "기사에는 그 질문에 대한 답이 없습니다."},
    "decline_hint": {
        ENGLISH: "Try rephrasing, or see which articles I know with /sources.",
        KOREAN: "질문을 바꿔 보시거나, /sources 로 제가 아는 기사를 확인해 보세요.",
    },
    "closest": {
        ENGLISH: "The articles don't say exactly; the closest they come is:",
        KOREAN: "기사에 정확한 답은 없습니다. 가장 가까운 내용은 다음과 같습니다:",
    },
    "figures_differ": {ENGLISH: conflicts.NOTE, KOREAN: "기사마다 수치가 다릅니다. 최신 기사부터 보여 드립니다."},
    "question_cut": {
        ENGLISH: "Your question was {total:,} characters long; only its first {kept:,} were used.",
        KOREAN: "질문이 {total:,}자로 길어서 앞의 {kept:,}자만 사용했습니다.",
    },
    "paragraph": {ENGLISH: "paragraph {number}", KOREAN: "{number}번째 문단"},
    "paragraphs": {ENGLISH: "paragraphs {numbers}", KOREAN: "{numbers}번째 문단"},
    "articles": {ENGLISH: "{count} article{s}", KOREAN: "기사 {count}건"},
    "more_articles": {ENGLISH: "… and {count} more article{s}", KOREAN: "… 외 {count}건"},
    "sentences": {ENGLISH: "{count} sentences", KOREAN: "{count}문장"},
    "text_only": {ENGLISH: "Please send your question as text.", KOREAN: "질문은 글로 보내 주세요."},
    "not_allowed": {
        ENGLISH: "Sorry, this bot is not available in this chat.",
        KOREAN: "죄송합니다. 이 대화방에서는 이 봇을 쓸 수 없습니다.",
    },
    "slow_down": {
        ENGLISH: "You are asking faster than I can answer; please wait a minute and try again.",
        KOREAN: "질문이 너무 빠릅니다. 1분쯤 기다렸다가 다시 물어봐 주세요.",
    },
    "apology": {
        ENGLISH: "Sorry, something went wrong while answering. Please try again.",
        KOREAN: "죄송합니다. 답을 찾는 중에 문제가 생겼습니다. 다시 시도해 주세요.",
    },
    "not_admin": {ENGLISH: "Sorry, you are not allowed to do that.", KOREAN: "죄송합니다. 그 명령은 관리자만 쓸 수 있습니다."},
    "unknown_command": {
        ENGLISH: "I don't know that command. /help lists what I can do.",
        KOREAN: "모르는 명령입니다. /help 로 쓸 수 있는 명령을 확인하세요.",
    },
    "ask_usage": {
        ENGLISH: "Usage: /ask QUESTION, for example /ask {example}",
        KOREAN: "사용법: /ask 질문 (예: /ask {example})",
    },
    "ask_in_words": {
        ENGLISH: "Please ask a question in words, for example: {example}",
        KOREAN: "질문을 글로 적어 주세요. 예: {example}",
    },
    "example": {ENGLISH: "Where was K-Defense Day held?", KOREAN: "K-방산의 날 행사는 어디서 열렸나요?"},
    "example_from_title": {ENGLISH: "What is new in “{title}”?", KOREAN: "“{title}” 기사의 핵심은 뭔가요?"},
    "start": {
        ENGLISH: "I answer questions about {count} news article{s} ({titles}) by quoting the sentences that answer "
        "them, with sources.\n"
        "Try: <i>{example}</i>  (/help for more)",
        KOREAN: "뉴스 기사 {count}건({titles})에 관한 질문에, 답이 되는 문장을 출처와 함께 그대로 인용해 답합니다.\n"
        "예: <i>{example}</i>  (/help 도움말)",
    },
    "help": {
        ENGLISH: "Ask me a question about the news articles I know, and I reply with the sentences that answer it, "
        "each with its source (article, date, paragraph). I never make anything up: if the articles do not "
        "answer, I say so.\n\n"
        "In a group, use /ask QUESTION, reply to one of my messages, or mention me.\n"
        "Inline: type @{username} QUESTION in any chat.\n\n"
        "/sources lists the articles. /help shows this.",
        KOREAN: "제가 아는 뉴스 기사에 대해 질문하시면, 답이 되는 문장을 출처(기사, 날짜, 문단)와 함께 "
        "그대로 인용해 드립니다. 지어내지 않습니다. 기사에 답이 없으면 없다고 말씀드립니다.\n\n"
        "단체 대화방에서는 /ask 질문, 제 메시지에 답장, 또는 저를 언급해 주세요.\n"
        "인라인: 아무 대화방에서나 @{username} 질문 을 입력하세요.\n\n"
        "/sources 는 기사 목록, /help 는 이 도움말입니다.",
    },
    "added": {
        ENGLISH: "Added: {title} ({date}), {count} sentences. Questions are answered from it now.",
        KOREAN: "추가했습니다: {title} ({date}), {count}문장. 이제 이 기사로도 답합니다.",
    },
    "updated": {
        ENGLISH: "Updated: {title} ({date}), {count} sentences. This address was added before; its article is replaced.",
        KOREAN: "갱신했습니다: {title} ({date}), {count}문장. 전에 추가한 주소라 그 기사를 바꿨습니다.",
    },
    "add_busy": {
        ENGLISH: "Busy adding other pages; send /add again in a minute.",
        KOREAN: "다른 페이지를 추가하는 중입니다. 잠시 후 /add 를 다시 보내 주세요.",
    },
    "not_added": {ENGLISH: "Not added: {reason}", KOREAN: "추가하지 못했습니다: {reason}"},
    "add_usage": {ENGLISH: "Usage: /add URL (a news article's web address)", KOREAN: "사용법: /add 주소 (뉴스 기사 웹 주소)"},
    "upload_type": {
        ENGLISH: "{name} is not an article file (.txt, .md or .html)",
        KOREAN: "{name}: 기사 파일(.txt, .md, .html)이 아닙니다",
    },
    "upload_size": {ENGLISH: "{name} is over the {limit:,}-byte limit", KOREAN: "{name}: {limit:,}바이트 제한을 넘습니다"},
    "upload_encoding": {ENGLISH: "{name} is not UTF-8 text", KOREAN: "{name}: UTF-8 텍스트가 아닙니다"},
    "upload_renamed": {
        ENGLISH: "(Another article has the name {wanted}; saved as {name}.)",
        KOREAN: "(다른 기사가 {wanted} 이름을 쓰고 있어 {name}(으)로 저장했습니다.)",
    },
    "upload_cleaned": {
        ENGLISH: "(Saved as {name}, the safe form of the file name it was sent with.)",
        KOREAN: "(보내신 파일 이름을 안전한 형태인 {name}(으)로 바꿔 저장했습니다.)",
    },
    "upload_cleaned_renamed": {
        ENGLISH: "(Saved as {name}: {wanted}, the safe form of the file name it was sent with, is the name of another article.)",
        KOREAN: "(보내신 파일 이름의 안전한 형태인 {wanted}은(는) 다른 기사가 쓰고 있어 {name}(으)로 저장했습니다.)",
    },
    "more": {ENGLISH: "More", KOREAN: "더 보기"},
    "thanks": {ENGLISH: "Thanks, noted.", KOREAN: "감사합니다. 반영했습니다."},
    "too_old": {ENGLISH: "That answer is no longer in the log.", KOREAN: "그 답변은 기록에 더 이상 없습니다."},
    "button_unknown": {
        ENGLISH: "That button is not one of this answer's.",
        KOREAN: "이 답변의 버튼이 아닙니다.",
    },
    "buttons_off": {
        ENGLISH: "The question log is not available, so these buttons do not work now.",
        KOREAN: "질문 기록을 쓸 수 없어 지금은 이 버튼이 작동하지 않습니다.",
    },
    "log_unavailable": {
        ENGLISH: "The question log cannot be read right now; please try again later.",
        KOREAN: "지금은 질문 기록을 읽을 수 없습니다. 잠시 후 다시 시도해 주세요.",
    },
    "button_failed": {
        ENGLISH: "Sorry, that press could not be handled; please try again.",
        KOREAN: "죄송합니다. 버튼을 처리하지 못했습니다. 다시 눌러 주세요.",
    },
    "no_more": {ENGLISH: "The articles have nothing more on that.", KOREAN: "기사에 더 이상의 내용이 없습니다."},
    "log_off": {
        ENGLISH: "The question log is off (QUESTION_LOG=false).",
        KOREAN: "질문 기록이 꺼져 있습니다 (QUESTION_LOG=false).",
    },
    "inline_decline_title": {ENGLISH: "The articles do not answer that.", KOREAN: "기사에 답이 없습니다."},
    "inline_decline_description": {ENGLISH: "Try rephrasing the question.", KOREAN: "질문을 바꿔 보세요."},
    "inline_decline_body": {ENGLISH: "{question}: the articles do not answer that.", KOREAN: "{question}: 기사에 답이 없습니다."},
    "skipped": {
        ENGLISH: "Left out, not quoted until fixed: {files}. Every other change to the articles is in.",
        KOREAN: "읽을 수 없어 고칠 때까지 인용하지 않는 파일: {files}. 다른 기사 변경은 모두 반영했습니다.",
    },
    "skipped_more": {ENGLISH: "… and {count} more", KOREAN: "… 외 {count}건"},
}


def say(key: str, language: str, **values: object) -> str:
    """The message `key` in `language` (English when it has no such column), with `values` filled in."""
    entry = MESSAGES[key]
    return entry.get(language, entry[ENGLISH]).format(**values)


def example_question(titles: list[str], language: str) -> str:
    """An example question for /start, from the newest article's title (the fixed example when there is none)."""
    if not titles:
        return say("example", language)
    title = titles[0] if len(titles[0]) <= 80 else titles[0][:79].rsplit(" ", 1)[0] + "…"
    return say("example_from_title", language, title=title)


def reader_language(question: str = "", language_code: str | None = None) -> str:
    """Korean for a Korean question or a reader whose Telegram app is in Korean; English otherwise."""
    if language_of(question) == KOREAN or (language_code or "").lower().startswith("ko"):
        return KOREAN
    return ENGLISH


def skipped_notice(skipped: Sequence[Skipped], language: str, shown: int = 5) -> str:
    """One line for admins: which article files were left out and why (the first `shown` of them)."""
    files = "; ".join(f"{item.name} ({item.reason})" for item in skipped[:shown])
    if len(skipped) > shown:
        files += " " + say("skipped_more", language, count=len(skipped) - shown)
    return say("skipped", language, files=files)


_CUT = re.compile(r"^Your question was ([\d,]+) characters long; only its first ([\d,]+) were used\.$")


def note(text: str, language: str) -> str:
    """An engine note (index/content/question.py, index/ranking/conflicts.py) in the reader's language."""
    if language == ENGLISH:
        return text
    if text == conflicts.NOTE:
        return say("figures_differ", language)
    if (cut := _CUT.match(text)) is not None:
        total, kept = (int(group.replace(",", "")) for group in cut.groups())
        return say("question_cut", language, total=total, kept=kept)
    return text
