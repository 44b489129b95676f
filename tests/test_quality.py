"""Answer quality behaviour: hybrid ranking, context, declining, near-duplicates, and the eval command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from index.core.settings import Settings
from index.models.embedder import Embedder
from index.service import QAService
from measure import baselines
from tests.helpers import AIR_SHOW, REAL_ENGLISH, SEED


def open_real(settings: Settings, embedder: Embedder) -> QAService:
    return QAService.open(settings, lambda message: None, embedder=lambda _: embedder)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> QAService:
    """The seed article on the real model, built once for the tests that only ask."""
    home = tmp_path_factory.mktemp("quality")
    (home / "seeds").mkdir()
    shutil.copy(SEED, home / "seeds" / SEED.name)
    settings = Settings(seeds_dir=home / "seeds", index_dir=home / "index", **REAL_ENGLISH)
    return open_real(settings, real_embedder)


def test_known_question_is_answered_with_its_sentence(service: QAService) -> None:
    answer = service.answer("Which company builds the K-2 tank that Poland ordered?")
    assert answer.answered
    assert "Hyundai Rotem's K-2 tanks to Poland" in answer.presented[0].sentence.text
    assert answer.presented[0].sentence.paragraph == 17


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "How many legs does a spider have?",
        "What is the speed of light?",
        # No recognisable kind of answer and no name: below the similarity floor, whatever else the evidence says.
        "How do I cook rice?",
        "Can you recommend a movie for tonight?",
    ],
)
def test_off_topic_question_is_declined(service: QAService, question: str) -> None:
    answer = service.answer(question)
    assert not answer.answered and answer.presented == ()
    assert len(answer.hits) == 3  # the ranked candidates are still there for scripts


@pytest.mark.parametrize(
    "question",
    ["How much does a K-9 howitzer cost?", "Who won the Nobel Prize in Literature in 2016?", "How tall is Mount Everest?"],
)
def test_near_topic_question_is_not_answered_and_confidence_is_a_probability(service: QAService, question: str) -> None:
    answer = service.answer(question)
    assert not answer.answered
    assert all(0.0 <= hit.confidence < service.judges.threshold("en") for hit in answer.hits)


def test_an_answerable_question_is_answered_well_above_the_threshold(service: QAService) -> None:
    answer = service.answer("Where was K-Defense Day held?")
    assert answer.answered and answer.presented[0].confidence >= 3 * service.judges.threshold("en")
    assert "Grand Hyatt" in answer.presented[0].sentence.text


def test_question_naming_something_absent_scores_lower(service: QAService) -> None:
    about = service.answer("How much did Poland pay for the tanks?").hits[0]
    absent = service.answer("How much did Germany pay for the tanks?").hits[0]
    assert absent.sentence == about.sentence
    assert absent.confidence < about.confidence


def test_near_duplicates_are_returned_once(real_settings: Settings, real_embedder: Embedder) -> None:
    settings = real_settings
    (settings.seeds_dir / "wire-copy.txt").write_text(
        "date 2025-07-08 Wire copy\n"
        "He noted that South Korea signed a 9 trillion won ($6.7 billion) contract earlier this month "
        "to export Hyundai Rotem's K-2 tanks to Poland.\n"
        "He noted that South Korea signed a 9 trillion won ($6.7 billion) contract earlier this month "
        "to export Hyundai Rotem's K2 tanks to Poland!\n",
        encoding="utf-8",
    )
    service = open_real(settings, real_embedder)
    hits = service.answer("How much is the tank contract with Poland worth?", top_k=5).hits
    tank_hits = [h for h in hits if "9 trillion won" in h.sentence.text]
    assert len(tank_hits) == 1
    assert len(hits) == 5


def test_paragraph_context_finds_a_sentence_that_only_says_it(real_settings: Settings, real_embedder: Embedder) -> None:
    settings = real_settings
    (settings.seeds_dir / "air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    service = open_real(settings, real_embedder)
    answer = service.answer("Was the Seoul aerospace exhibition popular with visitors?")
    assert answer.answered
    assert answer.presented[0].sentence.text.startswith("It drew 50,000 visitors")


def test_lexical_side_follows_an_incremental_rebuild(real_settings: Settings, real_embedder: Embedder) -> None:
    settings = real_settings
    open_real(settings, real_embedder)
    (settings.seeds_dir / "air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    service = open_real(settings, real_embedder)
    vectors = real_embedder.encode(["Seoul Air Base exhibition"])
    (found,) = baselines.ranked(service.data, baselines.bm25(service.data), ["Seoul Air Base exhibition"], vectors, 1)
    assert found[0].doc_id == "air-show"
    assert service.answer("Seoul Air Base exhibition").hits[0].document.doc_id == "air-show"


def write_questions(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


QUESTIONS = [
    {"question": "Which hotel hosted K-Defense Day?", "answers": ["Grand Hyatt"]},
    {"question": "How much is the tank deal with Poland worth?", "answers": ["9 trillion won"]},
    {"question": "Who painted the Mona Lisa?", "answers": []},
    {"question": "What colour is the president's car?", "answers": ["a colour the article never names"]},
]


def test_eval_json_reports_system_and_baselines(real_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_questions(tmp_path / "q.jsonl", QUESTIONS)
    assert main(["eval", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["answerable"] == 3 and report["should_decline"] == 1
    for mode in ("hybrid", "bm25", "dense"):
        figures = report[mode]
        assert 0 <= figures["r@1"] <= figures["r@3"] <= 1 and 0 <= figures["mrr@10"] <= 1
        assert figures["r@3"] <= 2 / 3 + 1e-9  # the third answerable question cannot be found
    assert report["hybrid"]["r@1"] == pytest.approx(2 / 3)
    assert report["declined"] == 1.0
    assert 0 <= report["wrongly_declined"] <= 1


def test_eval_verbose_lists_misses_with_what_was_returned(
    real_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_questions(tmp_path / "q.jsonl", QUESTIONS)
    assert main(["eval", str(path), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "hybrid" in out and "BM25" in out and "dense" in out
    assert 'MISS "What colour is the president\'s car?"' in out
    assert "  1. " in out
    assert "Which hotel hosted" not in out.split("MISS", 1)[1]


def test_eval_context_must_contain_the_sentence(real_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"question": "Which hotel hosted K-Defense Day?", "answers": ["Grand Hyatt"], "context": "Another paragraph entirely."}
    ]
    assert main(["eval", str(write_questions(tmp_path / "q.jsonl", rows)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hybrid"]["r@3"] == 0.0


def test_eval_with_seeds_builds_a_temporary_index(real_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    rows = [{"question": "Where did the aerospace exhibition open?", "answers": ["Seoul Air Base"]}]
    assert main(["eval", str(write_questions(tmp_path / "q.jsonl", rows)), "--json", "--seeds", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["hybrid"]["r@1"] == 1.0
    assert not (real_env.index_dir / "CURRENT").exists()  # the operator's index was not touched


@pytest.mark.parametrize("line", ["not json", '{"answers": []}', '{"question": 5}', '["a list"]'])
def test_eval_rejects_a_malformed_line_naming_it(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "ok?", "answers": []}\n' + line + "\n", encoding="utf-8")
    assert main(["eval", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and err.count("\n") == 1
