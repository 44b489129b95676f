"""Many articles: conflicting figures shown dated and newest first, and newer articles preferred on a tie."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.format import answer_text
from index.embedder import Embedder
from index.service import QAService
from index.settings import Settings

EARLIER = "date 2025-07-08 Seoul signs tank deal\nThe tank deal with Poland is worth 9 trillion won, officials said.\n"
LATER = "date 2025-08-01 Second tank contract\nThe tank deal with Poland is worth $6.5 billion, the ministry said.\n"


@pytest.fixture
def two_articles(tmp_path: Path, hashing: Embedder) -> QAService:
    seeds = tmp_path / "articles"
    seeds.mkdir()
    (seeds / "earlier.txt").write_text(EARLIER, encoding="utf-8")
    (seeds / "later.txt").write_text(LATER, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing")
    return QAService.open(settings, lambda message: None, embedder=lambda _: hashing)


def test_a_figure_two_articles_disagree_on_is_shown_from_both_newest_first(two_articles: QAService) -> None:
    answer = two_articles.answer("How much is the tank deal with Poland worth?")
    assert answer.answered
    assert [hit.document.date for hit in answer.presented] == ["2025-08-01", "2025-07-08"]
    assert "$6.5 billion" in answer.presented[0].sentence.text and "9 trillion won" in answer.presented[1].sentence.text
    text = answer_text(answer)
    assert text.index("$6.5 billion") < text.index("9 trillion won")
    assert "different figures" in text and "2025-08-01" in text and "2025-07-08" in text


def test_a_question_that_asks_for_no_figure_gets_the_best_sentence_only(two_articles: QAService) -> None:
    answer = two_articles.answer("Which country is the tank deal with?")
    assert answer.answered and not any("different figures" in note for note in answer.notes)


def test_between_equally_good_answers_the_newer_article_wins(tmp_path: Path, hashing: Embedder) -> None:
    seeds = tmp_path / "articles"
    seeds.mkdir()
    same = "The delegation visited the Changwon plant on Tuesday.\n"
    (seeds / "a-old.txt").write_text("date 2025-07-01 Visit\n" + same, encoding="utf-8")
    (seeds / "b-new.txt").write_text("date 2025-09-01 Visit\n" + same, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing")
    service = QAService.open(settings, lambda message: None, embedder=lambda _: hashing)
    assert service.answer("Which plant did the delegation visit?").hits[0].document.date == "2025-09-01"
