"""The answerability model: a calibrated probability that a sentence answers the question.

A logistic regression over the ranking's evidence for a hit (`FEATURES`, computed in `ranker.py`), fitted by
`eventbot calibrate` (measure/calibrate.py) on labelled tuning questions and shipped beside this module in
`answerability.json`, with the decision threshold it chose. A newsroom can fit its own (`eventbot calibrate
--questions ... --output FILE`) and point the setting ANSWERABILITY_MODEL at it. Applying it costs a few dozen
floating-point operations per hit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

FEATURES = (
    "similarity",  # (first: the floor applies to it) best cosine of the question to the sentence or one of its clauses
    "paragraph_similarity",  # cosine to the sentence's paragraph
    "unknown_names",  # names in the question no article mentions (at most 2)
    "unseen_words",  # share of the question's words no article uses
    "article_coverage",  # share of the question's words found anywhere in the article
    "sentence_coverage",  # share of the question's rarity (IDF) found in the sentence
    "paragraph_coverage",  # the same in its paragraph and the title
    "rarest_missing",  # IDF share of the rarest question word the sentence lacks
    "type_asked",  # the question asks for a kind of answer (a count of something, a date, a name, a place)
    "type_found",  # and the sentence holds one
)
# Measured and left out: the margin of the ranking score over the next candidate's (no better on the tuning
# sets, and it made every hit below the first look unlikely, hiding the figures other articles give) and the
# similarity of the question without its names to the sentence (a little better on the newsroom, but a second
# embedding per question costs about 2 ms).
SHIPPED = Path(__file__).with_name("answerability.json")


def path_for(path: Path, language: str) -> Path:
    """The file of the model for questions in `language`: `answerability.json` for English, and beside it
    `answerability-ko.json` for Korean (`eventbot calibrate` writes both)."""
    return path if language == "en" else path.with_name(f"{path.stem}-{language}{path.suffix}")


@dataclass(frozen=True, slots=True)
class Model:
    """Standardisation, weights, the decision threshold the fit chose, and the similarity floor.

    A hit less similar to the question than any sentence that answered a tuning question (`min_similarity`)
    gets probability 0: "How do I cook rice?" shares no meaning with a defense article, whatever a linear
    model makes of its other evidence.
    """

    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    min_similarity: float = 0.0

    @staticmethod
    def from_dict(raw: dict[str, object]) -> Model:
        """Raises ValueError when the file is not a model for these features."""
        try:
            if list(raw["features"]) != list(FEATURES):  # type: ignore[call-overload]
                raise ValueError("it was fitted on other features; run `eventbot calibrate` again")
            model = Model(
                np.asarray(raw["mean"], dtype=np.float64),
                np.asarray(raw["std"], dtype=np.float64),
                np.asarray(raw["weights"], dtype=np.float64),
                float(raw["bias"]),  # type: ignore[arg-type]
                float(raw.get("threshold", 0.5)),  # type: ignore[arg-type]
                float(raw.get("min_similarity", 0.0)),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"it is not an answerability model ({exc})") from None
        shapes = {model.mean.shape, model.std.shape, model.weights.shape}
        ranges = 0.0 <= model.threshold <= 1.0 and -1.0 <= model.min_similarity <= 1.0
        if shapes != {(len(FEATURES),)} or not ranges or not np.all(model.std > 0):
            raise ValueError("its numbers do not fit the features")
        return model

    def probabilities(self, evidence: np.ndarray) -> np.ndarray:
        """One probability per row of evidence (rows in the order of FEATURES)."""
        evidence = np.atleast_2d(evidence)
        z = ((evidence - self.mean) / self.std) @ self.weights + self.bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return np.where(evidence[:, 0] >= self.min_similarity, p, 0.0)


@lru_cache(maxsize=4)
def load(path: Path = SHIPPED) -> Model:
    """The model in `path` (the shipped one by default), read once; ValueError/OSError when unusable."""
    return Model.from_dict(json.loads(path.read_text(encoding="utf-8")))
