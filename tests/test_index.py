"""Building, storing and loading the index with the real model and real FAISS."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.core.errors import Fix, IndexDamagedError, IndexMissingError, IndexWriteError
from index.core.settings import Settings
from index.models.embedder import Embedder, model_identity
from index.store.builder import build, plan_build
from tests.helpers import EXTRA, SEED, CountingEmbedder, built, change_manifest, never_load


def test_full_build_then_load(settings: Settings, hashing: Embedder) -> None:
    counting = built(settings, hashing)
    data = store.load_index(settings.index_dir, model=model_identity(settings), dimension=384)
    assert len(data.sentences) == data.ann.ntotal == data.manifest.sentence_count == data.lexical.size == 21
    assert {s.text for s in data.sentences} <= set(counting.texts)
    assert data.vectors.shape == (21, 384)
    assert np.allclose(np.linalg.norm(data.vectors, axis=1), 1.0, atol=1e-4)
    manifest = json.loads((store.current_build(settings.index_dir) / "manifest.json").read_text())
    assert manifest["model"] == "hashing" and manifest["dimension"] == 384
    assert manifest["documents"][0]["content_hash"]
    assert manifest["built_at"] and manifest["format_version"] == store.FORMAT_VERSION


def test_no_change_rebuild_does_not_load_the_model(settings: Settings, hashing: Embedder) -> None:
    built(settings, hashing)
    report = build(settings, never_load)
    assert report.plan.up_to_date and report.embedded == 0
    assert "up to date" in report.summary()


def test_incremental_rebuild_embeds_only_the_changed_document(settings: Settings, hashing: Embedder) -> None:
    built(settings, hashing)
    (settings.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")
    counting = CountingEmbedder(hashing)
    report = build(settings, lambda: counting)
    assert report.plan.added == ("poland",) and report.plan.unchanged == ("2025-07-08-k-defense-day",)
    assert report.embedded == 2  # sentences
    assert counting.texts and all(text in EXTRA for text in counting.texts)  # nothing from the unchanged article
    (settings.seeds_dir / "poland.txt").write_text(EXTRA + "A third sentence arrived.\n", encoding="utf-8")
    counting = CountingEmbedder(hashing)
    report = build(settings, lambda: counting)
    assert report.plan.changed == ("poland",)
    assert report.embedded == 3
    assert all(text in EXTRA + "A third sentence arrived." for text in counting.texts)
    (settings.seeds_dir / "poland.txt").unlink()
    report = build(settings, never_load)
    assert report.plan.removed == ("poland",)
    data = store.load_index(settings.index_dir, model=model_identity(settings))
    assert {s.doc_id for s in data.sentences} == {"2025-07-08-k-defense-day"}
    assert data.ann.ntotal == 21


def test_reused_vectors_equal_fresh_ones(settings: Settings, hashing: Embedder) -> None:
    built(settings, hashing)
    first = store.load_index(settings.index_dir, model=model_identity(settings)).vectors.copy()
    (settings.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")
    built(settings, hashing)
    again = store.load_index(settings.index_dir, model=model_identity(settings))
    assert np.array_equal(again.vectors[:21], first)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: change_manifest(f, model="other-model"), "built with model 'other-model'"),
        (lambda f: change_manifest(f, dimension=768), "dimension"),
        (lambda f: change_manifest(f, sentence_count=5), "sentence counts do not add up"),
        (lambda f: (f / "manifest.json").write_text("{not json"), "manifest .* is damaged"),
        (lambda f: (f / "manifest.json").unlink(), "manifest .* is missing"),
        (lambda f: (f / "faiss.index").write_bytes(b"garbage"), "faiss.index is damaged"),
        (lambda f: (f / "faiss.index").write_bytes((f / "faiss.index").read_bytes()[:100]), "faiss.index is damaged"),
        (lambda f: (f / "faiss.index").unlink(), "faiss.index is missing"),
        (lambda f: (f / "vectors.npy").write_bytes(b"\x93NUMPY garbage"), "vectors.npy is damaged"),
        (lambda f: (f / "sentences.json").write_text("[[1,2]]"), "sentences.json is damaged"),
        (lambda f: (f / "sentences.json").write_text("[]"), "documents do not match the manifest"),
        (lambda f: shutil.rmtree(f), "folder .* is missing"),
        (lambda f: (f / "paragraphs.npz").write_bytes(b"PK junk"), "paragraphs.npz is damaged"),
        (lambda f: (f / "paragraphs.npz").unlink(), "paragraphs.npz is missing"),
        (lambda f: (f / "clauses.npz").write_bytes(b"PK junk"), "clauses.npz is damaged"),
        (lambda f: (f / "clauses.npz").unlink(), "clauses.npz is missing"),
        (lambda f: shutil.rmtree(f / "bm25_sentences"), "BM25 files .* are missing"),
        (lambda f: (f / "bm25_paragraphs" / "params.index.json").write_text("{"), "BM25 files .* are damaged"),
        (lambda f: (f / "words.json").write_text("nonsense"), "BM25 files .* are damaged"),
    ],
)
def test_damaged_index_is_refused_with_one_line_naming_problem_and_fix(
    settings: Settings, hashing: Embedder, damage, message: str
) -> None:
    built(settings, hashing)
    damage(store.current_build(settings.index_dir))
    with pytest.raises(IndexDamagedError, match=message) as caught:
        store.load_index(settings.index_dir, model=model_identity(settings), dimension=384)
    assert "\n" not in str(caught.value) and caught.value.fix is Fix.REBUILD


def test_missing_index_says_how_to_build(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="no index") as caught:
        store.load_index(settings.index_dir, model=model_identity(settings))
    assert caught.value.fix is Fix.BUILD


def test_damaged_index_is_rebuilt_in_full_by_build(settings: Settings, hashing: Embedder) -> None:
    built(settings, hashing)
    (store.current_build(settings.index_dir) / "manifest.json").write_text("{")
    plan = plan_build(settings)
    assert plan.reason and "unusable" in plan.reason
    report = build(settings, lambda: hashing)
    assert report.embedded == 21
    store.load_index(settings.index_dir, model=model_identity(settings))


def test_build_that_fails_while_writing_leaves_the_old_index(
    settings: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    built(settings, hashing)
    (settings.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")

    def die(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.dense.faiss, "write_index", die)
    with pytest.raises(IndexWriteError, match="previous index is unchanged"):
        build(settings, lambda: hashing)
    data = store.load_index(settings.index_dir, model=model_identity(settings), dimension=384)
    assert data.ann.ntotal == 21
    assert not plan_build(settings).up_to_date  # the new article is still waiting to be indexed


def test_killed_build_process_leaves_the_old_index_usable(settings: Settings, hashing: Embedder, tmp_path: Path) -> None:
    built(settings, hashing)
    before = store.load_index(settings.index_dir, model=model_identity(settings))
    # Enough text that splitting and embedding take a few seconds, so the kills land mid-build.
    body = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    for i in range(COPIES):
        (settings.seeds_dir / f"copy{i}.txt").write_text(
            f"date 2025-07-09 Copy {i}\n{body}".replace("Lee", f"Lee{i}"), encoding="utf-8"
        )
    env = {**os.environ, "SEEDS_DIR": str(settings.seeds_dir), "INDEX_DIR": str(settings.index_dir), "LOG_FILE": ""}
    for delay in (1.0, 2.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "build"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = store.load_index(settings.index_dir, model=model_identity(settings), dimension=384)
        # Either the old index or, if the build finished first, the complete new one; never a broken one.
        assert data.ann.ntotal in (before.ann.ntotal, before.ann.ntotal + COPIES * 21)


COPIES = 150
