"""A lean inference path for the same model: ONNX Runtime plus the tokenizers library.

Answering a question with sentence-transformers means importing torch and transformers (seconds) and
running torch's eager kernels. The same network, exported once to ONNX, runs about twice as fast per
question and starts in a fraction of the time. The export is made with torch's own exporter (the
optimum route pins transformers below 5, which sentence-transformers 6 cannot use), once per model,
and is checked against sentence-transformers before it is used; if the check fails it is discarded.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.core.errors import ModelLoadError

log = logging.getLogger(__name__)

EXPORT_VERSION = 4
# The initializer of the word embeddings in the exported graph (quantized one scale per row in the int8 copy).
WORD_EMBEDDINGS = "inner.embeddings.word_embeddings.weight"
# The export also holds an int8 copy (weights of every matrix product quantized per output channel, dynamic
# activations), which EMBEDDING_BACKEND=auto uses: twice as fast on a 2-core CPU, and its vectors stay this close
# to the reference (cosine, checked at export; measured 0.985 at the worst on 600 SQuAD sentences, 0.994 mean).
# Answer quality measured with it: R@1 0.665 against 0.670 on squad-superbowl, equal on the seed and newsroom sets.
INT8_FILE = "model.int8.onnx"
INT8_MIN_COSINE = 0.98
# Questions are sorted by length and run 16 at a time: measured here, 16 wastes less on padding than
# 32 or 64 and still shares the per-call cost (1.07 ms a question against 1.77 ms one at a time).
BATCH_SIZE = 16
# glibc's mallopt parameter for how much freed memory at the top of the heap it keeps.
M_TRIM_THRESHOLD = -1
# Largest difference allowed between an ONNX vector and the sentence-transformers one (unit vectors).
TOLERANCE = 1e-4
_CHECK_TEXTS = (
    "Where was K-Defense Day held?",
    "He noted that South Korea signed a 9 trillion won ($6.7 billion) contract earlier this month.",
    "국방의 날 행사는 어디에서 열렸나요? — ünïcödé, emoji 🚀 and ١٢٣",
    "word " * 400,  # longer than the model's 256-token limit: truncation must match too
    "x",
)

# Natural sentences for the int8 check (the float check's degenerate texts say nothing of a quantized model).
_INT8_CHECK_TEXTS = (
    "President Lee Jae Myung attended the inaugural K-Defense Day ceremony on Tuesday.",
    "How many fishing boats took part in the harbour parade?",
    "Exports of tanks and howitzers to Poland were worth about 17 trillion won last year.",
    "The company said the contract had been revised after talks with the defense ministry.",
)


def export_folder(cache_dir: Path, model_name: str) -> Path:
    """Where the export of one model lives (one per model name, shared by every index)."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model_name)[-60:]
    digest = hashlib.sha256(model_name.encode("utf-8")).hexdigest()[:10]
    return cache_dir / f"{slug}-{digest}"


def is_exported(folder: Path, model_name: str) -> bool:
    try:
        meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("model") == model_name
        and meta.get("version") == EXPORT_VERSION
        and (folder / "model.onnx").is_file()
        and (folder / INT8_FILE).is_file()
        and (folder / "tokenizer.json").is_file()
    )


