"""The fast paths keep the answers: ONNX backend, index types, candidate search; and `bench` runs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.core.errors import ModelLoadError
from index.core.settings import Settings
from index.models import onnx_backend
from index.models.embedder import PACKAGED_MODEL, Embedder, SentenceTransformerEmbedder, load_embedder, model_identity
from index.models.onnx_backend import OnnxEmbedder
from index.ranking import ranker
from index.service import QAService
from index.store.builder import build
from measure.evaluate import load_questions
from tests.helpers import REPO

QUESTIONS = [q.question for q in load_questions(REPO / "eval" / "dev.jsonl")] + [
    q.question for q in load_questions(REPO / "eval" / "article-tune.jsonl")
]


@pytest.fixture
def onnx(real_settings: Settings, model_cache: Path) -> Embedder:
    return load_embedder(real_settings.model_copy(update={"model_cache_dir": model_cache, "embedding_backend": "onnx"}))


def test_onnx_vectors_match_sentence_transformers(onnx: Embedder, real_embedder: Embedder) -> None:
    assert isinstance(onnx, OnnxEmbedder)
    texts = QUESTIONS + ["word " * 600, "国防", "x"]
    difference = np.max(np.abs(onnx.encode(texts) - real_embedder.encode(texts)))
    assert difference < onnx_backend.TOLERANCE


def test_onnx_answers_are_identical_to_the_reference(real_settings: Settings, onnx: Embedder, real_embedder: Embedder) -> None:
    settings = real_settings
    build(settings, lambda: real_embedder)
    data = store.load_index(settings.index_dir, model=model_identity(settings))
    reference = QAService(settings, real_embedder, data).answer_many(QUESTIONS)
    fast = QAService(settings, onnx, data).answer_many(QUESTIONS)
    for a, b in zip(reference, fast, strict=True):
        assert [h.sentence for h in a.hits] == [h.sentence for h in b.hits]
        assert a.answered == b.answered


def test_backend_setting_chooses_the_embedder(real_settings: Settings, model_cache: Path) -> None:
    settings = real_settings
    torch = load_embedder(settings.model_copy(update={"embedding_backend": "torch"}))
    assert isinstance(torch, SentenceTransformerEmbedder)
    auto = load_embedder(settings.model_copy(update={"model_cache_dir": model_cache, "embedding_backend": "auto"}))
    assert isinstance(auto, OnnxEmbedder)


def test_damaged_export_falls_back_in_auto_and_is_reported_in_onnx(
    real_settings: Settings, tmp_path: Path, model_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = real_settings
    cache = tmp_path / "cache"
    folder = onnx_backend.export_folder(cache, settings.embedding_model)
    folder.parent.mkdir(parents=True)
    import shutil

    shutil.copytree(onnx_backend.export_folder(model_cache, settings.embedding_model), folder)
    for damaged in ("model.onnx", onnx_backend.INT8_FILE):
        (folder / damaged).write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load the ONNX export"):
        load_embedder(settings.model_copy(update={"model_cache_dir": cache, "embedding_backend": "onnx"}))
    with caplog.at_level(logging.WARNING):
        fallback = load_embedder(settings.model_copy(update={"model_cache_dir": cache, "embedding_backend": "auto"}))
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert "using sentence-transformers" in caplog.text


@pytest.mark.model
def test_the_english_session_starts_on_the_first_text_and_a_changed_file_is_caught_at_start(
    model_cache: Path, tmp_path: Path
) -> None:
    folder = onnx_backend.export_folder(model_cache, PACKAGED_MODEL)
    embedder = onnx_backend.OnnxEmbedder(PACKAGED_MODEL, folder, int8=True)
    assert not embedder.started  # a process answering only Korean questions never holds it
    assert embedder.encode(["Where was K-Defense Day held?"]).shape == (1, embedder.dimension) and embedder.started
    import shutil

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    data = bytearray((changed / onnx_backend.INT8_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte: the file still parses, its weights are not the exported ones
    (changed / onnx_backend.INT8_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="cannot load the ONNX export"):
        onnx_backend.OnnxEmbedder(PACKAGED_MODEL, changed, int8=True)


def test_index_type_is_chosen_recorded_and_overridable(settings: Settings, hashing: Embedder) -> None:
    build(settings, lambda: hashing)
    assert store.read_manifest(settings.index_dir).index_type == "flat"
    hnsw = settings.model_copy(update={"index_type": "hnsw"})
    report = build(hnsw, lambda: hashing)
    assert report.plan.reason and "INDEX_TYPE" in report.plan.reason
    data = store.load_index(hnsw.index_dir, model=model_identity(hnsw))
    assert data.manifest.index_type == "hnsw" and hasattr(data.ann, "hnsw")
    answer = QAService(hnsw, hashing, data).answer("Where was K-Defense Day held?")
    assert "Grand Hyatt" in answer.presented[0].sentence.text


def test_candidate_search_agrees_with_exact_search(
    settings: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(settings, lambda: hashing)
    service = QAService(settings, hashing, store.load_index(settings.index_dir, model=model_identity(settings)))
    exact = [a.hits[0].sentence for a in service.answer_many(QUESTIONS)]
    monkeypatch.setattr(ranker, "EXACT_LIMIT", 5)  # every question now goes through FAISS + BM25 candidates
    monkeypatch.setattr(ranker, "CANDIDATES", 8)
    pooled = [a.hits[0].sentence for a in service.answer_many(QUESTIONS)]
    assert sum(a == b for a, b in zip(exact, pooled, strict=True)) >= 0.9 * len(exact)
