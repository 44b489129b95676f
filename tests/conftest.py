"""Fixtures: every test runs in its own folder with the hashing embedder; the real model only where asked for."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.core.settings import PACKAGED_MODEL, Settings
from index.models.embedder import Embedder, SentenceTransformerEmbedder
from index.models.hashing import HashingEmbedder
from tests import pg
from tests.helpers import HASHING_THRESHOLD, REAL_ENGLISH, SEED

SETTING_NAMES = (
    "SEEDS_DIR",
    "INDEX_DIR",
    "EMBEDDING_MODEL",
    "EMBEDDING_BACKEND",
    "MODEL_CACHE_DIR",
    "TOP_K",
    "DECLINE_THRESHOLD",
    "WATCH",
    "MULTILINGUAL_BACKEND",
    "READER",
    "READER_CANDIDATES",
    "TELEGRAM_BOT_TOKEN",
    "LOG_FILE",
    "LOG_LEVEL",
    "ADD_DEADLINE_SECONDS",
    "ADD_ALLOW_PRIVATE_ADDRESSES",
    "JOURNAL_URL",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that loads the packaged English model is a `model` test (`make test-models`), wherever it is."""
    for item in items:
        if "real_embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or settings; the default embedder is the model-free hashing one."""
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("DECLINE_THRESHOLD", HASHING_THRESHOLD)
    monkeypatch.setenv("WATCH", "false")  # tests of live updates turn it on
    # The stand-in web is on 127.0.0.1: `add` may read it (tests of the refusal turn this off).
    monkeypatch.setenv("ADD_ALLOW_PRIVATE_ADDRESSES", "true")


@pytest.fixture
def hashing() -> Embedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once for the whole run (only by tests that measure retrieval)."""
    return SentenceTransformerEmbedder(PACKAGED_MODEL)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """One ONNX export of the packaged model for the whole run (each export costs seconds)."""
    from index.models import onnx_backend

    folder = tmp_path_factory.mktemp("models")
    onnx_backend.export(real_embedder, onnx_backend.export_folder(folder, PACKAGED_MODEL))
    return folder


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Server]:
    """A throw-away PostgreSQL server for this test worker (tests/pg.py); the tests skip, saying why, without one."""
    server = pg.start()
    if isinstance(server, str):
        pytest.skip(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, seeds: Path) -> Settings:
    """Settings for the hashing embedder."""
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", embedding_backend="hashing")


@pytest.fixture
def real_settings(tmp_path: Path, seeds: Path) -> Settings:
    """Settings for the packaged English model (pass `real_embedder` wherever a model is loaded)."""
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", **REAL_ENGLISH)


@pytest.fixture
def env(tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The hashing settings, but through the environment, as the command line reads them."""
    monkeypatch.setenv("SEEDS_DIR", str(seeds))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "eventbot.log"))
    return Settings()


@pytest.fixture
def real_env(env: Settings, monkeypatch: pytest.MonkeyPatch, real_embedder: Embedder) -> Settings:
    """The command line on the packaged model (sentence-transformers: no ONNX export needed for these tests)."""
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("MULTILINGUAL_BACKEND", "hashing")  # English only: the multilingual model is not asked
    monkeypatch.delenv("DECLINE_THRESHOLD")
    return Settings()
