"""The short-answer model file: both kinds, the shipped weights, choosing a file by setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dadong_qa.answering.answer import AnswerParams
from dadong_qa.answering.policy import BoostedTrees, Tree
from dadong_qa.answering.short import evidence, extract_short, features, score_spans
from dadong_qa.answering.short_model import ShortModel, ShortTrees, load_model, parse_model
from dadong_qa.answering.spans import candidates, read_question
from dadong_qa.config import load_settings


def _stump(feature: int, threshold: float, low: float, high: float) -> Tree:
    """One split: x[feature] <= threshold -> `low`, else `high`."""
    return Tree(
        feature=np.array([feature, 0, 0]),
        threshold=np.array([threshold, 0.0, 0.0]),
        left=np.array([1, 0, 0]),
        right=np.array([2, 0, 0]),
        leaf=np.array([False, True, True]),
        value=np.array([0.0, low, high]),
        depth=1,
    )


# Made-up trees that like figures and dislike one-character spans: choices follow from them alone.
FIGURE_TREES = ShortTrees(
    ("k:number", "len:1"),
    BoostedTrees(-1.0, (_stump(0, 0.5, -2.0, 3.0), _stump(1, 0.5, 0.0, -4.0))),
    {"note": "made up"},
)
SENTENCE = "示例县苹果节共接待游客12万人次，比去年多两成。"


def test_trees_turn_named_features_into_probabilities() -> None:
    probs = FIGURE_TREES.probabilities([{"k:number": 1.0}, {}, {"k:number": 1.0, "len:1": 1.0}, {"unknown": 9.0}])
    expected = 1 / (1 + np.exp(-np.array([2.0, -3.0, -2.0, -3.0])))
    assert np.allclose(probs, expected)  # a name the model does not know is no input
    assert FIGURE_TREES.probabilities([]).shape == (0,)


def test_trees_pick_the_figure_and_the_threshold_decides() -> None:
    best = score_spans("接待游客多少人次？", SENTENCE, model=FIGURE_TREES)[0]
    assert best.kind == "number" and best.text.endswith("12万人次")
    kept = extract_short("接待游客多少人次？", SENTENCE, model=FIGURE_TREES, threshold=best.probability)
    assert kept is not None and "12万人次" in kept.text
    assert extract_short("接待游客多少人次？", SENTENCE, model=FIGURE_TREES, threshold=best.probability + 0.01) is None


def test_logistic_and_trees_give_one_probability_per_span() -> None:
    q = read_question("接待游客多少人次？")
    feats = [features(evidence(q, SENTENCE, s)) for s in candidates(q, SENTENCE)]
    logistic = ShortModel({"k:number": 2.0}, -1.0, {})
    assert logistic.probabilities(feats).shape == FIGURE_TREES.probabilities(feats).shape == (len(feats),)


def test_both_kinds_round_trip_through_json(tmp_path: Path) -> None:
    for model in (FIGURE_TREES, ShortModel({"k:number": 2.0, "chars": -1.0}, -0.5, {"note": "made up"})):
        path = tmp_path / f"{type(model).__name__}.json"
        path.write_text(json.dumps(model.to_json()), encoding="utf-8")
        loaded = load_model(path)
        feats = [{"k:number": 1.0}, {"len:1": 1.0, "chars": 0.3}]
        assert type(loaded) is type(model)
        assert np.allclose(loaded.probabilities(feats), model.probabilities(feats))
        assert loaded.provenance == {"note": "made up"}


def test_malformed_files_are_refused_with_the_reason() -> None:
    trees = FIGURE_TREES.to_json()
    with pytest.raises(ValueError, match="unknown short-answer model kind"):
        parse_model({**trees, "kind": "forest"})
    with pytest.raises(ValueError, match="malformed"):
        parse_model({**trees, "features": ["k:number"]})  # a tree splits on feature 1, which is not listed
    with pytest.raises(ValueError, match="malformed"):
        parse_model({"kind": "boosted_trees", "features": ["a"]})
    with pytest.raises(ValueError, match="coefficients"):
        parse_model({"features": ["a", "b"], "coefficients": [1.0], "intercept": 0})


def test_shipped_model_is_trees_trained_on_both_files_and_knows_the_plain_features() -> None:
    model = load_model()
    assert isinstance(model, ShortTrees) and load_model("") is model
    prov = model.provenance
    assert set(prov["files"]) == {"cmrc2018_trial.json", "drcd_test_simplified.json"}
    assert "CC BY-SA 4.0" in prov["licences"] and "CC BY-SA 3.0" in prov["licences"]
    assert "cross_validation" in prov and 0.0 <= prov["suggested_threshold"] <= 1.0
    q = read_question("工厂产量是多少？")
    span = next(s for s in candidates(q, "工厂产量超46万辆，占全市八成。") if s.text == "46万辆")
    numeric = {n for n in features(evidence(q, "工厂产量超46万辆，占全市八成。", span)) if ":" not in n}
    assert numeric <= set(model.features)  # code and weights describe the same measurements


def test_the_model_file_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "short.json"
    path.write_text(json.dumps(FIGURE_TREES.to_json()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DADONG_QA_SHORT_MODEL", str(path))
    settings = load_settings()
    assert settings.short_answer_model == str(path)
    assert AnswerParams.of(settings).short_model_path == str(path)
    assert AnswerParams().short_model_path == ""  # the shipped weights by default


def test_all_trees_at_once_give_the_same_logits_as_one_tree_at_a_time() -> None:
    rng = np.random.default_rng(0)
    shipped = load_model()
    assert isinstance(shipped, ShortTrees)
    for model in (FIGURE_TREES, shipped):
        x = rng.random((37, len(model.features))) * (rng.random((37, len(model.features))) < 0.3)
        one_at_a_time = model.trees.baseline + sum(t.predict(x) for t in model.trees.trees)
        assert np.allclose(model.logits(x), one_at_a_time)
    empty = ShortTrees(("a",), BoostedTrees(0.5, ()), {})
    assert np.allclose(empty.probabilities([{"a": 1.0}]), 1 / (1 + np.exp(-0.5)))


def test_a_missing_or_broken_model_file_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read the short-answer model .*nowhere\.json"):
        load_model(tmp_path / "nowhere.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json"):
        load_model(broken)
