"""Shared fixtures: a copy of the seed article, settings pointing at temporary folders, the real model once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder, SentenceTransformerEmbedder
from index.settings import PACKAGED_MODEL, Settings

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "2025-07-08-k-defense-day.txt"
DATA = Path(__file__).resolve().parent / "data"


class CountingEmbedder:
    """Wraps a real embedder and records the texts it embeds (sentences, paragraphs and clauses)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += list(texts)
        return self.inner.encode(texts, progress=progress)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    return SentenceTransformerEmbedder(PACKAGED_MODEL)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """One ONNX export of the packaged model for the whole run (each export costs seconds)."""
    from index import onnx_backend

    folder = tmp_path_factory.mktemp("models")
    onnx_backend.export(real_embedder, onnx_backend.export_folder(folder, PACKAGED_MODEL))
    return folder


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    """No test reads the developer's .env or environment settings; all share one ONNX export."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(model_cache))
    for name in (
        "SEEDS_DIR",
        "INDEX_DIR",
        "EMBEDDING_MODEL",
        "TOP_K",
        "DECLINE_THRESHOLD",
        "TELEGRAM_BOT_TOKEN",
        "LOG_FILE",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, seeds: Path) -> Settings:
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", log_file=None)


@pytest.fixture
def env(tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The same settings, but through the environment, as the command line reads them."""
    monkeypatch.setenv("SEEDS_DIR", str(seeds))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "eventbot.log"))
    return Settings()


@pytest.fixture
def shared_model(real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Iterator[Embedder]:
    """Every code path that loads the model gets the already loaded one (a load costs seconds)."""
    monkeypatch.setattr("index.service.load_embedder", lambda settings: real_embedder)
    monkeypatch.setattr("bot.cli.load_embedder", lambda settings: real_embedder)
    yield real_embedder
