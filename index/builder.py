"""Stage 5: build or update the index incrementally; unchanged articles keep their vectors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index import store
from index.embedder import Embedder
from index.errors import EventBotError
from index.loader import load_documents
from index.records import Document, DocumentInfo, Sentence
from index.settings import Settings
from index.splitter import split_document

log = logging.getLogger(__name__)

# Above this many sentences a flat (exact) search gets slow enough that HNSW pays off.
HNSW_FROM = 200_000


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """How the seeds differ from the index on disk."""

    documents: tuple[Document, ...]
    warnings: tuple[str, ...]
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    reason: str | None  # why a full rebuild is needed, if it is

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed or self.reason)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for people and for tests."""

    plan: BuildPlan
    sentence_count: int
    embedded: int
    seconds: float

    def summary(self) -> str:
        p = self.plan
        if p.up_to_date:
            n = len(p.unchanged)
            return f"Index is up to date: {n} article{'s' if n != 1 else ''}, {self.sentence_count} sentences."
        parts = [
            f"{len(p.added)} added",
            f"{len(p.changed)} changed",
            f"{len(p.removed)} removed",
            f"{len(p.unchanged)} unchanged",
        ]
        return (
            f"Index updated in {self.seconds:.1f} s: {', '.join(parts)}; "
            f"{self.sentence_count} sentences ({self.embedded} embedded)."
        )


def plan_build(settings: Settings) -> BuildPlan:
    """Compare the seeds with the manifest; reads files and the manifest only, never the model."""
    loaded = load_documents(settings.seeds_dir)
    reason = None
    try:
        manifest = store.read_manifest(settings.index_dir)
    except EventBotError as exc:
        manifest, reason = None, f"the old index is unusable ({exc})"
    if manifest is not None and manifest.model != settings.embedding_model:
        reason = f"EMBEDDING_MODEL changed from {manifest.model!r}"
        manifest = None
    elif manifest is not None and manifest.index_type != choose_index_type(settings, manifest.sentence_count):
        reason = f"INDEX_TYPE changed from {manifest.index_type!r}"
    old = {doc.doc_id: doc.content_hash for doc in manifest.documents} if manifest else {}
    new = {doc.doc_id: doc.content_hash for doc in loaded.documents}
    if manifest is None and reason is None:
        reason = "there is no index yet"
    return BuildPlan(
        documents=loaded.documents,
        warnings=loaded.warnings,
        added=tuple(d for d in new if d not in old),
        changed=tuple(d for d in new if d in old and old[d] != new[d]),
        removed=tuple(d for d in old if d not in new),
        unchanged=tuple(d for d in new if d in old and old[d] == new[d]),
        reason=reason,
    )


def choose_index_type(settings: Settings, sentence_count: int) -> str:
    """Exact search for small corpora, HNSW for large ones, unless INDEX_TYPE says otherwise."""
    if settings.index_type != "auto":
        return settings.index_type
    return "hnsw" if sentence_count >= HNSW_FROM else "flat"


def build(
    settings: Settings,
    embedder: Callable[[], Embedder],
    *,
    progress: bool = False,
    plan: BuildPlan | None = None,
) -> BuildReport:
    """Bring the index up to date; `embedder` is called only when something must be embedded."""
    started = time.perf_counter()
    plan = plan or plan_build(settings)
    if plan.up_to_date:
        manifest = store.read_manifest(settings.index_dir)
        count = manifest.sentence_count if manifest else 0
        return BuildReport(plan, count, 0, time.perf_counter() - started)

    reuse: dict[str, tuple[list[Sentence], np.ndarray]] = {}
    if plan.unchanged and plan.reason is None:
        reuse = _reusable(settings, set(plan.unchanged))

    to_embed: list[Sentence] = []
    per_doc: dict[str, list[Sentence]] = {}
    for doc in plan.documents:
        if doc.doc_id in reuse:
            per_doc[doc.doc_id] = reuse[doc.doc_id][0]
        else:
            per_doc[doc.doc_id] = split_document(doc)
            to_embed.extend(per_doc[doc.doc_id])

    model: Embedder | None = None
    fresh = np.zeros((0, 0), dtype=np.float32)
    if to_embed:
        model = embedder()
        fresh = model.encode([s.text for s in to_embed], progress=progress)
    dimension = model.dimension if model else next(iter(reuse.values()))[1].shape[1]

    sentences: list[Sentence] = []
    blocks: list[np.ndarray] = []
    cursor = 0
    infos: list[DocumentInfo] = []
    for doc in plan.documents:
        doc_sentences = per_doc[doc.doc_id]
        if doc.doc_id in reuse:
            blocks.append(reuse[doc.doc_id][1])
        else:
            blocks.append(fresh[cursor : cursor + len(doc_sentences)])
            cursor += len(doc_sentences)
        sentences.extend(doc_sentences)
        infos.append(DocumentInfo(doc.doc_id, doc.title, doc.date, doc.source, doc.content_hash, len(doc_sentences)))
    vectors = np.ascontiguousarray(np.vstack(blocks) if blocks else np.zeros((0, dimension), np.float32), dtype=np.float32)
    index_type = choose_index_type(settings, len(sentences))
    manifest = store.Manifest(
        format_version=store.FORMAT_VERSION,
        model=settings.embedding_model,
        dimension=dimension,
        index_type=index_type,
        sentence_count=len(sentences),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        documents=tuple(infos),
    )
    data = store.IndexData(manifest, tuple(sentences), vectors, store.build_ann(vectors, index_type))
    store.save_index(settings.index_dir, data)
    log.info("index saved: %d documents, %d sentences", len(infos), len(sentences))
    return BuildReport(plan, len(sentences), len(to_embed), time.perf_counter() - started)


def _reusable(settings: Settings, doc_ids: set[str]) -> dict[str, tuple[list[Sentence], np.ndarray]]:
    """Sentences and vectors of unchanged documents from the live index (empty if it cannot be read)."""
    try:
        old = store.load_index(settings.index_dir, model=settings.embedding_model)
    except EventBotError as exc:
        log.warning("re-embedding everything: %s", exc)
        return {}
    rows: dict[str, list[int]] = {}
    for i, sentence in enumerate(old.sentences):
        if sentence.doc_id in doc_ids:
            rows.setdefault(sentence.doc_id, []).append(i)
    return {doc_id: ([old.sentences[i] for i in idx], old.vectors[idx]) for doc_id, idx in rows.items()}