def export(reference: Any, folder: Path) -> float:
    """Export a loaded SentenceTransformerEmbedder to `folder`; returns the largest difference measured.

    Only the standard pipeline (transformer, mean pooling, optional normalisation) is exported;
    anything else raises ModelLoadError, and the torch backend stays in use.
    """
    import torch

    model = reference.sentence_transformer
    kinds = [type(module).__name__ for module in model]
    pooling = model[1] if len(kinds) > 1 else None
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in {"Transformer", "Pooling", "Normalize"} for k in kinds):
        raise ModelLoadError(f"ONNX export supports transformer + mean pooling models, not {kinds}; set EMBEDDING_BACKEND=torch")
    if pooling is None or getattr(pooling, "pooling_mode", "mean") != "mean":
        raise ModelLoadError("ONNX export supports mean pooling only; set EMBEDDING_BACKEND=torch")

    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    names = ["input_ids", "attention_mask", "token_type_ids"]
    staging = folder.with_name(folder.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        sample = tokenizer(["a sample", "another longer sample sentence"], padding=True, return_tensors="pt")
        if "token_type_ids" not in sample:
            sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
        export_encoder(transformer, tuple(sample[n] for n in names), staging / "model.onnx")
        tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        meta = {
            "version": EXPORT_VERSION,
            "model": reference.model_name,
            "dimension": reference.dimension,
            "max_tokens": reference.max_tokens,
            "normalize": "Normalize" in kinds,
            "pad_id": tokenizer.pad_token_id or 0,
        }
        (staging / "export.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        candidate = OnnxEmbedder(reference.model_name, staging)
        difference = float(np.max(np.abs(candidate.encode(_CHECK_TEXTS) - reference.encode(_CHECK_TEXTS))))
        if difference > TOLERANCE:
            raise ModelLoadError(
                f"the ONNX export differs from sentence-transformers by {difference:.2g}; set EMBEDDING_BACKEND=torch"
            )
        meta["max_difference"] = difference
        meta["int8_min_cosine"] = _quantize(staging, reference)
        meta["sha256"] = {name: sha256(staging / name) for name in ("model.onnx", INT8_FILE)}
        (staging / "export.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("exported %s to ONNX in %s (largest difference %.2g)", reference.model_name, folder, difference)
    return difference


def export_encoder(transformer: Any, sample: tuple[Any, Any, Any], path: Path) -> None:
    """A BERT-style transformer (input ids, attention mask, token types -> token embeddings) exported to `path` with
    torch's exporter, batch and token axes dynamic. The word embeddings' initializer is WORD_EMBEDDINGS."""
    import torch

    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer  # the name behind WORD_EMBEDDINGS

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes; the checks after an export are what count
        torch.onnx.export(
            Wrapped(),
            sample,
            str(path),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]},
            opset_version=17,
            dynamo=False,
        )


def _pool_spans(
    tokens: np.ndarray, mask: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
) -> np.ndarray:
    """The normalised mean of the tokens inside each character span (all of the text's tokens for a span that
    holds none), from running sums: one pass over the tokens whatever the number of spans."""
    where = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    real = mask.astype(bool) & (where[:, 1] > where[:, 0])
    kept, starts, ends = tokens[real], where[real, 0], where[real, 1]
    sums = np.vstack([np.zeros((1, tokens.shape[1]), np.float32), np.cumsum(kept, axis=0, dtype=np.float32)])
    wanted = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    # Tokens are in text order: those inside [start, end) are a run, from the first starting at or after `start`
    # to the last ending at or before `end`.
    first = np.searchsorted(starts, wanted[:, 0], side="left")
    last = np.searchsorted(ends, wanted[:, 1], side="right")
    empty = last <= first
    first, last = np.where(empty, 0, first), np.where(empty, len(kept), last)
    pooled = (sums[last] - sums[first]) / np.maximum(last - first, 1)[:, None]
    return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def _quantize(staging: Path, reference: Any) -> float:
    """Write the int8 copy of `staging`'s model and check it against the reference; returns the lowest cosine."""
    quantize_int8(staging / "model.onnx", staging / INT8_FILE, WORD_EMBEDDINGS)
    candidate = OnnxEmbedder(reference.model_name, staging, int8=True)
    texts = [*_CHECK_TEXTS[:3], *_INT8_CHECK_TEXTS]
    cosine = float(np.min(np.sum(candidate.encode(texts) * reference.encode(texts), axis=1)))
    if cosine < INT8_MIN_COSINE:
        raise ModelLoadError(
            f"the int8 ONNX export is too far from sentence-transformers (cosine {cosine:.3f}); set EMBEDDING_BACKEND=onnx"
        )
    return cosine


def quantize_int8(source: Path, target: Path, embeddings: str) -> None:
    """The int8 copy of an ONNX model: every matrix product's weights per output channel (dynamic activations),
    and the word embeddings named `embeddings` one scale per row (`quantize_embeddings`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("root").setLevel(logging.ERROR)  # "consider pre-processing" advice, printed at WARNING
        quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8)
    quantize_embeddings(target, embeddings)


def quantize_embeddings(path: Path, name: str) -> None:
    """The word-embedding matrix in int8 too (dynamic quantization leaves it fp32: 47 of the file's 59 MB): one
    scale per row, symmetric, gathered with the rows, so only the looked-up rows are turned back into floats."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    found = [i for i in graph.initializer if i.name == name]
    if not found:
        return  # already quantized, or not this architecture
    weights = numpy_helper.to_array(found[0]).astype(np.float32)
    scales = np.maximum(np.abs(weights).max(axis=1, keepdims=True), 1e-12) / 127.0
    quantized = np.clip(np.round(weights / scales), -127, 127).astype(np.int8)
    graph.initializer.remove(found[0])
    graph.initializer.extend(
        [numpy_helper.from_array(quantized, f"{name}.int8"), numpy_helper.from_array(scales.astype(np.float32), f"{name}.scale")]
    )
    for position, node in enumerate(graph.node):
        if node.op_type == "Gather" and node.input[0] == name:
            ids, output = node.input[1], node.output[0]
            replacement = [
                helper.make_node("Gather", [f"{name}.int8", ids], [f"{output}.int8"]),
                helper.make_node("Cast", [f"{output}.int8"], [f"{output}.float"], to=onnx.TensorProto.FLOAT),
                helper.make_node("Gather", [f"{name}.scale", ids], [f"{output}.scale"]),
                helper.make_node("Mul", [f"{output}.float", f"{output}.scale"], [output]),
            ]
            graph.node.remove(node)
            for offset, new in enumerate(replacement):
                graph.node.insert(position + offset, new)
            break
    onnx.save(model, str(path))


def _cannot_load(folder: Path, exc: Exception) -> ModelLoadError:
    log.debug("ONNX export load failed", exc_info=True)
    return ModelLoadError(
        f"cannot load the ONNX export in {folder}: {type(exc).__name__}; delete it to export again, "
        "or set EMBEDDING_BACKEND=torch"
    )


def sha256(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def session_options(*, patterns: bool = True) -> Any:
    """How every ONNX Runtime session of the project runs: all cores, fully optimised, quiet, and no busy-waiting
    after a run (the embedder, e5 and the reader take turns on the same cores). Without `patterns` the session plans
    no memory per input shape it has seen (`OnnxReader`, whose inputs take many shapes)."""
    import onnxruntime as ort

    _return_freed_memory()
    options = ort.SessionOptions()
    options.enable_mem_pattern = patterns
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = max(1, os.cpu_count() or 1)
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _return_freed_memory() -> None:
    """Have glibc give freed heap memory back at once: loading a model parses its file into buffers that are freed
    after, and kept they added about 10 MB to a serving process's resident memory. Elsewhere this does nothing."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL(None).mallopt(M_TRIM_THRESHOLD, 0)


class OnnxEmbedder:
    """The exported model on ONNX Runtime: tokenizers, one session run, mean pooling, normalisation; `int8` the
    quantized copy.

    The session starts on the first text to embed: a process that only ever answers Korean questions (e5 alone)
    never holds it (about 50 MB and 0.2 s). The model file is checked against the checksum the export recorded
    at once, so a damaged export is still reported (or fallen back from) at start."""

    def __init__(self, model_name: str, folder: Path, *, int8: bool = False) -> None:
        model = folder / (INT8_FILE if int8 else "model.onnx")
        try:
            from tokenizers import Tokenizer

            meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            expected = meta.get("sha256", {}).get(model.name)
        except Exception as exc:  # a damaged or missing export: the caller falls back or reports
            raise _cannot_load(folder, exc) from None
        if expected is not None and sha256(model) != expected:
            raise ModelLoadError(
                f"cannot load the ONNX export in {folder}: {model.name} does not match the checksum its export "
                "recorded (damaged?); delete it to export again, or set EMBEDDING_BACKEND=torch"
            )
        self.model_name = model_name
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_tokens"])
        self._normalize = bool(meta["normalize"])
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.enable_padding(pad_id=int(meta["pad_id"]))
        self._folder, self._model = folder, model
        self._session: Any = None
        self._failed: ModelLoadError | None = None  # a start that failed is not retried on every question
        self._starting = threading.Lock()
        if expected is None:  # an export without checksums (being made now): start it here, where faults show
            self._start()

    @property
    def started(self) -> bool:
        return self._session is not None

    def _start(self) -> Any:
        with self._starting:
            if self._failed is not None:
                raise self._failed
            if self._session is None:
                try:
                    import onnxruntime as ort

                    session = ort.InferenceSession(str(self._model), session_options(), providers=["CPUExecutionProvider"])
                except Exception as exc:
                    self._failed = _cannot_load(self._folder, exc)
                    raise self._failed from None
                self._inputs = {i.name for i in session.get_inputs()}
                self._session = session
        return self._session

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed in batches sorted by token count (least padding), returned in the original order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encode_spans(texts, [()] * len(texts), progress=progress)[0]

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, and a vector for each of its character spans pooled from the same pass: the mean
        of the span's tokens as the model read them in the whole text (no second pass for a text's parts)."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((len(s), self.dimension), np.float32) for s in spans]
        from tqdm import tqdm

        # Tokenized once, all together, and batched by token count (not characters): the least padding.
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [sum(e.attention_mask) for e in encodings]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        bar = tqdm(total=len(texts), unit="sentence", desc="embedding", delay=1.0, disable=not progress or None)
        for begin in range(0, len(order), BATCH_SIZE):
            rows = order[begin : begin + BATCH_SIZE]
            width = max(lengths[i] for i in rows)
            ids = np.array([encodings[i].ids[:width] for i in rows], dtype=np.int64)
            mask = np.array([encodings[i].attention_mask[:width] for i in rows], dtype=np.int64)
            tokens = self._session_run(ids, mask, np.array([encodings[i].type_ids[:width] for i in rows], dtype=np.int64))
            out[rows] = self._pool(tokens, mask)
            bar.update(len(rows))
            for j, i in enumerate(rows):
                if spans[i]:
                    parts[i] = _pool_spans(tokens[j], mask[j], encodings[i].offsets[:width], spans[i])
        bar.close()
        return out, parts

    def _session_run(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        session = self._session or self._start()
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = types
        (tokens,) = session.run(None, feeds)
        return np.asarray(tokens)

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[:, :, None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self._normalize:
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)
