"""The reader: a cross-encoder, trained by the project, that reads a question with one candidate sentence and
gives the probability that the sentence answers it.

The hybrid ranking finds the sentences about the question's subject; the reader tells which of them answers.
It reads the question beside the sentence and what the sentence needs to be understood (its article's title and
the sentence before it, `pair_text`: the one place that says what the model reads, in training and serving
alike). The model is MiniLM-L6 fine-tuned by `eventbot train-reader` (measure/train_reader.py, torch there only)
and shipped in this package as ONNX (`reader/`, with `manifest.json`: its data, their checksums, the seed, the
figures). Serving runs it on ONNX Runtime with the tokenizers library and never imports torch.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.core.errors import ModelLoadError
from index.core.language import ENGLISH, KOREAN, has_hangul
from index.core.settings import Settings
from index.models.onnx_backend import session_options

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("reader")
# The Korean reader (`eventbot train-reader --language ko`): multilingual-e5-small fine-tuned on KorQuAD, for
# Korean questions about Korean or English sentences.
SHIPPED_KOREAN = Path(__file__).with_name("reader-ko")
MODEL_FILE = "model.onnx"
MANIFEST = "manifest.json"
# Question, sentence and context together: enough for a news sentence with its title and the one before it.
MAX_TOKENS = 160
# Pairs run this many at a time, sorted by length (the least padding).
BATCH_SIZE = 16
# Only the start of the sentence before is read: it says what "it" or "the company" is.
PREVIOUS_CHARS = 240


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the reader reads of one candidate sentence."""

    sentence: str
    title: str = ""
    previous: str | None = None


def pair_text(candidate: Candidate) -> str:
    """The second segment the model reads after the question: the sentence first (truncation cuts the context,
    never the sentence), then the article's title and the sentence before it."""
    context = candidate.title.strip()
    if candidate.previous:
        previous = candidate.previous.strip()[:PREVIOUS_CHARS]
        context = f"{context}. {previous}" if context else previous
    text = " ".join(candidate.sentence.split())
    return f"{text} [SEP] {' '.join(context.split())}" if context else text


class Reader(Protocol):
    """What the ranker needs of a reader: one probability per candidate."""

    name: str

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray: ...


def _serving_file(folder: Path, file: str | None = None) -> tuple[dict[str, Any], Path]:
    """The reader's manifest, and the model file it serves (or `file`)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return manifest, folder / str(file or manifest.get("serving_file", MODEL_FILE))


def _cannot_load(folder: Path, exc: Exception) -> ModelLoadError:
    log.debug("reader load failed", exc_info=True)
    return ModelLoadError(
        f"cannot load the reader model in {folder}: {type(exc).__name__}; reinstall with make install, or set READER=off"
    )


# The reader's session plans no memory per input shape: measured over 80 reads of five Korean candidates of
# varied length, the session grew 27 MB instead of 41 at about the same speed (68.6 against 72.7 ms). Without a
# memory arena at all it grew 6 MB but read 2.3 times slower (every run's buffers taken from the system again).
PATTERNS = False


class OnnxReader:
    """The shipped (or any exported) reader on ONNX Runtime."""

    def __init__(self, folder: Path = SHIPPED, file: str | None = None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            manifest, model = _serving_file(folder, file)
            self._session = ort.InferenceSession(
                str(model), session_options(patterns=PATTERNS), providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # a missing or damaged model: the caller reports it
            raise _cannot_load(folder, exc) from None
        self.name = str(manifest.get("name", "reader"))
        self.manifest = manifest
        self._tokenizer.enable_truncation(max_length=int(manifest.get("max_tokens", MAX_TOKENS)))
        self._tokenizer.no_padding()
        self._inputs = {i.name for i in self._session.get_inputs()}

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        """P(answers) per candidate, in their order."""
        return self.read_pairs([question] * len(candidates), candidates)

    def read_pairs(self, questions: Sequence[str], candidates: Sequence[Candidate]) -> np.ndarray:
        """P(candidate i answers question i)."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch([(q, pair_text(c)) for q, c in zip(questions, candidates, strict=True)])
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(encodings)), key=lengths.__getitem__)
        logits = np.empty(len(encodings), dtype=np.float32)
        for begin in range(0, len(order), BATCH_SIZE):
            rows = order[begin : begin + BATCH_SIZE]
            width = max(lengths[i] for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                n = lengths[i]
                ids[j, :n], types[j, :n], mask[j, :n] = encodings[i].ids, encodings[i].type_ids, 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = types
            (out,) = self._session.run(None, feeds)
            logits[rows] = np.asarray(out, dtype=np.float32).reshape(len(rows), -1)[:, 0]
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))).astype(np.float32)


_WORD = re.compile(r"\w+")


class OverlapReader:
    """A model-free stand-in for tests and for READER=overlap: the share of the question's words (of three letters
    or more; a Korean word without its particle, found anywhere in the sentence) that the sentence holds, squared.
    It knows nothing of answering, only of words."""

    name = "overlap (no model)"

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if has_hangul(question):
            from index.content.words import question_tokens

            asked = {w for w in question_tokens(question) if len(w) >= (2 if has_hangul(w) else 3)}
        else:
            asked = {w for w in _WORD.findall(question.lower()) if len(w) >= 3}
        if not asked:
            return np.zeros(len(candidates), dtype=np.float32)
        return np.array([(_held(asked, c.sentence.lower()) / len(asked)) ** 2 for c in candidates], dtype=np.float32)


def _held(asked: set[str], sentence: str) -> int:
    words = set(_WORD.findall(sentence))
    return sum(w in sentence if has_hangul(w) else w in words for w in asked)


class LazyReader:
    """A shipped reader, loaded on the first question it is asked to read: a process serving only Korean
    questions never holds the English reader's session (about 80 MB), nor one serving English the Korean one's.
    Its files are checked at once, so a missing model is reported at start; one that cannot be loaded, at that
    first question."""

    def __init__(self, folder: Path = SHIPPED) -> None:
        try:
            manifest, model = _serving_file(folder)
            if not model.is_file() or model.stat().st_size == 0:
                raise FileNotFoundError(model)
        except Exception as exc:
            raise _cannot_load(folder, exc) from None
        self.name = str(manifest.get("name", "reader"))
        self._folder = folder
        self._loaded: OnnxReader | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def read(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = OnnxReader(self._folder)
        return self._loaded.read(question, candidates)


def load_reader(settings: Settings, language: str = ENGLISH) -> Reader | None:
    """The reader READER names for questions in `language` (None for off); ModelLoadError when the shipped model
    is missing."""
    kind = settings.reader_kind()
    if kind == "off":
        return None
    if kind == "overlap":
        return OverlapReader()
    return LazyReader(SHIPPED_KOREAN if language == KOREAN else SHIPPED)
