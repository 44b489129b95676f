"""`eventbot bench`: speed and memory, measured the way users feel them and operators pay for them.

Everything is measured in one run on one machine, beside a floor made of the project's own parts: the
bare sentence-transformers model plus one FAISS search. Timings go in the README, never in tests.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index import store
from index.core.records import DocumentInfo, Sentence
from index.core.settings import Settings
from index.models.embedder import Embedder, SentenceTransformerEmbedder, load_embedder, model_identity, resolve_model
from index.models.multilingual import MultilingualEmbedder, load_multilingual
from index.service import QAService
from index.service.batching import AnswerBatcher
from index.store import ClauseVectors, IndexData, Lexical, Manifest, MultilingualVectors, ParagraphVectors, Shard, dense
from index.store.builder import build, choose_index_type, complete_multilingual

REPO = Path(__file__).resolve().parent.parent
# Five SQuAD articles (862 sentences): the English build the build-speed floor is measured on.
ENGLISH_CORPUS = REPO / "eval" / "squad-multi" / "corpus"
# 21 articles (16 SQuAD articles, the 5 newsroom pieces: about 2,400 sentences): the full build, every vector made.
FULL_CORPORA = (REPO / "eval" / "squad-multi" / "docs", REPO / "eval" / "newsroom" / "docs")
QUESTION_FILES = (
    "eval/dev.jsonl",
    "eval/article-tune.jsonl",
    "eval/article-report.jsonl",
    "eval/squad-superbowl/questions.jsonl",
)
PROBE = "Where was K-Defense Day held?"
KOREAN_PROBE = "케이방산의 날 행사는 어디서 열렸어?"
# Korean questions (about the English and the Korean seed) for the Korean figures: in-process answer time, a fresh
# process's first Korean answer, and the peak memory of a process serving them.
KOREAN_FILES = tuple(
    f"eval/korean/{name}.jsonl" for name in ("en-article-tune", "en-article-report", "ko-article-tune", "ko-article-report")
)
CONCURRENT = 32


def korean_questions() -> list[str]:
    """The Korean questions of `KOREAN_FILES` (none when they are not there)."""
    found = []
    for name in KOREAN_FILES:
        path = REPO / name
        if path.is_file():
            found += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return found


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "p99": float(np.percentile(ms, 99))}


def time_each(call: Callable[[str], Any], question: str) -> float:
    start = time.perf_counter()
    call(question)
    return time.perf_counter() - start


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def questions_for(corpus: Sequence[Sentence], count: int) -> list[str]:
    """At least `count` varied questions: the project's question files, topped up from the corpus itself."""
    found: list[str] = []
    for name in QUESTION_FILES:
        path = REPO / name
        if path.is_file():
            found += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = np.random.default_rng(7)
    rng.shuffle(found)
    while len(found) < count and corpus:
        words = corpus[int(rng.integers(len(corpus)))].text.split()
        found.append("What about " + " ".join(words[: int(rng.integers(3, 9))]) + "?")
    return found[: max(count, 1)]


def _latency_rounds(service: QAService, questions: list[str], *, batching: bool, rounds: int) -> dict[str, Any]:
    """`rounds` bursts of 32 questions at once, as from 32 chats; with or without shared batches."""

    async def burst(batcher: AnswerBatcher, batch: list[str]) -> list[float]:
        async def one(q: str) -> float:
            start = time.perf_counter()
            await batcher.answer(q)
            return time.perf_counter() - start

        return list(await asyncio.gather(*(one(q) for q in batch)))

    async def main() -> tuple[list[float], float]:
        batcher = AnswerBatcher(
            service, wait_ms=service.settings.batch_wait_ms if batching else 0, max_batch=64 if batching else 1
        )
        latencies: list[float] = []
        start = time.perf_counter()
        for r in range(rounds):
            batch = [questions[(r * CONCURRENT + i) % len(questions)] for i in range(CONCURRENT)]
            latencies += await burst(batcher, batch)
        return latencies, time.perf_counter() - start

    latencies, total = asyncio.run(main())
    return {"throughput_qps": len(latencies) / total, **percentiles(latencies)}


# Peak RSS is read by a small parent: a child forked straight from this (large) process would report
# this process's memory as its own peak, from the moment between fork and exec.
_RSS_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(code)"
)


