"""Builds that finish and stay fast: a per-article budget, bounded lexical surroundings, and the multilingual side
made after the English one (at once by `update_index`, in the background by the watcher)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.core.records import Sentence
from index.core.settings import Settings
from index.models.embedder import Embedder, model_identity
from index.models.hashing import HashingEmbedder
from index.models.multilingual import HashingMultilingual
from index.service.answering import QAService
from index.service.watch import Watcher
from index.store import builder
from index.store.builder import build, complete_multilingual, update_index
from tests.helpers import EXTRA

KOREAN = "date 2025-07-09 방산의 날\n이재명 대통령은 방위산업이 국가 경쟁력의 핵심이라고 말했다.\n행사는 서울에서 열렸다.\n"


def _load(settings: Settings) -> store.IndexData:
    return store.load_index(settings.index_dir, model=model_identity(settings))


def test_an_article_over_the_sentence_budget_is_indexed_up_to_it_with_a_warning(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder, "MAX_ARTICLE_SENTENCES", 40)
    sentences = " ".join(f"Sentence number {i} says something about the parade." for i in range(100))
    (settings.seeds_dir / "long.txt").write_text(f"A very long article\n{sentences}\n", encoding="utf-8")
    said: list[str] = []
    update_index(settings, HashingEmbedder, said.append, repair=True)
    (warning,) = [line for line in said if "budget" in line]
    assert warning.startswith("warning: ") and "long.txt" in warning and "sentences, over the budget of 40" in warning
    counts = {d.doc_id: d.sentence_count for d in _load(settings).manifest.documents}
    assert counts["long"] == 40
    assert len(_load(settings).sentences) == sum(counts.values())


def test_a_long_paragraph_gives_each_sentence_bounded_lexical_surroundings() -> None:
    sentences, start = [], 0
    for i in range(20_000):  # one paragraph of 20,000 sentences, about 400 kB
        text = f"Word{i} is here."
        sentences.append(Sentence("d", 1, i + 1, start, start + len(text), text))
        start += len(text) + 1
    sentences += [Sentence("d", 2, 1, 0, 18, "A short paragraph."), Sentence("d", 2, 2, 19, 33, "Two sentences.")]
    windows = builder._windows(sentences)
    middle = windows[10_000]
    assert 10_000 in middle
    width = sentences[middle[-1]].end - sentences[middle[0]].start
    assert builder.AROUND_CHARS * 0.9 <= width <= builder.AROUND_CHARS * 1.1
    for i, w in enumerate(windows[:20_000]):
        assert i in w and sentences[w[-1]].end - sentences[w[0]].start <= builder.AROUND_CHARS * 1.1
    assert windows[-1] == windows[-2] == range(20_000, 20_002)  # a short paragraph is whole


def test_english_sentences_wait_for_their_multilingual_vectors_korean_ones_do_not(settings: Settings) -> None:
    (settings.seeds_dir / "korean.txt").write_text(KOREAN, encoding="utf-8")
    build(settings, HashingEmbedder)
    data = _load(settings)
    pending = set(data.shard.multilingual.pending().tolist())
    korean = {i for i, s in enumerate(data.sentences) if s.doc_id == "korean"}
    assert korean and pending and not pending & korean
    assert pending == set(range(len(data.sentences))) - korean
    assert store.pending_multilingual(settings.index_dir) == len(pending)

    saved: list[int] = []
    assert complete_multilingual(settings, on_saved=lambda: saved.append(1)) == len(pending)
    data = _load(settings)
    assert not len(data.shard.multilingual.pending()) and saved
    english = [i for i, s in enumerate(data.sentences) if s.doc_id != "korean"]
    expected = HashingMultilingual().passages([data.sentences[i].text for i in english])
    assert np.allclose(data.shard.multilingual.sentences[english], expected, atol=1e-6)
    assert complete_multilingual(settings) == 0  # nothing pending: nothing saved, no model loaded


def test_a_build_of_every_vector_leaves_none_pending_and_matches_what_the_filler_makes(settings: Settings) -> None:
    (settings.seeds_dir / "korean.txt").write_text(KOREAN, encoding="utf-8")
    build(settings, HashingEmbedder, every_vector=True)
    whole = _load(settings)
    assert store.pending_multilingual(settings.index_dir) == 0
    later = settings.model_copy(update={"index_dir": settings.index_dir.parent / "later"})
    build(later, HashingEmbedder)
    assert store.pending_multilingual(later.index_dir) > 0
    complete_multilingual(later)
    filled = _load(later)
    assert np.allclose(whole.shard.multilingual.sentences, filled.shard.multilingual.sentences, atol=1e-6)
    assert np.allclose(whole.shard.multilingual.paragraphs.vectors, filled.shard.multilingual.paragraphs.vectors, atol=1e-6)
    assert whole.shard.multilingual.paragraphs.vectors.any(axis=1).all()  # every paragraph read too


def test_a_filler_chunk_writes_the_multilingual_file_alone_and_leaves_the_old_build_whole(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(settings, HashingEmbedder)
    before = store.current_build(settings.index_dir)
    assert before is not None
    monkeypatch.setattr(builder, "MULTILINGUAL_CHUNK", 5)
    folders: list[Path] = []
    complete_multilingual(settings, on_saved=lambda: folders.append(store.current_build(settings.index_dir)))  # type: ignore[arg-type]
    assert len(folders) > 2 and len(set(folders)) == len(folders)  # one new build a chunk
    after = folders[-1]
    for name in ("vectors.npy", "sentences.json", "faiss.index", "clauses.npz"):
        assert (after / name).stat().st_ino == (before / name).stat().st_ino, name  # linked, not rewritten
    assert (after / "multilingual.npz").stat().st_ino != (before / "multilingual.npz").stat().st_ino
    assert not len(_load(settings).shard.multilingual.pending())
    # The build a reader may still be loading is whole, and still has its pending rows.
    old = store._load(before, model=model_identity(settings), dimension=None)
    assert len(old.shard.multilingual.pending()) == len(old.sentences)


def test_update_index_makes_the_multilingual_vectors_unless_told_not_to(settings: Settings) -> None:
    said: list[str] = []
    update_index(settings, HashingEmbedder, said.append, repair=True, multilingual=False)
    assert store.pending_multilingual(settings.index_dir) > 0
    update_index(settings, HashingEmbedder, said.append, repair=False)
    assert store.pending_multilingual(settings.index_dir) == 0
    assert any("for Korean questions" in line for line in said)


def test_a_build_while_the_multilingual_vectors_are_made_loses_nothing(settings: Settings) -> None:
    build(settings, HashingEmbedder)
    built_once = threading.Event()

    class BuildsMidway(HashingMultilingual):
        def passages(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
            if not built_once.is_set():  # an article arrives while this chunk is embedded
                built_once.set()
                (settings.seeds_dir / "extra.txt").write_text(EXTRA, encoding="utf-8")
                build(settings, HashingEmbedder)
            return super().passages(texts)

    complete_multilingual(settings, BuildsMidway)
    data = _load(settings)
    assert "extra" in {d.doc_id for d in data.manifest.documents}
    assert not len(data.shard.multilingual.pending())  # the new article's sentences too, in a later chunk


def test_the_watcher_makes_the_multilingual_vectors_in_the_background(settings: Settings, hashing: Embedder) -> None:
    service = QAService.open(settings, lambda message: None, embedder=lambda s: hashing, complete=False)
    assert len(service.data.shard.multilingual.pending()) > 0
    watcher = Watcher(service).start()
    try:
        deadline = time.monotonic() + 60
        while len(service.data.shard.multilingual.pending()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not len(service.data.shard.multilingual.pending()), "the serving index got its multilingual vectors"
        (settings.seeds_dir / "extra.txt").write_text(EXTRA, encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            "extra" in {d.doc_id for d in service.data.manifest.documents} and not len(service.data.shard.multilingual.pending())
        ):
            time.sleep(0.2)
        assert "extra" in {d.doc_id for d in service.data.manifest.documents}
        assert not len(service.data.shard.multilingual.pending())
    finally:
        watcher.stop()


@pytest.mark.load  # a scale test: 40,000 sentences split, 14 s (make test-load)
def test_a_multi_megabyte_one_line_paragraph_builds(settings: Settings, tmp_path: Path) -> None:
    """With the model-free stand-ins: the splitter, the budget and the lexical side stay linear (the real models'
    run of the same is in test_builds_real)."""
    line = " ".join(f"The parade had {i} boats and the officials said so." for i in range(40_000))  # 2 MB
    (settings.seeds_dir / "huge.txt").write_text(f"Huge\n{line}\n", encoding="utf-8")
    said: list[str] = []
    report = update_index(settings, HashingEmbedder, said.append, repair=True)
    assert report is not None and any("budget" in s for s in said)
    counts = {d.doc_id: d.sentence_count for d in _load(settings).manifest.documents}
    assert counts["huge"] == builder.MAX_ARTICLE_SENTENCES


def test_korean_near_duplicates_are_told_by_their_multilingual_vectors() -> None:
    from index.ranking import duplicates

    rows = [
        Sentence("a", 1, 1, 0, 10, "이재명 대통령은 방위산업이 핵심이라고 말했다."),
        Sentence("b", 1, 1, 0, 10, "이재명 대통령이 방위산업은 핵심이라고 밝혔다."),  # a wire copy, reworded
        Sentence("c", 1, 1, 0, 10, "The parade had forty fishing boats."),
    ]
    same = np.ones(4, dtype=np.float32) / 2
    vectors = np.array([same, same, same], dtype=np.float32)  # the English row's vector happens to match too
    korean = np.array([True, True, False])
    # The Korean copy is dropped; the English row, of the other model, is never compared with the Korean ones.
    assert duplicates.distinct([0, 1, 2], rows, vectors, 3, korean) == [0, 2]


def test_a_pronoun_sentence_is_paired_only_with_its_short_neighbour() -> None:
    first = Sentence("d", 1, 1, 0, 30, "The exhibition opened Monday.")
    it = Sentence("d", 1, 2, 31, 60, "It drew 50,000 visitors.")
    later = Sentence("d", 1, 4, 90, 120, "It closed on Sunday.")  # row 3 (a Korean sentence, say) is not here
    assert builder._previous([first, it], 1) == first.text
    assert builder._previous([first, it, later], 2) is None
    texts: list[list[str]] = []

    class Recording(HashingEmbedder):
        def encode(self, batch, *, progress=False):  # type: ignore[no-untyped-def]
            texts.append(list(batch))
            return super().encode(batch)

    long_first = Sentence("d", 1, 1, 0, 700, "x" * (builder.PAIR_PREVIOUS_CHARS + 100))
    builder._sentences_and_clauses(Recording(), [first, it], progress=False)
    assert f"{first.text} {it.text}" in texts[-1]
    builder._sentences_and_clauses(Recording(), [long_first, it], progress=False)
    assert not any(text.endswith(it.text) and text != it.text for text in texts[-1])
