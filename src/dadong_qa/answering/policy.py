"""The answer decision: evidence -> probability that a sentence answers the question.

A model over the named fields of `SentenceEvidence`, learned by bench/train_answerer.py from
the public reading-comprehension files in ../shared/data/qa-train/ (README, "Trained models").
Two kinds of model read the same fields, chosen by the weights file:
- "boosted_trees" (shipped): gradient-boosted decision trees (scikit-learn's
  HistGradientBoostingClassifier) written out as arrays; measured against logistic regression
  in docs/quality.md, it answered 7 points more of the answerable questions at the same refusal;
- "logistic": standardised features, one weight each (readable, used in tests).
The weights ship as JSON in `models/answer_policy.json`, with where they came from. No pickle:
the file is data, read with `json`, and evaluated here with numpy.

Whether to answer at all is decided from the best candidate's probability against
`Settings.refusal_threshold`, which was chosen on held-out data for precision (docs/quality.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dadong_qa.answering.evidence import FEATURES, SentenceEvidence, feature_matrix

MODEL_FILE = "answer_policy.json"
# Rules the encyclopedia training questions cannot teach (few name a year or ask about a plan):
# a figure placed in another year by a year its article writes, or a plan given for a reported
# fact (or the reverse), does not answer, however many words it shares with the question. On the
# news dev set the model alone answered "2023年…要改造多少个" with 2022's figure at p=0.84. Applied
# to the model's odds; both conflicts are the same kind of contradiction, so they weigh the same
# (plan_conflict was 0.25 and let a 2023 plan's 100% beat 2022's 96% for "…达到了多少").
RULES: dict[str, float] = {"year_conflict": 0.05, "plan_conflict": 0.05}
# The same for the period a figure question names (SentenceEvidence.period_fit): a figure of
# another period, or one whose period cannot be told (an undated article), does not answer
# "…2023年…是多少": the undated article's 6.6% answered it at p=0.42 before this rule.
PERIOD_RULES: dict[str, float] = {"other": 0.05, "unknown": 0.05}
# The same for what a sentence cannot be, told by a yes/no field of its evidence:
# - place_other: about another place than the question names (places.py): "和平区…是多少" was
#   answered with 大东区's figure at p 0.97;
# - year_missing: no year at all for a question asking which year: DRCD half B's "早田在哪一年…
#   首度到台湾?" was answered "在开学前，…首度到台湾" (6 wrong answers in its two views, no right one);
# - count_missing: no count at all for a question asking how many: "大东区发放了多少张自动驾驶测试牌照？"
#   was answered at p 0.86 with "发放全市首批自动驾驶测试牌照" (no answer in the four eval-open views
#   states no count where its how-many question is answered);
# - ordinal_other: the thing the question names by its ordinal given another one ("第49届超级碗" answered
#   from "…赢得第33届超级碗" at p 0.99; spans.other_ordinal).
FLAG_RULES: dict[str, float] = {"place_other": 0.05, "year_missing": 0.05, "count_missing": 0.05, "ordinal_other": 0.05}


def ruled_out(record: SentenceEvidence) -> bool:
    """A sentence the rules above say cannot answer, whatever a model reads in it."""
    return (
        any(getattr(record, name) > 0 for name in RULES)
        or record.period_fit in PERIOD_RULES
        or any(getattr(record, name) for name in FLAG_RULES)
    )


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits (clipped at +-30, where the probability is 1e-13 from 0 or 1,
    so a huge logit cannot overflow `exp`)."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))


class PolicyError(RuntimeError):
    """The policy's weights file is missing, unreadable or out of step with the evidence fields."""


class Model(Protocol):
    kind: str

    def logits(self, x: np.ndarray) -> np.ndarray: ...
    def to_dict(self) -> dict[str, Any]: ...


def _array(data: dict[str, Any], key: str, dtype: type = np.float64) -> np.ndarray:
    return np.asarray(data[key], dtype=dtype)


@dataclass(frozen=True)
class Logistic:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    kind: str = "logistic"

    @classmethod
    def from_dict(cls, data: dict[str, Any], n: int) -> Logistic:
        mean, scale, coef = (_array(data, k) for k in ("mean", "scale", "coef"))
        if any(a.shape != (n,) for a in (mean, scale, coef)):
            raise PolicyError("answer policy weights have the wrong length")
        return cls(mean, np.where(scale > 0, scale, 1.0), coef, float(data["intercept"]))

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6),
        }


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel arrays: a sample goes left when x[feature] <= threshold."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    depth: int

    @classmethod
    def from_dict(cls, data: dict[str, Any], n: int) -> Tree:
        tree = cls(
            _array(data, "feature", np.int64),
            _array(data, "threshold"),
            _array(data, "left", np.int64),
            _array(data, "right", np.int64),
            _array(data, "leaf", bool),
            _array(data, "value"),
            int(data["depth"]),
        )
        size = len(tree.value)
        inner = ~tree.leaf
        if (
            any(len(a) != size for a in (tree.feature, tree.threshold, tree.left, tree.right, tree.leaf))
            or (tree.feature[inner] >= n).any()
            or (tree.left[inner] >= size).any()
            or (tree.right[inner] >= size).any()
        ):
            raise PolicyError("answer policy tree is malformed")
        return tree

    def predict(self, x: np.ndarray) -> np.ndarray:
        node = np.zeros(len(x), dtype=np.int64)
        rows = np.arange(len(x))
        for _ in range(self.depth):
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        return self.value[node]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),  # exact: a rounded threshold can flip a sample
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "leaf": self.leaf.astype(int).tolist(),
            "value": self.value.round(8).tolist(),
            "depth": self.depth,
        }


