"""A deterministic embedder with no model: hashed words and character trigrams, for tests and dry runs.

`EMBEDDING_BACKEND=hashing` selects it. It knows no meaning (synonyms do not match), only shared words
and word pieces, so it ranks like a lexical method; it loads in microseconds, which is why the test
suite uses it wherever the real model is not what is being tested.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from index.content.words import stopwords

MODEL_NAME = "hashing"
DIMENSION = 384
_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Unit vectors from hashed features; the same text always gives the same vector."""

    model_name = MODEL_NAME
    dimension = DIMENSION

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for feature in _features(text):
                digest = zlib.crc32(feature.encode("utf-8"))
                out[i, digest % self.dimension] += 1.0 if digest & 0x80000000 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
            else:
                out[i, 0] = 1.0  # no word at all: still a unit vector
        return out


def _features(text: str) -> list[str]:
    stop = stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stop]
    grams = [f"#{w[i : i + 3]}" for w in words if len(w) > 3 for i in range(len(w) - 2)]
    return words + words + grams  # whole words count double: they say more than pieces
