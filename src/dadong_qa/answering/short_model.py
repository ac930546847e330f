"""The short-answer model: named span features -> probability that the span is the answer.

Two kinds read the same named features (`short.features`), chosen by the weights file:
- "boosted_trees" (shipped): gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier,
  trained by bench/train_short.py), stored as arrays and evaluated by `policy.BoostedTrees`;
- "logistic": one weight per feature name (the first shipped model; readable, used in tests).
The weights are JSON (no pickle), with `provenance`: the files trained on, licences, measurements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dadong_qa.answering.policy import BoostedTrees, PolicyError, sigmoid

MODEL_FILE = "short_answer.json"


class SpanModel(Protocol):
    provenance: dict[str, Any]

    def probabilities(self, feats: list[dict[str, float]]) -> np.ndarray: ...
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ShortModel:
    """A logistic regression over named features; a name the weights lack weighs nothing."""

    weights: dict[str, float]
    intercept: float
    provenance: dict[str, Any]

    def probabilities(self, feats: list[dict[str, float]]) -> np.ndarray:
        weight = self.weights.get
        z = [self.intercept + sum(weight(name, 0.0) * value for name, value in f.items()) for f in feats]
        return sigmoid(np.array(z, dtype=np.float64))

    def to_json(self) -> dict[str, Any]:
        names = sorted(self.weights)
        return {
            "kind": "logistic",
            "features": names,
            "coefficients": [round(self.weights[n], 6) for n in names],
            "intercept": self.intercept,
            "provenance": self.provenance,
        }


@dataclass(frozen=True)
class ShortTrees:
    """Boosted trees over a fixed list of feature names (a name not listed is not an input)."""

    features: tuple[str, ...]
    trees: BoostedTrees
    provenance: dict[str, Any]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.features)}

    def matrix(self, feats: list[dict[str, float]]) -> np.ndarray:
        index = self._index
        x = np.zeros((len(feats), len(self.features)), dtype=np.float64)
        for row, named in enumerate(feats):
            for name, value in named.items():
                col = index.get(name)
                if col is not None:
                    x[row, col] = value
        return x

    def probabilities(self, feats: list[dict[str, float]]) -> np.ndarray:
        if not feats:
            return np.zeros(0)
        return sigmoid(self.logits(self.matrix(feats)))

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.trees.logits(x)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "boosted_trees",
            "features": list(self.features),
            "model": self.trees.to_dict(),
            "provenance": self.provenance,
        }


def parse_model(data: dict[str, Any]) -> ShortModel | ShortTrees:
    """A model from its JSON form; a malformed file raises ValueError with the reason."""
    try:
        kind = data.get("kind", "logistic")
        names = [str(n) for n in data["features"]]
        provenance = dict(data.get("provenance", {}))
        if kind == "boosted_trees":
            return ShortTrees(tuple(names), BoostedTrees.from_dict(data["model"], len(names)), provenance)
        if kind != "logistic":
            raise ValueError(f"unknown short-answer model kind {kind!r}")
        coefs = data["coefficients"]
        if len(names) != len(coefs):
            raise ValueError(f"{len(names)} feature names but {len(coefs)} coefficients")
        return ShortModel(dict(zip(names, map(float, coefs), strict=True)), float(data["intercept"]), provenance)
    except (KeyError, TypeError, PolicyError) as exc:
        raise ValueError(f"short-answer model is malformed: {exc!r}") from exc


def load_model(path: Path | str | None = None) -> ShortModel | ShortTrees:
    """The shipped model, or the one at `path` ("" or None: the shipped one); read once per process."""
    return _load(str(path) if path else None)


@lru_cache(maxsize=4)
def _load(path: str | None) -> ShortModel | ShortTrees:
    """A missing, unreadable or malformed file raises ValueError naming it (the CLI prints it)."""
    try:
        if path is None:
            text = resources.files("dadong_qa").joinpath("models", MODEL_FILE).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return parse_model(json.loads(text))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the short-answer model {path or MODEL_FILE}: {exc}") from exc
