"""The reader: it rescores the hybrid ranking's best candidates, its probability is evidence for declining, the
shipped model matches its manifest, and the training command works (on a tiny set)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.format import CLOSEST, DECLINE, answer_text
from index.core.settings import Settings
from index.models import reader
from index.models.embedder import Embedder
from index.models.reader import Candidate, OverlapReader, pair_text
from index.ranking import ranker as ranking
from index.ranking.answerability import FEATURES
from index.service import QAService
from tests.helpers import REAL_ENGLISH, REPO

READER_FEATURE = FEATURES.index("reader")
QUESTION = "Where was K-Defense Day held?"


class Scripted:
    """A fake reader: probability 1 for sentences holding `favourite`, 0 for the rest; it records what it read."""

    name = "scripted"

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite
        self.read_calls: list[tuple[str, list[Candidate]]] = []

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        self.read_calls.append((question, list(candidates)))
        return np.array([float(self.favourite in c.sentence) for c in candidates])


def served(settings: Settings, hashing: Embedder, fake: object | None) -> QAService:
    plain = QAService.open(settings, lambda message: None, embedder=lambda _: hashing)
    return QAService(settings, hashing, plain.data, plain.multilingual, reader=fake)  # type: ignore[arg-type]


def test_the_reader_puts_the_sentence_it_reads_as_the_answer_first(
    settings: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hashing stand-in's scores are spread wider than the real model's: the reader is given more weight here.
    monkeypatch.setattr(ranking, "W_READER", 5 * ranking.W_READER)
    alone = served(settings, hashing, None).answer(QUESTION, top_k=5).hits
    # The lowest of the hits whose hybrid score is within the reader's weight of the first one's.
    close = [hit for hit in alone[1:] if alone[0].score - hit.score < ranking.W_READER * (1 - ranking.READER_FLOOR)]
    assert close
    chosen = close[-1].sentence.text
    fake = Scripted(chosen)
    read = served(settings, hashing, fake).answer(QUESTION, top_k=5).hits
    assert read[0].sentence.text == chosen and alone[0].sentence.text != chosen
    assert len(fake.read_calls) == 1 and len(fake.read_calls[0][1]) == settings.reader_candidates
    # A reader that finds no answer among them leaves the hybrid order as it was.
    unmoved = served(settings, hashing, Scripted("no sentence says this")).answer(QUESTION, top_k=5).hits
    assert [h.sentence for h in unmoved] == [h.sentence for h in alone]
    # Nor does one that reads the chosen sentence below a floor, when one is set: under it, the reader has found
    # nothing.
    monkeypatch.setattr(ranking, "READER_FLOOR", 0.2)
    unsure = Scripted(chosen)
    unsure.read = lambda question, candidates: 0.9 * ranking.READER_FLOOR * Scripted.read(unsure, question, candidates)  # type: ignore[method-assign]
    doubtful = served(settings, hashing, unsure).answer(QUESTION, top_k=5).hits
    assert [h.sentence for h in doubtful] == [h.sentence for h in alone]


def test_the_readers_probability_is_evidence_for_the_answerability_model(settings: Settings, hashing: Embedder) -> None:
    service = served(settings, hashing, None)
    first = service.answer(QUESTION).hits[0].sentence.text
    fake = QAService(settings, hashing, service.data, service.multilingual, reader=Scripted(first))  # type: ignore[arg-type]
    ranked = fake.rank([QUESTION], 3)[0]
    assert ranked.evidence[0][READER_FEATURE] == 1.0 and ranked.evidence[1][READER_FEATURE] == 0.0
    without = service.rank([QUESTION], 3)[0]
    assert all(e[READER_FEATURE] == 0.0 for e in without.evidence)  # no reader: no evidence from one


def test_declining_reads_the_readers_evidence_over_every_candidate_it_read(settings: Settings, hashing: Embedder) -> None:
    service = served(settings, hashing, None)
    hits = service.answer(QUESTION, top_k=5).hits
    second = hits[1].sentence.text

    class Graded(Scripted):
        """0.9 for the second hybrid hit, 0.3 for the first, 0.1 for the rest."""

        def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
            first = hits[0].sentence.text
            return np.array([0.9 if c.sentence == second else 0.3 if c.sentence == first else 0.1 for c in candidates])

    fake = QAService(settings, hashing, service.data, service.multilingual, reader=Graded(""))  # type: ignore[arg-type]
    ranked = fake.rank([QUESTION], 5)[0]
    by_text = {service.data.sentences[row].text: evidence for row, evidence in zip(ranked.rows, ranked.evidence, strict=True)}
    best, lead = FEATURES.index("reader_best"), FEATURES.index("reader_lead")
    # Every hit knows the best the reader found for the question, and how far it stands from the best of the others.
    assert all(e[best] == pytest.approx(0.9) for e in ranked.evidence)
    assert by_text[second][lead] == pytest.approx(0.9 - 0.3)
    assert by_text[hits[0].sentence.text][lead] == pytest.approx(0.3 - 0.9)
    assert all(e[best] == 0.0 and e[lead] == 0.0 for e in service.rank([QUESTION], 3)[0].evidence)


def test_the_reader_reads_each_sentence_with_its_title_and_the_sentence_before_in_its_paragraph(
    settings: Settings, hashing: Embedder
) -> None:
    fake = Scripted("nothing")
    # Read every sentence of the article, so that sentences later in their paragraphs are among them.
    service = served(settings.model_copy(update={"reader_candidates": 50}), hashing, fake)
    service.answer(QUESTION)
    candidates = fake.read_calls[0][1]
    by_text = {s.text: s for s in service.data.sentences}
    title = service.data.manifest.documents[0].title
    assert {c.title for c in candidates} == {title}
    for candidate in candidates:
        sentence = by_text[candidate.sentence]
        if sentence.sentence == 1:
            assert candidate.previous is None  # the first of a paragraph has nothing before it there
        else:
            before = next(
                s for s in service.data.sentences if (s.paragraph, s.sentence) == (sentence.paragraph, sentence.sentence - 1)
            )
            assert candidate.previous == before.text
    assert any(c.previous for c in candidates)
    # What the model reads: the sentence first (so truncation cuts context, not the sentence), then the context.
    text = pair_text(Candidate("Forty boats sailed.", "Harbour fair", "The fair opened on Monday."))
    assert text == "Forty boats sailed. [SEP] Harbour fair. The fair opened on Monday."
    assert pair_text(Candidate("  Forty   boats. ")) == "Forty boats."


def test_a_korean_question_is_not_read_by_the_english_reader(settings: Settings, hashing: Embedder) -> None:
    fake = Scripted("Hyatt")
    served(settings, hashing, fake).answer("국방의 날 행사는 어디에서 열렸나요?")
    assert fake.read_calls == []


def test_the_overlap_stand_in_and_the_reader_setting(settings: Settings) -> None:
    scores = OverlapReader().read(
        "How many fishing boats sailed?", [Candidate("Forty fishing boats sailed."), Candidate("It rained.")]
    )
    assert scores[0] == pytest.approx((3 / 5) ** 2) and scores[1] == 0.0  # fishing, boats, sailed of five words
    assert reader.load_reader(settings) is None  # auto with the hashing backend: off
    assert isinstance(reader.load_reader(settings.model_copy(update={"reader": "overlap"})), OverlapReader)
    assert Settings(embedding_backend="onnx").reader_kind() == "onnx"


def test_a_bad_reader_setting_is_one_line_naming_it(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("READER", "gpt")
    assert main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err.strip()
    assert "READER" in err and "auto, onnx, overlap or off" in err and "\n" not in err


def test_a_missing_reader_model_is_one_line_that_says_how_to_go_on(tmp_path: Path) -> None:
    with pytest.raises(reader.ModelLoadError, match="READER=off"):
        reader.OnnxReader(tmp_path)
    with pytest.raises(reader.ModelLoadError, match="READER=off"):  # checked at start, though loaded later
        reader.LazyReader(tmp_path)


def test_each_shipped_reader_loads_on_the_first_question_of_its_language(settings: Settings, hashing: Embedder) -> None:
    onnx = settings.model_copy(update={"reader": "onnx"})
    plain = QAService.open(settings, lambda message: None, embedder=lambda _: hashing)
    service = QAService(onnx, hashing, plain.data, plain.multilingual)
    english, korean = service.reader, service.korean_reader
    assert isinstance(english, reader.LazyReader) and isinstance(korean, reader.LazyReader)
    assert not english.loaded and not korean.loaded
    service.answer("케이방산의 날 행사는 어디서 열렸어?")
    assert korean.loaded and not english.loaded  # a Korean question wakes only the Korean reader
    service.answer(QUESTION)
    assert english.loaded
    assert "for Korean" in service.describe_readers()


@pytest.mark.parametrize("folder", [reader.SHIPPED, reader.SHIPPED_KOREAN], ids=["english", "korean"])
def test_the_manifest_matches_the_shipped_model(folder: Path) -> None:
    manifest = json.loads((folder / reader.MANIFEST).read_text(encoding="utf-8"))
    serving = folder / manifest["serving_file"]
    assert serving.is_file()
    from measure.train_reader import sha256

    assert sha256(serving) == manifest["model_sha256"][manifest["serving_file"]]
    assert sorted(p.name for p in folder.iterdir()) == sorted([manifest["serving_file"], reader.MANIFEST, "tokenizer.json"])
    expected = (
        {"korquad1-dev-part.json", "squad2-dev-part.json"}
        if folder == reader.SHIPPED_KOREAN
        else {"squad2-dev-part.json", "trecqa-train.jsonl", "trecqa-dev.jsonl"}
    )
    assert {Path(d["file"]).name for d in manifest["data"]} >= expected
    assert all(len(d["sha256"]) == 64 for d in manifest["data"])
    assert manifest["seed"] == 13 and manifest["command"].startswith("eventbot train-reader")
    for figures in manifest["figures"].values():
        assert 0.5 < figures["held_out_auc"] <= 1.0


def tiny_training_data(folder: Path) -> Path:
    """Two SQuAD-format articles and a few TrecQA pairs: enough for the command to run end to end."""
    folder.mkdir()
    paragraphs = [
        {
            "context": (
                "The harbour fair opened on Monday. A parade of forty fishing boats sailed past the pier. It rained later."
            ),
            "qas": [
                {
                    "question": "How many boats sailed in the parade?",
                    "is_impossible": False,
                    "answers": [{"text": "forty", "answer_start": 49}],
                },
                {"question": "Who opened the fair?", "is_impossible": True, "answers": []},
            ],
        },
        {
            "context": "The mayor spoke at noon. She promised a new lighthouse by 2027.",
            "qas": [
                {
                    "question": "When will the lighthouse be built?",
                    "is_impossible": False,
                    "answers": [{"text": "2027", "answer_start": 58}],
                }
            ],
        },
    ]
    squad = {"data": [{"title": "Harbour_fair", "paragraphs": paragraphs}, {"title": "Town", "paragraphs": paragraphs[1:]}]}
    for name in ("squad2-dev-part.json", "squad2-train-part.json", "squad1-train.json"):
        (folder / name).write_text(json.dumps(squad), encoding="utf-8")
    rows = [
        {"question": "Who wrote Hamlet ?", "sentence": "Hamlet was written by Shakespeare .", "label": 1},
        {"question": "Who wrote Hamlet ?", "sentence": "Hamlet is set in Denmark .", "label": 0},
    ]
    for name in ("trecqa-train.jsonl", "trecqa-dev.jsonl"):
        (folder / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return folder


@pytest.mark.model
def test_the_training_command_runs_on_a_tiny_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tiny_training_data(tmp_path / "data")
    output = tmp_path / "reader"
    stage1 = tmp_path / "stage1"
    assert main(["train-reader", "--data", str(data), "--output", str(output), "--limit", "100", "--keep", str(stage1)]) == 0
    manifest = json.loads((output / reader.MANIFEST).read_text(encoding="utf-8"))
    # A second stage starts from the kept model and records how that was made.
    second = tmp_path / "reader-2"
    assert main(["train-reader", "--data", str(data), "--output", str(second), "--limit", "100", "--start", str(stage1)]) == 0
    assert json.loads((second / reader.MANIFEST).read_text(encoding="utf-8"))["first_stage"]["pairs"] == manifest["pairs"]
    assert manifest["serving_file"] == "model.int8.onnx" and not (output / "model.onnx").exists()
    assert {d["file"].split("/")[-1] for d in manifest["data"]} >= {"squad2-dev-part.json", "trecqa-train.jsonl"}
    probabilities = reader.OnnxReader(output).read("How many boats?", [Candidate("Forty boats."), Candidate("It rained.")])
    assert probabilities.shape == (2,) and np.all((probabilities > 0) & (probabilities < 1))
    assert main(["train-reader", "--data", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err


def tiny_korquad(folder: Path) -> None:
    """Twelve one-paragraph KorQuAD-format articles (the last ten become report and tuning articles)."""
    context = "부산 항구 축제가 토요일에 열렸다. 어선 마흔 척이 부두를 지나 행진했다. 저녁에는 비가 내렸다."
    answer = [{"text": "마흔", "answer_start": context.index("마흔")}]
    # Over 200 questions in the two training articles: a hundred are kept aside as questions to decline.
    articles = [
        {"title": f"축제_{n}", "paragraphs": [{"context": context, "qas": [
            {"question": f"{n}-{q}번: 몇 척의 어선이 행진했나?", "answers": answer} for q in range(150 if n < 2 else 1)
        ]}]}
        for n in range(12)
    ]  # fmt: skip
    (folder / "korquad1-dev-part.json").write_text(json.dumps({"data": articles}, ensure_ascii=False), encoding="utf-8")


def test_translated_squad_questions_replace_only_their_own_and_never_on_a_report_article(tmp_path: Path) -> None:
    from measure.train_reader import REPORT_ARTICLES, in_korean

    def article(title: str, ids: Sequence[str]) -> dict:
        return {
            "title": title,
            "paragraphs": [{"context": "A sentence.", "qas": [{"id": i, "question": f"English {i}?"} for i in ids]}],
        }

    translations = tmp_path / "ko.jsonl"
    translations.write_text(
        json.dumps({"id": "a1", "question": "한국어 질문 하나?"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"id": "r1", "question": "보고용 질문?"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    kept = in_korean([article("Train", ["a1", "a2"]), article(REPORT_ARTICLES[0], ["r1"])], translations)
    assert [a["title"] for a in kept] == ["Train"]
    assert kept[0]["paragraphs"][0]["qas"] == [{"id": "a1", "question": "한국어 질문 하나?"}]


def test_the_shipped_korean_translations_are_of_training_questions_only() -> None:
    from measure.train_reader import KOREAN_SQUAD_QUESTIONS

    rows = [json.loads(line) for line in KOREAN_SQUAD_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 300 and len({r["id"] for r in rows}) == len(rows)
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in r["question"]) for r in rows)
    squad = REPO.parent / "shared" / "training" / "squad2-dev-part.json"
    if not squad.is_file():
        pytest.skip("the SQuAD 2.0 part is not beside this checkout")
    from measure.train_reader import REPORT_ARTICLES

    title_of = {
        qa["id"]: article["title"]
        for article in json.loads(squad.read_text(encoding="utf-8"))["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    titles = [title_of.get(r["id"]) for r in rows]
    assert None not in titles and not set(titles) & set(REPORT_ARTICLES)


@pytest.mark.model
def test_the_korean_training_command_runs_on_a_tiny_set(tmp_path: Path) -> None:
    data = tiny_training_data(tmp_path / "data")
    tiny_korquad(data)
    output = tmp_path / "reader-ko"
    args = ["train-reader", "--data", str(data), "--language", "ko", "--output", str(output), "--limit", "100"]
    assert main([*args, "--max-tokens", "64"]) == 0
    manifest = json.loads((output / reader.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["language"] == "ko" and manifest["max_tokens"] == 64 and manifest["pairs"]["korquad"]["pairs"] > 0
    assert {d["file"].split("/")[-1] for d in manifest["data"]} >= {"korquad1-dev-part.json", "squad2-dev-part.json"}
    korean = reader.OnnxReader(output)
    scores = korean.read("몇 척이 행진했나?", [Candidate("어선 마흔 척이 행진했다."), Candidate("Forty boats sailed.")])
    assert scores.shape == (2,) and np.all((scores > 0) & (scores < 1))


@pytest.mark.model
def test_a_literal_answer_is_answered_and_a_near_topic_question_declined_honestly(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    seeds = tmp_path / "articles"
    seeds.mkdir()
    (seeds / "fair.txt").write_text(
        "date 2025-09-14 Busan harbour festival draws crowds\n"
        "The Busan harbour festival opened on Saturday with a parade of forty fishing boats along the seafront.\n"
        "Organisers said the festival would run for three days and include a fireworks show on Sunday night.\n"
        "Local restaurants reported a busy weekend as visitors filled the waterfront.\n",
        encoding="utf-8",
    )
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", **REAL_ENGLISH)
    service = QAService.open(settings, lambda message: None, embedder=lambda _: real_embedder)
    assert service.reader is not None
    literal = service.answer("How many fishing boats were in the harbour parade?")
    assert literal.answered and "forty fishing boats" in literal.hits[0].sentence.text
    # Answered well above the threshold (the 0.5 for such a sentence is not reached: 0.20, README).
    assert literal.hits[0].confidence >= 2 * service.judges.thresholds["en"]
    # About the restaurants, but the article never gives a figure. (Not every near-topic question is declined yet:
    # "How much did the fireworks show cost?" gets 0.34 and is answered with the fireworks sentence; README.)
    near = service.answer("How much money did local restaurants make?")
    assert not near.answered
    assert answer_text(near).startswith((CLOSEST, DECLINE))
    assert not service.answer("How many visitors came to the festival?").answered
