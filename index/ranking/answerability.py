"""The answerability model: a calibrated probability that a sentence answers the question.

A logistic regression over the ranking's evidence for a hit (`FEATURES`, computed in `ranker.py`), fitted by
`eventbot calibrate` (measure/calibrate.py) on labelled tuning questions and shipped beside this module in
`answerability.json`, with the decision threshold it chose. A newsroom can fit its own (`eventbot calibrate
--questions ... --output FILE`) and point the setting ANSWERABILITY_MODEL at it. Applying it costs a few dozen
floating-point operations per hit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.core.errors import SettingsError
from index.core.language import ENGLISH, KOREAN, LANGUAGES
from index.core.settings import Settings

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
    "reader",  # the probability, from the reader of the question's language, that the sentence answers
    "reader_best",  # the highest of the reader's probabilities over every candidate it read for the question
    "reader_lead",  # this hit's probability minus the best other read candidate's (positive for the reader's pick)
)
# Measured and left out: the margin of the ranking score over the next candidate's (no better on the tuning
# sets, and it made every hit below the first look unlikely, hiding the figures other articles give) and the
# similarity of the question without its names to the sentence (a little better on the newsroom, but a second
# embedding per question costs about 2 ms).
SHIPPED = Path(__file__).with_name("answerability.json")


# Answerability models, by the question's language and, when it differs, the sentence's: a Korean question
# about an English sentence shares no words with it, so its evidence is read by a model of its own.
MODEL_KEYS = (ENGLISH, KOREAN, f"{KOREAN}-{ENGLISH}")


def model_key(question_language: str, sentence_is_korean: bool) -> str:
    """Which answerability model reads a hit's evidence (English questions use theirs for any sentence)."""
    if question_language == KOREAN and not sentence_is_korean:
        return f"{KOREAN}-{ENGLISH}"
    return question_language


def path_for(path: Path, key: str) -> Path:
    """The file of the model `key` (MODEL_KEYS): `answerability.json` for English, and beside it
    `answerability-ko.json` and `answerability-ko-en.json` (`eventbot calibrate` writes all three)."""
    return path if key == ENGLISH else path.with_name(f"{path.stem}-{key}{path.suffix}")


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
    def from_dict(raw: object) -> Model:
        """Raises ValueError when the file is not a model for these features: every number must be a JSON
        number (not a string, not true/false) and finite."""
        if not isinstance(raw, dict):
            raise ValueError("it is not an answerability model (not a JSON object)")
        try:
            features = raw["features"]
            if not isinstance(features, list | tuple) or list(features) != list(FEATURES):
                raise ValueError("it was fitted on other features; run `eventbot calibrate` again")
            model = Model(
                _numbers(raw["mean"], "mean"),
                _numbers(raw["std"], "std"),
                _numbers(raw["weights"], "weights"),
                _number(raw["bias"], "bias"),
                _number(raw.get("threshold", 0.5), "threshold"),
                _number(raw.get("min_similarity", 0.0), "min_similarity"),
            )
        except KeyError as exc:
            raise ValueError(f"it is not an answerability model (no {exc})") from None
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


def _number(value: object, name: str) -> float:
    """A finite JSON number; ValueError naming the field otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"its {name} is not a finite number")
    return float(value)


def _numbers(values: object, name: str) -> np.ndarray:
    """A list of finite JSON numbers, as an array; ValueError naming the field otherwise."""
    if not isinstance(values, list):
        raise ValueError(f"its {name} is not a list of numbers")
    return np.array([_number(value, name) for value in values], dtype=np.float64)


# A model file is a few hundred bytes; anything much bigger (or endless, like /dev/zero) is not one.
MAX_MODEL_BYTES = 10_000_000


@lru_cache(maxsize=4)
def load(path: Path = SHIPPED) -> Model:
    """The model in `path` (the shipped one by default), read once; ValueError/OSError when unusable."""
    with path.open("rb") as file:
        data = file.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise ValueError(f"it is larger than {MAX_MODEL_BYTES // 1_000_000} MB, so not an answerability model")
    try:
        raw = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("it is nested too deeply to be an answerability model") from None
    return Model.from_dict(raw)


@dataclass(frozen=True, slots=True)
class Judges:
    """The answerability models by key and the decision thresholds by question language: the one place that
    says which model reads a hit (`for_hit`) and where a question's answer is declined (`threshold`)."""

    models: Mapping[str, Model]
    thresholds: Mapping[str, float]

    def for_hit(self, question_language: str, sentence_is_korean: bool) -> Model:
        return self.models[model_key(question_language, sentence_is_korean)]

    def threshold(self, question_language: str) -> float:
        return self.thresholds[question_language]


def judges(settings: Settings) -> Judges:
    """The models the settings name (the shipped ones by default); SettingsError naming the file when one
    cannot be used. Korean questions have models of their own: their similarities come from the multilingual
    model, and their words rarely meet an English article's."""
    models = {}
    for key in MODEL_KEYS:
        path = path_for(settings.answerability_model or SHIPPED, key)
        try:
            model = load(path)
        except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SettingsError(f"ANSWERABILITY_MODEL {path}: cannot be used: {detail}") from None
        hashing = settings.embedding_backend == "hashing" if key == ENGLISH else settings.multilingual_is_hashing()
        if hashing:
            # The similarity floor is a cosine of the embedding model; the hashing embedder's are on another scale.
            model = replace(model, min_similarity=-1.0)
        models[key] = model
    fixed = settings.decline_threshold
    return Judges(models, {language: models[language].threshold if fixed is None else fixed for language in LANGUAGES})
