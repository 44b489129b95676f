"""Many articles: conflicting figures shown dated and newest first, and newer articles preferred on a tie."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.format import CLOSEST, DECLINE, answer_html, answer_json, answer_text
from index.core.records import DocumentInfo, Hit, Sentence
from index.core.settings import Settings
from index.models.embedder import Embedder
from index.ranking import answerability, decide, decline
from index.service import QAService

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


def _hit(confidence: float, text: str = "The tank deal is worth 9 trillion won.") -> Hit:
    document = DocumentInfo("a", "Tank deal", "2025-07-08", "a.txt", "hash", 1)
    return Hit(Sentence("a", 1, 1, 0, len(text), text), document, score=1.0, confidence=confidence)


def test_decide_answers_at_the_threshold_shows_the_closest_below_it_and_declines_far_below() -> None:
    assert decide("What is the deal worth?", (_hit(0.4),), 0.3).answered
    closest = decide("What is the deal worth?", (_hit(0.2),), 0.3)
    assert not closest.answered and closest.closest and len(closest.presented) == 1
    declined = decide("What is the deal worth?", (_hit(0.1),), 0.3)
    assert not declined.answered and declined.presented == ()


def test_a_likely_second_hit_is_presented_when_the_first_is_not() -> None:
    first, second = _hit(0.05, "The deal was discussed."), _hit(0.6)
    decision = decide("How much is the deal worth?", (first, second), 0.3)
    assert decision.answered and decision.presented == (second,)


def test_a_near_topic_question_gets_the_closest_sentence_with_honest_wording(tmp_path: Path, hashing: Embedder) -> None:
    seeds = tmp_path / "articles"
    seeds.mkdir()
    (seeds / "earlier.txt").write_text(EARLIER, encoding="utf-8")
    question = "What colour are the tanks?"  # about the tanks, but the article never says

    def open_with(threshold: float | None) -> QAService:
        settings = Settings(
            seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing", decline_threshold=threshold
        )
        return QAService.open(settings, lambda message: None, embedder=lambda _: hashing)

    likelihood = open_with(None).answer(question).hits[0].confidence
    assert 0.0 < likelihood < decline.CLOSEST  # so that a threshold of 1 is far enough above it
    # Just above the sentence's likelihood: not an answer, but the closest the article comes.
    answer = open_with(min(1.0, likelihood * 1.5)).answer(question)
    assert not answer.answered and answer.closest
    text = answer_text(answer)
    assert text.startswith(CLOSEST) and "tank deal with Poland" in text and "[1] Seoul signs tank deal, 2025-07-08" in text
    assert "the closest they come is:" in answer_html(answer)[0]
    row = answer_json(answer)
    assert row["answered"] is False and row["closest"] is True and row["answers"][0]["confidence"] == round(likelihood, 4)
    # Far above it: declined plainly, nothing quoted.
    declined = open_with(1.0).answer(question)
    assert not declined.answered and not declined.closest and answer_text(declined).startswith(DECLINE)


def test_a_hit_below_the_similarity_floor_has_probability_zero_and_the_floor_is_validated() -> None:
    shipped = answerability.load()
    assert 0.0 < shipped.min_similarity < 1.0  # fitted by eventbot calibrate
    evidence = np.array([[shipped.min_similarity + 0.2] + [1.0] * (len(answerability.FEATURES) - 1)])
    above = float(shipped.probabilities(evidence)[0])
    evidence[0, 0] = shipped.min_similarity - 0.01
    assert above > 0.0 and float(shipped.probabilities(evidence)[0]) == 0.0
    raw = json.loads(answerability.SHIPPED.read_text(encoding="utf-8"))
    with pytest.raises(ValueError):
        answerability.Model.from_dict({**raw, "min_similarity": 2.0})
    assert answerability.Model.from_dict({k: v for k, v in raw.items() if k != "min_similarity"}).min_similarity == 0.0
