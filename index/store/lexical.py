"""The lexical side of the index: BM25 (bm25s) with Snowball stemming and English stop words; Korean text by
its content morphemes (`index/content/korean.py`).

Two BM25 models over the same rows: one over each sentence, one over the sentence's paragraph (so a
question's words found next to a sentence still count for it). Both are rebuilt from the stored text at
every build: it needs no model and takes milliseconds per thousand sentences.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.content.words import tokenize, words_of
from index.store.files import reading

log = logging.getLogger(__name__)

_NOTHING = "\x00"


class Lexical:
    """BM25 over sentences and over their paragraphs; row i is sentence i of the index."""

    def __init__(self, sentence_model: bm25s.BM25, paragraph_model: bm25s.BM25, words: frozenset[str]) -> None:
        self.sentence_model = sentence_model
        self.paragraph_model = paragraph_model
        self.vocabulary = frozenset(sentence_model.vocab_dict)
        self.words = words  # every word of the corpus, lower-cased, unstemmed

    @classmethod
    def build(cls, sentences: Sequence[str], paragraphs: Sequence[str]) -> Lexical:
        """`sentences[i]` is what row i says; `paragraphs[i]` the text around it (title and paragraph)."""
        return cls.from_tokens(sentences, tokenize(sentences), tokenize(paragraphs))

    @classmethod
    def from_tokens(
        cls, sentences: Sequence[str], sentence_tokens: Sequence[list[str]], around_tokens: Sequence[list[str]]
    ) -> Lexical:
        """The same from tokens already made (`tokenize`): the builder tokenizes each sentence once and makes
        every row's surroundings from its neighbours' tokens."""
        models = []
        for tokens in (list(sentence_tokens), list(around_tokens)):
            model = bm25s.BM25()
            if not any(tokens):  # bm25s cannot index an empty vocabulary
                tokens = [[_NOTHING] for _ in tokens]
            model.index(tokens, show_progress=False)
            models.append(model)
        words = frozenset(word for text in sentences for word in words_of(text))
        return cls(models[0], models[1], words)

    def save(self, folder: Path) -> None:
        """Written beside the other components of a build; rebuilt from the text at every build."""
        for name, model in (("bm25_sentences", self.sentence_model), ("bm25_paragraphs", self.paragraph_model)):
            model.save(str(folder / name), show_progress=False)
        (folder / "words.json").write_text(json.dumps(sorted(self.words), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        """Read and check a saved BM25 pair; any fault is one IndexDamagedError line."""
        with reading(folder, "index BM25 files in", "are"):
            models = []
            for name in ("bm25_sentences", "bm25_paragraphs"):
                path = folder / name
                if not (path / "params.index.json").is_file():
                    raise FileNotFoundError(path)
                models.append(bm25s.BM25.load(str(path), show_progress=False))
            words = json.loads((folder / "words.json").read_text(encoding="utf-8"))
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise ValueError("words.json is not a list of words")
            for model in models:
                _check(model)
            return cls(models[0], models[1], frozenset(words))

    @property
    def size(self) -> int:
        return int(self.sentence_model.scores["num_docs"])

    def scores(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every sentence, and of its paragraph, for one tokenized question (zeros when no word matches)."""
        return self._scores(self.sentence_model, tokens), self._scores(self.paragraph_model, tokens)

    def _scores(self, model: bm25s.BM25, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in model.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(model.get_scores(known), dtype=np.float32)

    def rows_with(self, token: str, *, paragraph: bool = False) -> np.ndarray:
        """The rows whose sentence (or, with `paragraph`, whose paragraph and title) contains one stemmed token."""
        model = self.paragraph_model if paragraph else self.sentence_model
        column = model.vocab_dict.get(token)
        if column is None:
            return np.zeros(0, dtype=np.int64)
        index = model.scores
        return index["indices"][index["indptr"][column] : index["indptr"][column + 1]]


def _check(model: bm25s.BM25) -> None:
    """A loaded BM25 model whose postings point outside its rows would fail mid-answer: refuse it now."""
    index, rows = model.scores, int(model.scores["num_docs"])
    indptr, indices, data = index["indptr"], index["indices"], index["data"]
    if not len(indptr) or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices) or len(data) != len(indices):
        raise ValueError("BM25 postings do not match the vocabulary")
    if bool((np.diff(indptr) < 0).any()) or (len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= rows)):
        raise ValueError("BM25 postings point outside the sentences")
    # bm25s keeps one vocabulary entry, the empty token, past the last column; no question token is empty.
    columns = len(indptr) - 1
    if not bool(np.isfinite(data).all()) or not all(0 <= int(c) < columns for w, c in model.vocab_dict.items() if w):
        raise ValueError("BM25 scores or vocabulary out of range")
