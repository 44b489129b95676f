"""Stage 5: build or update the index incrementally; unchanged articles keep their vectors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index import splitter, store
from index.embedder import Embedder
from index.errors import EventBotError
from index.lexical import Lexical
from index.loader import load_documents
from index.records import Document, DocumentInfo, Sentence
from index.settings import Settings
from index.splitter import split_document

log = logging.getLogger(__name__)

# Bump when splitting or what is embedded changes: older indexes are then rebuilt in full.
PIPELINE_VERSION = 4
# Above this many sentences a flat (exact) search gets slow enough that HNSW pays off.
HNSW_FROM = 100_000


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
    # Set when the index on disk is damaged or was built for another model: `eventbot build` rebuilds,
    # but the answering commands refuse to start, since an operator should look at it first.
    fault: str | None = None

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
    reason = fault = None
    try:
        manifest = store.read_manifest(settings.index_dir)
    except EventBotError as exc:
        manifest, reason, fault = None, f"the old index is unusable ({exc})", str(exc)
    if manifest is not None and manifest.model != settings.embedding_model:
        reason = f"EMBEDDING_MODEL changed from {manifest.model!r}"
        fault = f"index was built with model {manifest.model!r} but EMBEDDING_MODEL is {settings.embedding_model!r}; {store.FIX}"
        manifest = None
    elif manifest is not None and manifest.pipeline != PIPELINE_VERSION:
        reason = "the index was built by another version of eventbot"
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
        fault=fault,
    )


def choose_index_type(settings: Settings, sentence_count: int) -> str:
    """Exact search for small corpora, HNSW for large ones, unless INDEX_TYPE says otherwise."""
    if settings.index_type != "auto":
        return settings.index_type
    return "hnsw" if sentence_count >= HNSW_FROM else "flat"


@dataclass(frozen=True, slots=True)
class _Part:
    """One document's share of the index: its sentences and every vector made from it."""

    sentences: list[Sentence]
    vectors: np.ndarray
    paragraph_of: np.ndarray  # local paragraph row of each sentence
    paragraph_vectors: np.ndarray
    clause_counts: np.ndarray
    clause_vectors: np.ndarray


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
        # The manifest agrees with the seeds; make sure the files behind it load too, so that
        # `eventbot build` really is the fix for every "damaged" message it is named in.
        try:
            data = store.load_index(settings.index_dir, model=settings.embedding_model)
        except EventBotError as exc:
            log.warning("rebuilding in full: %s", exc)
            plan = replace(plan, reason=f"the old index is unusable ({exc})", fault=str(exc))
        else:
            return BuildReport(plan, data.manifest.sentence_count, 0, time.perf_counter() - started)

    parts: dict[str, _Part] = {}
    if plan.unchanged and plan.reason is None:
        parts = _reusable(settings, set(plan.unchanged))
    fresh = [doc for doc in plan.documents if doc.doc_id not in parts]
    embedded = 0
    if fresh:
        model = embedder()
        new_parts, embedded = _embed(fresh, model, progress)
        parts.update(new_parts)

    ordered = [parts[doc.doc_id] for doc in plan.documents]
    dimension = ordered[0].vectors.shape[1]
    sentences = [s for part in ordered for s in part.sentences]
    vectors = _stack([part.vectors for part in ordered], dimension)
    offsets = np.cumsum([0] + [len(part.paragraph_vectors) for part in ordered])
    paragraph_of = np.concatenate([part.paragraph_of + offset for part, offset in zip(ordered, offsets, strict=False)])
    clause_counts = np.concatenate([part.clause_counts for part in ordered])
    context = store.Context(
        paragraph_of=paragraph_of.astype(np.int64),
        paragraph_vectors=_stack([part.paragraph_vectors for part in ordered], dimension),
        clause_start=np.concatenate([[0], np.cumsum(clause_counts)]).astype(np.int64),
        clause_vectors=_stack([part.clause_vectors for part in ordered], dimension),
    )
    # The lexical context of a sentence is its article's title and its paragraph.
    context_text = {
        (doc.doc_id, n): f"{doc.title} {text}" for doc in plan.documents for n, text in enumerate(doc.paragraphs, start=1)
    }
    # A sentence that opens with a pronoun is matched with the sentence it refers back to.
    lexical_text = [splitter.with_antecedent(s.text, _previous(sentences, i)) or s.text for i, s in enumerate(sentences)]
    lexical = Lexical.build(lexical_text, [context_text[(s.doc_id, s.paragraph)] for s in sentences])
    infos = [
        DocumentInfo(doc.doc_id, doc.title, doc.date, doc.source, doc.content_hash, len(parts[doc.doc_id].sentences))
        for doc in plan.documents
    ]
    index_type = choose_index_type(settings, len(sentences))
    manifest = store.Manifest(
        format_version=store.FORMAT_VERSION,
        pipeline=PIPELINE_VERSION,
        model=settings.embedding_model,
        dimension=dimension,
        index_type=index_type,
        sentence_count=len(sentences),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        documents=tuple(infos),
    )
    ann = store.build_ann(vectors, index_type)
    store.save_index(settings.index_dir, store.IndexData(manifest, tuple(sentences), vectors, context, ann, lexical))
    log.info("index saved: %d documents, %d sentences", len(infos), len(sentences))
    return BuildReport(plan, len(sentences), embedded, time.perf_counter() - started)


