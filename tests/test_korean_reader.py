"""The Korean reader: a Korean question is read by it (Korean and English sentences alike), never by the English
reader, and what it reads as the answer is what the console, `ask` and Telegram quote first.

Fakes stand in for the models: the hashing embedders, a scripted reader, and READER=overlap for the bot process.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.console import run_console
from index.core.language import KOREAN, has_hangul
from index.core.settings import Settings
from index.models.embedder import Embedder
from index.models.reader import Candidate
from index.ranking import ranker as ranking
from index.ranking.answerability import FEATURES
from index.service import QAService, answering
from tests.botproc import prepare_bot
from tests.helpers import REPO, SEED, article_folder

KOREAN_ARTICLE = REPO / "eval" / "korean" / "docs" / "2025-07-08-k-defense-day-ko.txt"
QUESTION = "케이방산의 날 행사는 어디서 열렸어?"
READER_FEATURE = FEATURES.index("reader")


class Scripted:
    """A fake reader: probability 1 for sentences holding `favourite`, 0 for the rest; it records what it read."""

    def __init__(self, favourite: str, name: str = "scripted") -> None:
        self.favourite, self.name = favourite, name
        self.read_calls: list[tuple[str, list[Candidate]]] = []

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        self.read_calls.append((question, list(candidates)))
        return np.array([float(self.favourite in c.sentence) for c in candidates])


@pytest.fixture
def both(tmp_path: Path) -> Settings:
    """The seed article in English and in Korean, on the hashing embedders (no reader unless given one); every
    question answered (the hashing stand-in's confidences mean nothing), so the first hit is the one quoted."""
    seeds = article_folder(tmp_path / "both", SEED, KOREAN_ARTICLE)
    return Settings(
        seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing", watch=False, decline_threshold=0.0
    )


def _reachable(service: QAService, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A Korean question's first quote without a reader, and a sentence a reader can bring above it."""
    # The hashing stand-in's scores are spread wider than the real model's: the reader is given more weight here.
    monkeypatch.setattr(ranking, "W_READER_KOREAN", 5 * ranking.W_READER_KOREAN)
    alone = service.answer(QUESTION, top_k=5).hits
    reach = ranking.W_READER_KOREAN * (1 - ranking.READER_FLOOR_KOREAN)
    close = [hit for hit in alone[1:] if alone[0].score - hit.score < reach]
    assert close, "no second sentence within the reader's reach"
    return alone[0].sentence.text, close[0].sentence.text


def test_the_console_quotes_first_what_the_korean_reader_reads_as_the_answer(
    both: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = QAService.open(both, lambda message: None, embedder=lambda _: hashing)
    first, chosen = _reachable(plain, monkeypatch)
    english, korean = Scripted(chosen, "english"), Scripted(chosen, "korean")
    service = QAService(both, hashing, plain.data, plain.multilingual, reader=english, korean_reader=korean)
    out = io.StringIO()
    assert run_console(service, io.StringIO(f"{QUESTION}\n"), out) == 0
    quoted = out.getvalue().split("\n\n")[0]
    assert chosen in quoted and first not in quoted
    assert [question for question, _ in korean.read_calls] == [QUESTION] and english.read_calls == []
    assert len(korean.read_calls[0][1]) == both.reader_candidates
    # An English question is the English reader's, never the Korean one's.
    service.answer("Where was K-Defense Day held?")
    assert len(english.read_calls) == 1 and len(korean.read_calls) == 1
    # What the Korean reader says is evidence for the Korean answerability model.
    evidence = service._ranker.rank([QUESTION], hashing.encode([QUESTION]), 1, [plain.multilingual.queries([QUESTION])[0]])
    assert evidence[0].evidence[0][READER_FEATURE] == 1.0


def test_the_korean_reader_reads_english_sentences_for_a_korean_question(settings: Settings, hashing: Embedder) -> None:
    plain = QAService.open(settings, lambda message: None, embedder=lambda _: hashing)
    korean = Scripted("Grand Hyatt")
    service = QAService(settings, hashing, plain.data, plain.multilingual, reader=None, korean_reader=korean)
    service.answer(QUESTION)
    ((question, candidates),) = korean.read_calls
    assert question == QUESTION and candidates and not any(has_hangul(c.sentence) for c in candidates)
    assert all(c.title for c in candidates)  # read with the article's title, as the English reader reads


def test_ask_quotes_first_what_the_korean_reader_reads_as_the_answer(
    both: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = QAService.open(both, lambda message: None, embedder=lambda _: hashing)
    first, chosen = _reachable(plain, monkeypatch)
    korean = Scripted(chosen)
    monkeypatch.setattr(answering, "load_reader", lambda settings, language="en": korean if language == KOREAN else None)
    monkeypatch.setenv("SEEDS_DIR", str(both.seeds_dir))
    monkeypatch.setenv("INDEX_DIR", str(both.index_dir))
    monkeypatch.setenv("DECLINE_THRESHOLD", "0")
    assert main(["ask", "--json", QUESTION]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    answers = json.loads(line)["answers"]
    assert answers[0]["text"] == chosen != first and korean.read_calls


def test_telegram_answers_a_korean_question_with_the_korean_reader(tmp_path: Path) -> None:
    extra = {KOREAN_ARTICLE.name: KOREAN_ARTICLE.read_text(encoding="utf-8")}
    bot = prepare_bot(tmp_path / "home", extra_seeds=extra, READER="overlap")
    bot.start()
    try:
        assert "overlap (no model) for Korean" in bot.log_file.read_text()
        (answered,) = bot.replies(3001, bot.ask(3001, "그랜드 하얏트 호텔에서 열린 행사는 뭐야?"))
        assert "서울 도심의" in answered["text"].split("\n\n")[0]  # the Korean sentence (its asked words in bold)
        (english,) = bot.replies(3002, bot.ask(3002, "Where was K-Defense Day held?"))
        assert "Grand Hyatt" in english["text"].split("\n\n")[0]
    finally:
        bot.stop()


@pytest.mark.model
def test_the_shipped_korean_reader_tells_the_answering_sentence_from_its_neighbours() -> None:
    """The real model: a Korean question's answer, in Korean or in English, against sentences of the same event."""
    from index.models.reader import SHIPPED_KOREAN, OnnxReader

    korean = OnnxReader(SHIPPED_KOREAN)
    title = "이재명 대통령, 방산 강국 도약 의지"
    candidates = [
        Candidate("이재명 대통령은 서울 그랜드 하얏트 호텔에서 열린 제1회 케이방산의 날 행사에서 이같이 말했다.", title),
        Candidate("행사에는 한화에어로스페이스, LIG넥스원, 현대로템 등 방산업체 대표 100여 명이 참석했다.", title),
        Candidate("The inaugural K-Defense Day event was held at the Grand Hyatt Hotel in central Seoul.", "K-Defense Day"),
        Candidate("He noted that South Korea signed a 9 trillion won contract to export K-2 tanks to Poland.", "K-Defense Day"),
    ]
    where_ko, attended, where_en, contract = korean.read("케이방산의 날 행사는 어디에서 열렸나요?", candidates)
    assert where_ko > 0.5 and where_ko > 3 * attended
    # Across languages it is weak (README, "Korean"): it must at least not prefer the wrong English sentence.
    assert where_en >= contract
    (unrelated,) = korean.read("삼성전자 주가는 지금 얼마예요?", candidates[:1])
    assert unrelated < 0.2