def _first_line_seconds(command: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> tuple[float, int]:
    """Wall time from launch to the first line on standard output, and the process's peak RSS in bytes."""
    rss_file = cwd / f"rss-{time.monotonic_ns()}.txt"
    wrapped = [sys.executable, "-S", "-c", _RSS_WRAPPER, str(rss_file), *command]
    start = time.perf_counter()
    process = subprocess.Popen(
        wrapped, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    if stdin is not None:
        process.stdin.write(stdin.encode("utf-8"))
    process.stdin.close()
    process.stdout.readline()
    first = time.perf_counter() - start
    process.stdout.read()
    if process.wait() != 0:
        raise RuntimeError(f"{' '.join(command[:4])} exited with {process.returncode}")
    return first, int(rss_file.read_text()) * 1024


NAIVE = """
import sys, faiss, numpy as np
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
vectors = np.load(sys.argv[2])
index = faiss.IndexFlatIP(vectors.shape[1]); index.add(vectors)
for q in [sys.argv[3]] + [line.strip() for line in sys.stdin if line.strip()]:
    scores, rows = index.search(model.encode([q], normalize_embeddings=True), 3)
    print(q, rows[0].tolist(), flush=True)
"""


def run(settings: Settings, corpus: Path | None, *, quick: bool = False) -> dict[str, Any]:
    """The whole benchmark on a copy of `corpus` (default SEEDS_DIR) in a scratch folder."""
    scratch = Path(tempfile.mkdtemp(prefix="eventbot-bench-"))
    try:
        return _run(settings, corpus or settings.seeds_dir, scratch, quick)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(settings: Settings, corpus: Path, scratch: Path, quick: bool) -> dict[str, Any]:
    seeds = scratch / "seeds"
    shutil.copytree(corpus, seeds)
    local = settings.model_copy(update={"seeds_dir": seeds, "index_dir": scratch / "index", "log_file": None})
    results: dict[str, Any] = {"machine": _machine(), "backend": settings.embedding_backend}
    count = 40 if quick else 240
    rounds = 2 if quick else 8

    # Index build: full, nothing changed, one article changed.
    load_started = time.perf_counter()
    embedder = load_embedder(local)
    results["model_load_s"] = time.perf_counter() - load_started
    results["embedder"] = type(embedder).__name__
    multilingual = load_multilingual(local)
    report = build(local, lambda: embedder, multilingual=lambda: multilingual)
    started = time.perf_counter()
    completed = complete_multilingual(local, lambda: multilingual)
    multilingual_s = time.perf_counter() - started
    results["build"] = {
        "sentences": report.sentence_count,
        "full_s": report.seconds,
        "sentences_per_s": report.sentence_count / report.seconds,
        "multilingual_sentences": completed,
        "multilingual_s": multilingual_s,
        "multilingual_sentences_per_s": completed / multilingual_s if completed else 0.0,
        "unchanged_s": timed(lambda: build(local, lambda: embedder)),
    }
    env = {
        **os.environ,
        "SEEDS_DIR": str(seeds),
        "INDEX_DIR": str(local.index_dir),
        "LOG_FILE": "",
        "MODEL_CACHE_DIR": str(settings.model_cache_dir.resolve()),
        "EMBEDDING_BACKEND": settings.embedding_backend,
    }
    command = [sys.executable, "-m", "bot"]
    results["build"]["unchanged_process_s"] = statistics.median(
        timed(lambda: subprocess.run([*command, "build"], env=env, cwd=scratch, capture_output=True, check=True))
        for _ in range(1 if quick else 3)
    )
    changed = sorted(p for p in seeds.rglob("*") if p.suffix in (".txt", ".md"))[0]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nOne more paragraph was added for the benchmark.\n", encoding="utf-8"
    )
    one = build(local, lambda: embedder, multilingual=lambda: multilingual)
    started = time.perf_counter()
    complete_multilingual(local, lambda: multilingual)
    results["build"]["one_changed_s"] = one.seconds
    results["build"]["one_changed_embedded"] = one.embedded
    results["build"]["one_changed_sentences_per_s"] = one.embedded / one.seconds
    results["build"]["one_changed_multilingual_s"] = time.perf_counter() - started

    # The answer path, one question at a time, against the floor.
    data = store.load_index(local.index_dir, model=model_identity(local))
    service = QAService(local, embedder, data)
    questions = questions_for(data.sentences, count)
    reference = SentenceTransformerEmbedder(local.embedding_model)
    flat = dense.build_ann(data.vectors, "flat")

    def floor(q: str) -> None:
        flat.search(reference.sentence_transformer.encode([q], normalize_embeddings=True), local.top_k)

    for q in questions[:10]:
        floor(q)
        service.answer(q)
    floor_s = [time_each(floor, q) for q in questions]
    answer_s = [time_each(service.answer, q) for q in questions]
    results["floor_ms"], results["answer_ms"] = percentiles(floor_s), percentiles(answer_s)
    results["floor_latencies_ms"] = [t * 1000 for t in floor_s]
    results["answer_latencies_ms"] = [t * 1000 for t in answer_s]
    korean = korean_questions()
    if korean:
        for q in korean[:10]:
            service.answer(q)
        results["korean_answer_ms"] = percentiles([time_each(service.answer, q) for q in korean])

    # Many chats at once.
    results["concurrent_unbatched"] = _latency_rounds(service, questions, batching=False, rounds=rounds)
    results["concurrent_batched"] = _latency_rounds(service, questions, batching=True, rounds=rounds)

    # Start-up: a fresh process to its first printed answer; peak memory of a serving process.
    runs = 1 if quick else 5
    startups = [_first_line_seconds([*command, "ask", PROBE], env, scratch) for _ in range(runs)]
    results["startup_s"] = statistics.median(s for s, _ in startups)
    many = "\n".join(questions) + "\n"
    results["serving_rss_mb"] = _first_line_seconds([*command, "ask"], env, scratch, many)[1] / 2**20
    if korean:
        firsts = [_first_line_seconds([*command, "ask", KOREAN_PROBE], env, scratch) for _ in range(runs)]
        results["korean_startup_s"] = statistics.median(s for s, _ in firsts)
        korean_many = "\n".join(korean) + "\n"
        results["korean_serving_rss_mb"] = _first_line_seconds([*command, "ask"], env, scratch, korean_many)[1] / 2**20
    np.save(scratch / "vectors.npy", data.vectors)
    naive_command = [sys.executable, "-c", NAIVE, resolve_model(local.embedding_model), str(scratch / "vectors.npy"), PROBE]
    serving = _first_line_seconds(naive_command, env, scratch, many)
    # A quick run takes the start-up from the serving run; a measurement starts the naive path three times more.
    naive = [serving] if quick else [_first_line_seconds(naive_command, env, scratch) for _ in range(3)]
    results["naive_startup_s"] = statistics.median(s for s, _ in naive)
    results["naive_serving_rss_mb"] = serving[1] / 2**20
    results["build_curve"] = _build_curve(local, embedder, multilingual, corpus, scratch, quick)
    if ENGLISH_CORPUS.is_dir():  # a real build of real English articles, timed as `eventbot build` runs it
        english = local.model_copy(update={"seeds_dir": ENGLISH_CORPUS, "index_dir": scratch / "english-index"})
        report = build(english, lambda: embedder, multilingual=lambda: multilingual)
        started = time.perf_counter()
        completed = complete_multilingual(english, lambda: multilingual)
        results["build_english"] = {
            "corpus": str(ENGLISH_CORPUS.relative_to(REPO)),
            "sentences": report.sentence_count,
            "full_s": report.seconds,
            "sentences_per_s": report.sentence_count / report.seconds,
            "multilingual_s": time.perf_counter() - started,
            "multilingual_sentences": completed,
        }
    if all(folder.is_dir() for folder in FULL_CORPORA):
        results["build_full"] = _full_build(local, embedder, multilingual, scratch)
    return results


def _full_build(settings: Settings, embedder: Embedder, multilingual: MultilingualEmbedder, scratch: Path) -> dict[str, Any]:
    """The 21-article corpus built twice from nothing: the English side only (what a running bot swaps in before
    its background filler makes the rest), and every vector, English and multilingual, as `eventbot build` does."""
    seeds = scratch / "full-seeds"
    for folder in FULL_CORPORA:
        shutil.copytree(folder, seeds / folder.parent.name)
    figures: dict[str, Any] = {"articles": sum(1 for p in seeds.rglob("*") if p.is_file())}
    for key, every in (("english", False), ("every", True)):
        local = settings.model_copy(update={"seeds_dir": seeds, "index_dir": scratch / f"full-index-{key}"})
        report = build(local, lambda: embedder, multilingual=lambda: multilingual, every_vector=every)
        figures["sentences"] = report.sentence_count
        figures[f"{key}_s"] = report.seconds
        figures[f"{key}_sentences_per_s"] = report.sentence_count / report.seconds
    return figures


def _build_curve(
    settings: Settings, embedder: Embedder, multilingual: MultilingualEmbedder, corpus: Path, scratch: Path, quick: bool
) -> list[dict[str, float]]:
    """Full-build time for 1, 2, 4 (and 8) copies of the corpus: builds should grow linearly."""
    curve = []
    for copies in (1, 2) if quick else (1, 2, 4, 8):
        seeds = scratch / f"curve-{copies}"
        for i in range(copies):
            shutil.copytree(corpus, seeds / f"copy{i}")
        local = settings.model_copy(update={"seeds_dir": seeds, "index_dir": scratch / f"curve-index-{copies}"})
        report = build(local, lambda: embedder, multilingual=lambda: multilingual)
        curve.append({"sentences": report.sentence_count, "seconds": report.seconds})
    return curve


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


# --- synthetic scale -------------------------------------------------------------------------------


def synthetic_vectors(n: int, dimension: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors with the low intrinsic dimension of real sentence embeddings (random ones are a worst case no corpus has)."""
    basis = np.random.default_rng(1).standard_normal((48, dimension)).astype(np.float32)
    out = np.empty((n, dimension), dtype=np.float32)
    for begin in range(0, n, 100_000):
        size = min(100_000, n - begin)
        block = rng.standard_normal((size, 48)).astype(np.float32) @ basis
        block += 0.3 * rng.standard_normal((size, dimension)).astype(np.float32)
        out[begin : begin + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def run_scale(settings: Settings, n: int, *, quick: bool = False) -> dict[str, Any]:
    """Search latency and recall@10 against exact search over `n` generated sentences, and the answer path end to end."""
    rng = np.random.default_rng(0)
    embedder = load_embedder(settings)
    rss_before = _rss()
    started = time.perf_counter()
    vectors = synthetic_vectors(n, embedder.dimension, rng)
    vocabulary = np.array([f"term{i}" for i in range(30_000)])
    words = rng.zipf(1.3, size=(n, 10)) % len(vocabulary)
    texts = [" ".join(vocabulary[row]) for row in words]
    lexical_started = time.perf_counter()
    lexical = Lexical.build(texts, texts)
    lexical_s = time.perf_counter() - lexical_started
    index_type = choose_index_type(settings, n)
    ann_started = time.perf_counter()
    ann = dense.build_ann(vectors, index_type)
    ann_s = time.perf_counter() - ann_started
    sentences = tuple(Sentence("synthetic", i + 1, 1, 0, len(t), t) for i, t in enumerate(texts))
    del texts
    # Generated sentences have no paragraphs or clauses: each is its own paragraph.
    # English questions only: the multilingual side shares the same generated vectors (never searched here).
    own = ParagraphVectors(np.arange(n), vectors)
    shard = Shard(sentences, vectors, own, ClauseVectors.none(n, embedder.dimension), MultilingualVectors(vectors, own))
    manifest = Manifest(
        format_version=store.FORMAT_VERSION,
        pipeline=0,
        model=model_identity(settings),
        dimension=embedder.dimension,
        index_type=index_type,
        sentence_count=n,
        built_at="",
        documents=(DocumentInfo("synthetic", "Synthetic", None, "-", "-", n),),
    )
    data = IndexData(manifest, shard, ann, lexical)
    build_s = time.perf_counter() - started
    rss_per_sentence = (_rss() - rss_before) / n

    queries = synthetic_vectors(50 if quick else 200, embedder.dimension, rng)
    exact = dense.build_ann(vectors, "flat")
    _, truth = exact.search(queries, 10)
    latencies, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, rows = ann.search(q[None, :], 10)
        latencies.append(time.perf_counter() - start)
        found.append(rows[0])
    recall = float(np.mean([len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(found, truth, strict=True)]))
    exact_latencies = []
    for q in queries[:20]:
        start = time.perf_counter()
        exact.search(q[None, :], 10)
        exact_latencies.append(time.perf_counter() - start)
    exact.reset()  # free its copy of the vectors before measuring the answer path

    service = QAService(settings, embedder, data)
    questions = [f"What about term{int(w)} and term{int(v)}?" for w, v in rng.integers(0, 3000, size=(50 if quick else 200, 2))]
    for q in questions[:5]:
        service.answer(q)
    end_to_end = [time_each(service.answer, q) for q in questions]
    return {
        "machine": _machine(),
        "sentences": n,
        "index_type": index_type,
        "build_s": build_s,
        "ann_build_s": ann_s,
        "bm25_build_s": lexical_s,
        "search_ms": percentiles(latencies),
        "exact_search_ms": percentiles(exact_latencies),
        "recall_at_10": recall,
        "end_to_end_ms": percentiles(end_to_end),
        "rss_bytes_per_sentence": rss_per_sentence,
    }


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# --- reporting -------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, with the targets beside them."""
    if "recall_at_10" in results:
        r = results
        return "\n".join(
            [
                f"Machine: {r['machine']}",
                "| synthetic sentences | index | build s (ANN / BM25) | search p50 ms | exact p50 ms | recall@10 "
                "| answer p50 / p95 ms | RSS bytes per sentence |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
                f"| {r['sentences']:,} | {r['index_type']} "
                f"| {r['build_s']:.0f} ({r['ann_build_s']:.0f} / {r['bm25_build_s']:.0f}) "
                f"| {r['search_ms']['p50']:.2f} | {r['exact_search_ms']['p50']:.1f} | {r['recall_at_10']:.3f} "
                f"| {r['end_to_end_ms']['p50']:.1f} / {r['end_to_end_ms']['p95']:.1f} | {r['rss_bytes_per_sentence']:,.0f} |",
            ]
        )
    r = results
    f, a = r["floor_ms"], r["answer_ms"]
    u, b = r["concurrent_unbatched"], r["concurrent_batched"]
    c = max(r["build_curve"], key=lambda point: point["sentences"])
    rows = [
        (
            "floor: bare sentence-transformers + FAISS, one question",
            f"p50 {f['p50']:.1f} / p95 {f['p95']:.1f} / p99 {f['p99']:.1f} ms",
            "",
        ),
        (
            "answer(), one question",
            f"p50 {a['p50']:.1f} / p95 {a['p95']:.1f} / p99 {a['p99']:.1f} ms",
            f"p50 = {a['p50'] / f['p50']:.2f}x floor; target p50 <= 30 ms",
        ),
        (f"{CONCURRENT} at once, one by one", f"{u['throughput_qps']:.0f} questions/s, p95 {u['p95']:.0f} ms", ""),
        (
            f"{CONCURRENT} at once, micro-batched",
            f"{b['throughput_qps']:.0f} questions/s, p95 {b['p95']:.0f} ms",
            f"{b['throughput_qps'] / u['throughput_qps']:.1f}x (target >= 3x)",
        ),
        (
            "start-up to first answer (eventbot ask)",
            f"{r['startup_s']:.2f} s",
            f"{r['startup_s'] / r['naive_startup_s']:.2f}x naive; target <= 0.8 s",
        ),
        ("start-up, naive (import sentence-transformers, load, encode, search)", f"{r['naive_startup_s']:.2f} s", ""),
        (
            "full build (English side: every question but a Korean one about an English sentence)",
            f"{r['build']['sentences']} sentences in {r['build']['full_s']:.2f} s ({r['build']['sentences_per_s']:.0f}/s)",
            "a build's fixed costs dominate a small corpus; throughput below",
        ),
        (
            "then multilingual vectors of the English sentences (background in a running bot)",
            f"{r['build']['multilingual_sentences']} sentences in {r['build']['multilingual_s']:.2f} s "
            f"({r['build']['multilingual_sentences_per_s']:.0f}/s)",
            "",
        ),
        *(
            [
                (
                    f"full build, English side, {r['build_english']['corpus']}",
                    f"{r['build_english']['sentences']} sentences in {r['build_english']['full_s']:.2f} s "
                    f"({r['build_english']['sentences_per_s']:.0f}/s); multilingual vectors then "
                    f"{r['build_english']['multilingual_s']:.1f} s",
                    "target >= 300/s",
                )
            ]
            if "build_english" in r
            else []
        ),
        *(
            [
                (
                    f"full build of {r['build_full']['articles']} articles, English side only",
                    f"{r['build_full']['sentences']} sentences in {r['build_full']['english_s']:.1f} s "
                    f"({r['build_full']['english_sentences_per_s']:.0f}/s)",
                    "",
                ),
                (
                    f"full build of {r['build_full']['articles']} articles, every vector (`eventbot build`)",
                    f"{r['build_full']['sentences']} sentences in {r['build_full']['every_s']:.1f} s "
                    f"({r['build_full']['every_sentences_per_s']:.0f}/s)",
                    "target >= 200/s",
                ),
            ]
            if "build_full" in r
            else []
        ),
        (
            "largest full build of the curve",
            f"{c['sentences']} sentences in {c['seconds']:.2f} s ({c['sentences'] / c['seconds']:.0f}/s)",
            "target >= 300/s",
        ),
        (
            "rebuild, nothing changed",
            f"{r['build']['unchanged_s'] * 1000:.0f} ms in process, "
            f"{r['build']['unchanged_process_s']:.2f} s as `eventbot build`",
            "target < 1 s",
        ),
        (
            "rebuild, one article changed",
            f"{r['build']['one_changed_s']:.2f} s ({r['build']['one_changed_embedded']} sentences embedded, "
            f"{r['build']['one_changed_sentences_per_s']:.0f}/s); multilingual {r['build']['one_changed_multilingual_s']:.2f} s",
            "that article only",
        ),
        (
            "peak RSS serving (eventbot ask, all questions)",
            f"{r['serving_rss_mb']:.0f} MB",
            f"target <= 300 MB; naive {r['naive_serving_rss_mb']:.0f} MB",
        ),
    ]
    if "korean_answer_ms" in r:
        k = r["korean_answer_ms"]
        rows += [
            ("Korean question, answer()", f"p50 {k['p50']:.1f} / p95 {k['p95']:.1f} ms", "target p50 <= 45 ms"),
            ("start-up to first Korean answer (eventbot ask)", f"{r['korean_startup_s']:.2f} s", "target <= 0.8 s"),
            ("peak RSS serving Korean questions (eventbot ask)", f"{r['korean_serving_rss_mb']:.0f} MB", "target <= 300 MB"),
        ]
    lines = [f"Machine: {r['machine']}; embedder: {r['embedder']}", "| measure | result | against |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {target} |" for name, value, target in rows]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Latency distributions and the build curve, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.linspace(
        0, max(np.percentile(results["floor_latencies_ms"], 99), np.percentile(results["answer_latencies_ms"], 99)) * 1.1, 50
    )
    left.hist(results["floor_latencies_ms"], bins=bins, alpha=0.6, label="floor: sentence-transformers + FAISS")
    left.hist(results["answer_latencies_ms"], bins=bins, alpha=0.6, label=f"answer() ({results['embedder']})")
    left.set_xlabel("latency per question (ms)")
    left.set_ylabel("questions")
    left.set_title("One question at a time")
    left.legend()
    curve = results["build_curve"]
    right.plot([c["sentences"] for c in curve], [c["seconds"] for c in curve], marker="o")
    right.set_xlabel("sentences")
    right.set_ylabel("full build (s)")
    right.set_title("Index build")
    figure.suptitle(results["machine"], fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


# --- the question log -------------------------------------------------------------------------------

JOURNAL_QUESTIONS = 100_000


def run_journal(settings: Settings, *, quick: bool = False) -> dict[str, Any]:
    """The question log on SQLite and, when JOURNAL_URL is set, on PostgreSQL: answers per second with every answer
    logged as the bot logs it (record, then where the message went), CONCURRENT chats at once; and the editors'
    report over JOURNAL_QUESTIONS logged questions."""
    from concurrent.futures import ThreadPoolExecutor

    from index.conversation.journal import Journal, QuestionLog
    from index.conversation.journal_pg import PostgresJournal

    scratch = Path(tempfile.mkdtemp(prefix="eventbot-bench-journal-"))
    try:
        seeds = scratch / "seeds"
        shutil.copytree(settings.seeds_dir, seeds)
        local = settings.model_copy(update={"seeds_dir": seeds, "index_dir": scratch / "index", "log_file": None})
        service = QAService.open(local, lambda message: None)
        data = store.load_index(local.index_dir, model=model_identity(local))
        questions = questions_for(data.sentences, 64 if quick else 256)
        answers = [service.answer(q) for q in questions]
        backends: dict[str, Callable[[], QuestionLog]] = {"sqlite": lambda: Journal(scratch / "journal.sqlite3")}
        if settings.journal_url is not None:
            url = settings.journal_url.get_secret_value()
            backends["postgresql"] = lambda: PostgresJournal(url, pool_size=CONCURRENT // 2)
        results: dict[str, Any] = {"chats": CONCURRENT, "questions": len(questions)}
        for name, opening in backends.items():
            log = opening()
            try:

                def one(i: int, log: QuestionLog = log) -> None:
                    answer = service.answer(questions[i % len(questions)])
                    made = log.record(answer, chat=i % CONCURRENT, asker=i % CONCURRENT, shown=len(answer.presented))
                    log.sent(made, chat=i % CONCURRENT, message=10_000 + i)

                rounds = len(questions) * (1 if quick else 2)
                started = time.perf_counter()
                with ThreadPoolExecutor(CONCURRENT) as pool:
                    list(pool.map(one, range(rounds)))
                logged = time.perf_counter() - started
                started = time.perf_counter()
                with ThreadPoolExecutor(CONCURRENT) as pool:
                    list(pool.map(lambda i: service.answer(questions[i % len(questions)]), range(rounds)))
                bare = time.perf_counter() - started
                _fill(log, answers, (JOURNAL_QUESTIONS // 10 if quick else JOURNAL_QUESTIONS) - rounds)
                week = time.time() - 7 * 86_400.0
                report_s = statistics.median(timed(functools.partial(log.report, week, 5)) for _ in range(3))
                results[name] = {
                    "answers_per_s": rounds / logged,
                    "answers_per_s_without_log": rounds / bare,
                    "report_s": report_s,
                    "report_questions": log.report().questions,
                }
            finally:
                log.close()
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fill(log: Any, answers: Sequence[Any], count: int) -> None:
    """`count` more logged questions, written in bulk (the report's time is what is measured, not the writing)."""
    from index.conversation.journal import Journal

    now = time.time()
    rows = [
        (now - i, f"chat{i % 5000}", f"asker{i % 5000}", answers[i % len(answers)].question + f" #{i % 700}",
         "answered" if answers[i % len(answers)].answered else "declined", "doc", f"Article {i % 40}", 1, 1, 0.5, 1)
        for i in range(max(0, count))
    ]  # fmt: skip
    sql = (
        "INSERT INTO questions (at, chat, asker, question, outcome, doc_id, title, paragraph, sentence, confidence, shown)"
        " VALUES ({})"
    )
    if isinstance(log, Journal):
        with log._lock:
            log._db.execute("BEGIN")
            log._db.executemany(sql.format(", ".join("?" * 11)), rows)
            log._db.execute("COMMIT")
    else:
        with log._connection(wait=30.0) as db, db.cursor() as cursor:
            cursor.executemany(sql.format(", ".join(["%s"] * 11)), rows)


def journal_table(results: dict[str, Any]) -> str:
    lines = [
        f"| question log | answers/s, {results['chats']} chats at once, each logged | without the log | "
        "report over the logged questions |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("sqlite", "postgresql"):
        if name in results:
            r = results[name]
            lines.append(
                f"| {name} | {r['answers_per_s']:.0f} | {r['answers_per_s_without_log']:.0f} | "
                f"{r['report_s'] * 1000:.0f} ms ({r['report_questions']:,} questions) |"
            )
    return "\n".join(lines)
