"""What several test modules share: paths, sample articles, bad inputs, embedders that count, index damage."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.core.settings import Settings
from index.models.embedder import Embedder
from index.store.builder import build

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "2025-07-08-k-defense-day.txt"
# Settings for the packaged English model: English articles and questions never use the multilingual model, so it
# is the hashing stand-in there (tests/test_korean.py loads the real one); confidences use the calibrated thresholds.
REAL_ENGLISH = {"embedding_backend": "torch", "multilingual_backend": "hashing", "decline_threshold": None}

# The hashing embedder's cosines run lower than the real model's (it knows shared words, not meaning), so the
# answerability model (fitted on the real model's evidence) gives its hits lower probabilities: its tests
# decline below this instead of the calibrated default DECLINE_THRESHOLD.
HASHING_THRESHOLD = "0.01"
HYATT = "Grand Hyatt Hotel"
CITATION = "[1] President Lee vows to make Korea a global defense industry powerhouse, 2025-07-08, paragraph 2"

AIR_SHOW = (
    "date 2025-10-20 Seoul air show opens\n"
    "The Seoul International Aerospace and Defense Exhibition opened on Monday at Seoul Air Base. "
    "It drew 50,000 visitors in its first two days, organizers said.\n"
    "Weather in the capital was mild during the opening.\n"
)

EXTRA = (
    "date 2025-07-20 Poland receives first K-2 tanks\n"
    "The first batch of K-2 tanks arrived in Gdynia on Sunday. Officials welcomed them.\n"
)

# At least 30 inputs a person can type (or a client can send), each with a sensible reply or a clear decline.
BAD_INPUTS = [
    "",
    " ",
    "\t\n  ",
    "x",
    "?",
    "a" * 100_000,
    "?!.,;:-",
    "...",
    "🚀🔥😀",
    "🇰🇷🇵🇱",
    "국방의 날 행사는 어디에서 열렸나요?",
    "أين أقيم يوم الدفاع الكوري؟",
    "Where 是 K-Defense Day ключ held?",
    "\x00",
    "abc\x00def",
    "\x1b[31mred\x1b[0m",
    "\x07\x08\x7f",
    "\ud800",
    "a\udfffb",
    "<b>bold</b>",
    "</a>",
    "<script>alert(1)</script>",
    "*_[]()~`",
    "[link](http://example.com)",
    "&amp; &lt; &",
    "/",
    "/unknown",
    "/ask",
    "/ask " + "x" * 5000,
    "/start extra words here",
    "/sources " + "z" * 1000,
    "/reload now please",
    "\u202eRTL override",
    "zero\u200bwidth\ufeff",
    "SELECT * FROM users; DROP TABLE users; --",
    "%s %d {0} {} ${x}",
    "null",
    "../../etc/passwd",
]


class CountingEmbedder:
    """Wraps an embedder and records the texts it embeds (sentences, paragraphs and clauses)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += list(texts)
        return self.inner.encode(texts, progress=progress)


def never_load() -> Embedder:
    raise AssertionError("the model must not be loaded")


def built(settings: Settings, embedder: Embedder) -> CountingEmbedder:
    """Build the index of `settings` with `embedder`, counting what it embeds."""
    counting = CountingEmbedder(embedder)
    build(settings, lambda: counting)
    return counting


def change_manifest(folder: Path, **changes: object) -> None:
    """Damage a build's manifest by overwriting some of its fields."""
    path = folder / "manifest.json"
    raw = json.loads(path.read_text())
    raw.update(changes)
    path.write_text(json.dumps(raw))


def article_folder(folder: Path, *articles: Path) -> Path:
    """A new SEEDS_DIR at `folder` holding copies of these article files."""
    folder.mkdir(parents=True)
    for article in articles:
        shutil.copy(article, folder / article.name)
    return folder