@dataclass(frozen=True)
class BoostedTrees:
    baseline: float
    trees: tuple[Tree, ...]
    kind: str = "boosted_trees"

    @classmethod
    def from_dict(cls, data: dict[str, Any], n: int) -> BoostedTrees:
        return cls(float(data["baseline"]), tuple(Tree.from_dict(t, n) for t in data["trees"]))

    @classmethod
    def from_sklearn(cls, model: Any) -> BoostedTrees:
        """From a fitted binary HistGradientBoostingClassifier (numeric features, no missing values)."""
        trees = []
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            trees.append(
                Tree(
                    nodes["feature_idx"].astype(np.int64),
                    nodes["num_threshold"].astype(np.float64),
                    nodes["left"].astype(np.int64),
                    nodes["right"].astype(np.int64),
                    nodes["is_leaf"].astype(bool),
                    nodes["value"].astype(np.float64),
                    int(nodes["depth"].max()),
                )
            )
        return cls(float(np.ravel(model._baseline_prediction)[0]), tuple(trees))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The sum of the trees, all walked at once: one numpy step per tree level instead of one
        per tree and level (200 trees, 110 candidates: 12 ms -> 3 ms); `Tree.predict` is the
        one-tree reference the tests compare with."""
        if not self.trees:
            return np.full(len(x), self.baseline)
        arrays = self._stacked
        count, size = arrays["value"].shape
        # flat indexes: node n of tree t is t * size + n; feature f of row r is r * width + f
        base = (np.arange(count) * size)[:, None]
        cells = (np.arange(len(x)) * x.shape[1])[None, :]
        flat_x = np.ascontiguousarray(x, dtype=np.float64).ravel()
        node = np.broadcast_to(base, (count, len(x))).copy()
        for _ in range(max(t.depth for t in self.trees)):
            leaf = arrays["leaf"].take(node)
            if leaf.all():
                break
            go_left = flat_x.take(cells + arrays["feature"].take(node)) <= arrays["threshold"].take(node)
            step = base + np.where(go_left, arrays["left"].take(node), arrays["right"].take(node))
            node = np.where(leaf, node, step)
        return self.baseline + arrays["value"].take(node).sum(axis=0)

    @cached_property
    def _stacked(self) -> dict[str, np.ndarray]:
        """Every tree's arrays padded to one (trees, nodes) array each (padding nodes are leaves)."""
        size = max(len(t.value) for t in self.trees)
        fills = {"feature": 0, "threshold": 0.0, "left": 0, "right": 0, "leaf": True, "value": 0.0}
        out = {}
        for name, fill in fills.items():
            arr = np.full((len(self.trees), size), fill, dtype=getattr(self.trees[0], name).dtype)
            for i, tree in enumerate(self.trees):
                values = getattr(tree, name)
                arr[i, : len(values)] = values
            out[name] = arr
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": round(self.baseline, 8), "trees": [t.to_dict() for t in self.trees]}


MODELS: dict[str, type[Logistic] | type[BoostedTrees]] = {"logistic": Logistic, "boosted_trees": BoostedTrees}


@dataclass(frozen=True)
class AnswerPolicy:
    features: tuple[str, ...]
    model: Model
    meta: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerPolicy:
        try:
            features = tuple(data["features"])
            kind = data.get("kind", "logistic")
            if kind not in MODELS:
                raise PolicyError(f"unknown answer policy kind {kind!r}")
            if features != FEATURES:
                missing, extra = set(FEATURES) - set(features), set(features) - set(FEATURES)
                raise PolicyError(
                    "answer policy weights do not match the evidence fields "
                    f"(missing {sorted(missing)}, unknown {sorted(extra)}): retrain with bench/train_answerer.py"
                )
            model = MODELS[kind].from_dict(data["model"], len(features))
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"answer policy weights are incomplete ({exc})") from exc
        return cls(features, model, data.get("meta", {}))

    @classmethod
    def load(cls, path: str | Path | None = None) -> AnswerPolicy:
        """The shipped weights, or the JSON file at `path`."""
        try:
            if path is None:
                text = resources.files("dadong_qa").joinpath("models", MODEL_FILE).read_text(encoding="utf-8")
            else:
                text = Path(path).read_text(encoding="utf-8")
            return cls.from_dict(json.loads(text))
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read the answer policy weights {path or MODEL_FILE}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "kind": self.model.kind,
            "model": self.model.to_dict(),
            "meta": self.meta,
        }

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.model.logits(x)

    def probabilities(self, records: list[SentenceEvidence]) -> np.ndarray:
        """P(the sentence answers the question), one per record: the model, then the rules."""
        if not records:
            return np.zeros(0)
        x = feature_matrix(records)
        logits = self.logits(x)
        for name, odds in RULES.items():
            logits = logits + np.log(odds) * (x[:, FEATURES.index(name)] > 0)
        logits = logits + np.log([PERIOD_RULES.get(r.period_fit, 1.0) for r in records])
        for name, odds in FLAG_RULES.items():
            logits = logits + np.log(odds) * np.array([getattr(r, name) for r in records], dtype=np.float64)
        return sigmoid(logits)


@lru_cache(maxsize=4)
def shipped_policy(path: str | None = None) -> AnswerPolicy:
    """Loaded once per process and path."""
    return AnswerPolicy.load(path)
