"""Builds on the real models: the int8 copy the default backend runs, and seeds that once did not build in ten
minutes (a multi-megabyte one-line paragraph; a 400 kB Korean paragraph without punctuation) building with
every vector made. The last two take minutes, so they run with the load tests (`make test-load`)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.core.settings import Settings
from index.models import onnx_backend
from index.models.embedder import Embedder, load_embedder, model_identity
from index.models.onnx_backend import OnnxEmbedder
from index.service.answering import QAService
from index.store.builder import MAX_ARTICLE_SENTENCES
from measure.evaluate import load_questions
from tests.helpers import AIR_SHOW, REPO

EN_WORDS = ("the", "president", "said", "defense", "exports", "grew", "fast", "while", "officials", "attended", "events")
KO_WORDS = (
    *("대통령은", "방위산업", "발전의", "의미를", "강조하며", "국가", "경쟁력", "수출", "확대와", "일자리"),
    *("창출에", "기여한다고", "말했다", "업체", "관계자들과", "기관", "대표들이", "참석한", "가운데", "행사가", "열렸다"),
)
QUESTIONS = [q.question for q in load_questions(REPO / "eval" / "dev.jsonl")]


def test_the_default_backend_runs_the_int8_copy_close_to_the_reference(
    real_settings: Settings, model_cache: Path, real_embedder: Embedder
) -> None:
    auto = load_embedder(real_settings.model_copy(update={"model_cache_dir": model_cache, "embedding_backend": "auto"}))
    assert isinstance(auto, OnnxEmbedder)
    texts = [*QUESTIONS, "President Lee attended the ceremony at the Grand Hyatt Hotel in Seoul on Tuesday."]
    cosines = np.sum(auto.encode(texts) * real_embedder.encode(texts), axis=1)
    assert cosines.min() >= onnx_backend.INT8_MIN_COSINE
    reference = load_embedder(real_settings.model_copy(update={"model_cache_dir": model_cache, "embedding_backend": "onnx"}))
    assert not np.allclose(auto.encode(texts), reference.encode(texts), atol=1e-4)  # the int8 copy, not the float one


def _build(seeds: Path, index: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SEEDS_DIR": str(seeds),
        "INDEX_DIR": str(index),
        "MODEL_CACHE_DIR": str(cache),
        "EMBEDDING_BACKEND": "auto",
        "MULTILINGUAL_BACKEND": "e5",
        "LOG_FILE": "",
    }
    # The time-out only stops a hang from holding up the run; what is checked is that the build finishes whole.
    return subprocess.run(
        [sys.executable, "-m", "bot", "build"], env=env, capture_output=True, text=True, timeout=1_200, cwd=seeds.parent
    )


def _check_built(result: subprocess.CompletedProcess[str], index: Path, name: str) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{name}: " in result.stdout + result.stderr and "over the budget" in result.stdout + result.stderr
    settings = Settings(index_dir=index, embedding_backend="auto", multilingual_backend="e5")
    data = store.load_index(index, model=model_identity(settings))
    assert len(data.sentences) == MAX_ARTICLE_SENTENCES
    assert not len(data.shard.multilingual.pending())  # every vector made, the multilingual ones too


@pytest.mark.load
def test_a_two_megabyte_one_line_paragraph_builds_on_the_real_models(tmp_path: Path, model_cache: Path) -> None:
    rng = random.Random(3)
    words = EN_WORDS
    line = " ".join(" ".join(rng.choice(words) for _ in range(rng.randint(8, 25))).capitalize() + "." for _ in range(21_000))
    assert len(line) > 2_000_000
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "huge.txt").write_text(f"Huge one-line article\n{line}\n", encoding="utf-8")
    _check_built(_build(seeds, tmp_path / "index", model_cache), tmp_path / "index", "huge.txt")


@pytest.mark.load
def test_a_400_kb_korean_paragraph_without_punctuation_builds_on_the_real_models(tmp_path: Path, model_cache: Path) -> None:
    rng = random.Random(4)
    words = KO_WORDS
    paragraph = " ".join(rng.choice(words) for _ in range(120_000))[:400_000]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "korean.txt").write_text(f"한국어 긴 기사\n{paragraph}\n", encoding="utf-8")
    _check_built(_build(seeds, tmp_path / "index", model_cache), tmp_path / "index", "korean.txt")


def test_the_default_backend_reads_a_sentence_that_opens_with_a_pronoun_with_the_one_before(
    real_settings: Settings, model_cache: Path, real_embedder: Embedder
) -> None:
    """The one-pass build (clauses and pairs pooled from the sentence's pass) on ONNX, as `make run` builds."""
    settings = real_settings.model_copy(update={"model_cache_dir": model_cache, "embedding_backend": "auto"})
    (settings.seeds_dir / "air-show.txt").write_text(AIR_SHOW, encoding="utf-8")
    service = QAService.open(settings, lambda message: None)
    answer = service.answer("Was the Seoul aerospace exhibition popular with visitors?")
    assert answer.answered
    assert answer.presented[0].sentence.text.startswith("It drew 50,000 visitors")
    assert service.answer("Which hotel hosted the ceremony?").presented[0].sentence.text.count("Grand Hyatt") == 1