def _previous(sentences: list[Sentence], i: int) -> str | None:
    """The text of the sentence before sentence i in the same paragraph of the same document."""
    if i == 0:
        return None
    before, this = sentences[i - 1], sentences[i]
    return before.text if (before.doc_id, before.paragraph) == (this.doc_id, this.paragraph) else None


def _stack(blocks: list[np.ndarray], dimension: int) -> np.ndarray:
    blocks = [block.reshape(-1, dimension) for block in blocks]
    return np.ascontiguousarray(np.vstack(blocks) if blocks else np.zeros((0, dimension)), dtype=np.float32)


def _embed(documents: list[Document], model: Embedder, progress: bool) -> tuple[dict[str, _Part], int]:
    """Split and embed new or changed documents: sentences, paragraphs and clauses in one pass."""
    plans = []
    texts: list[str] = []
    for doc in documents:
        sentences = split_document(doc)
        pieces = [splitter.parts(s.text, _previous(sentences, i)) for i, s in enumerate(sentences)]
        plans.append((doc, sentences, pieces))
        texts += [s.text for s in sentences] + list(doc.paragraphs) + [c for group in pieces for c in group]
    vectors = model.encode(texts, progress=progress)
    parts: dict[str, _Part] = {}
    cursor = 0

    def take(count: int) -> np.ndarray:
        nonlocal cursor
        block = vectors[cursor : cursor + count]
        cursor += count
        return block

    for doc, sentences, pieces in plans:
        sentence_vectors = take(len(sentences))
        paragraph_vectors = take(len(doc.paragraphs))
        clause_counts = np.array([len(group) for group in pieces], dtype=np.int64)
        parts[doc.doc_id] = _Part(
            sentences=sentences,
            vectors=sentence_vectors,
            paragraph_of=np.array([s.paragraph - 1 for s in sentences], dtype=np.int64),
            paragraph_vectors=paragraph_vectors,
            clause_counts=clause_counts,
            clause_vectors=take(int(clause_counts.sum())),
        )
    return parts, sum(len(sentences) for _, sentences, _ in plans)


def _reusable(settings: Settings, doc_ids: set[str]) -> dict[str, _Part]:
    """Everything stored for unchanged documents in the live index (empty if it cannot be read)."""
    try:
        old = store.load_index(settings.index_dir, model=settings.embedding_model)
    except EventBotError as exc:
        log.warning("re-embedding everything: %s", exc)
        return {}
    rows: dict[str, list[int]] = {}
    for i, sentence in enumerate(old.sentences):
        if sentence.doc_id in doc_ids:
            rows.setdefault(sentence.doc_id, []).append(i)
    c = old.context
    parts = {}
    for doc_id, idx in rows.items():
        paragraphs = c.paragraph_of[idx]
        first, last = int(paragraphs.min()), int(paragraphs.max())
        starts, ends = c.clause_start[idx], c.clause_start[np.array(idx) + 1]
        parts[doc_id] = _Part(
            sentences=[old.sentences[i] for i in idx],
            vectors=old.vectors[idx],
            paragraph_of=paragraphs - first,
            paragraph_vectors=c.paragraph_vectors[first : last + 1],
            clause_counts=(ends - starts).astype(np.int64),
            clause_vectors=np.concatenate([c.clause_vectors[a:b] for a, b in zip(starts, ends, strict=True)])
            if len(idx)
            else np.zeros((0, old.vectors.shape[1]), np.float32),
        )
    return parts
