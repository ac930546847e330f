"""The answer decision: shipped weights, probabilities, and the refusal threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import DIM, make_store
from dadong_qa.answering.answer import AnswerParams, ExtractiveAnswerer
from dadong_qa.answering.evidence import FEATURES
from dadong_qa.answering.policy import AnswerPolicy, BoostedTrees, Logistic, PolicyError, shipped_policy
from dadong_qa.retrieval.expand import analyze
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Passage


def policy_on(weights: dict[str, float], intercept: float = 0.0) -> AnswerPolicy:
    """A hand-made policy: standardised features are the raw ones (mean 0, scale 1)."""
    coef = np.array([weights.get(f, 0.0) for f in FEATURES])
    n = len(FEATURES)
    return AnswerPolicy(FEATURES, Logistic(np.zeros(n), np.ones(n), coef, intercept), {})


def test_shipped_weights_load_and_match_the_evidence_fields():
    policy = shipped_policy()
    assert policy.features == FEATURES
    assert "trained_on" in policy.meta and "cross_validation" in policy.meta
    # a sentence with the question's words in a top passage is a likelier answer than one without
    n = len(FEATURES)
    good, bad = np.zeros((1, n)), np.zeros((1, n))
    for name, value in {
        "coverage": 0.9,
        "coverage_ctx": 0.95,
        "bigram_overlap": 0.8,
        "doc_coverage": 1.0,
        "passage_score": 1.0,
        "passage_rank": 1.0,
        "bm25": 1.0,
        "cos": 0.6,
        "cos_rank": 1.0,
        "title_match": 0.5,
        "top_doc": 1.0,
        "length": 3.8,
        "novelty": 0.6,
        "n_terms": 1.6,
    }.items():
        good[0, FEATURES.index(name)] = value
    bad[0] = good[0]
    for name, value in {
        "coverage": 0.1,
        "coverage_ctx": 0.1,
        "bigram_overlap": 0.05,
        "doc_coverage": 0.2,
        "missing_rare": 1.0,
        "coverage_gap": -0.8,
        "bigram_gap": -0.7,
    }.items():
        bad[0, FEATURES.index(name)] = value
    assert policy.logits(good)[0] > policy.logits(bad)[0]


def test_weights_round_trip_through_json(tmp_path):
    policy = policy_on({"coverage": 2.0}, -1.0)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy.to_dict()), encoding="utf-8")
    again = AnswerPolicy.load(path)
    x = np.random.default_rng(1).normal(size=(5, len(FEATURES)))
    assert again.features == FEATURES and np.allclose(again.logits(x), policy.logits(x))


def test_boosted_trees_give_what_scikit_learn_gives(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 3] * x[:, 5] > 0).astype(int)
    hgb = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7).fit(x, y)
    policy = AnswerPolicy(FEATURES, BoostedTrees.from_sklearn(hgb), {})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy.to_dict()), encoding="utf-8")
    again = AnswerPolicy.load(path)
    p = 1 / (1 + np.exp(-again.logits(x)))
    assert np.allclose(p, hgb.predict_proba(x)[:, 1], atol=1e-6)


@pytest.mark.parametrize(
    "broken",
    [
        {"features": ["cos"], "kind": "logistic", "model": {"mean": [0], "scale": [1], "coef": [1], "intercept": 0}},
        {
            "features": list(FEATURES),
            "kind": "logistic",
            "model": {"mean": [0], "scale": [1], "coef": [1], "intercept": 0},
        },
        {"features": list(FEATURES), "kind": "logistic"},
        {"features": list(FEATURES), "kind": "forest", "model": {}},
        {
            "features": list(FEATURES),
            "kind": "boosted_trees",
            "model": {
                "baseline": 0,
                "trees": [
                    {
                        "feature": [99],
                        "threshold": [0],
                        "left": [1],
                        "right": [2],
                        "leaf": [0],
                        "value": [0],
                        "depth": 1,
                    }
                ],
            },
        },
    ],
)
def test_weights_out_of_step_with_the_code_are_refused(broken):
    with pytest.raises(PolicyError):
        AnswerPolicy.from_dict(broken)


def test_unreadable_weights_file_is_a_clear_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyError, match="cannot read"):
        AnswerPolicy.load(path)


STORE = make_store(
    {
        "a": ("清水县学校", "2022-11-02", ["2022年，清水县新建学校7所。", "县里开通了4条社区公交线路。"]),
    }
)


def answer_with(policy: AnswerPolicy, threshold: float, question: str = "2022年清水县新建了多少所学校？"):
    passages = [Passage(text="", doc_id="a", score=1.0, chunk_id=0, sentence_ids=[0, 1])]
    retrieval = Retrieval(passages, np.ones(DIM) / 2, [], analyze(question), {})
    answerer = ExtractiveAnswerer(STORE, AnswerParams(refusal_threshold=threshold, reader=False), policy)
    return answerer.answer(question, retrieval)


def test_most_probable_sentence_answers_and_is_cited_verbatim():
    a = answer_with(policy_on({"coverage": 4.0}, -1.0), 0.5)
    assert a.answered and a.citations[0].sentence == "2022年，清水县新建学校7所。"
    assert a.text.startswith("2022年，清水县新建学校7所。[1]")
    assert a.confidence == pytest.approx(a.citations[0].score)


def test_below_the_threshold_the_answer_is_a_refusal():
    policy = policy_on({"coverage": 4.0}, -1.0)
    confident = answer_with(policy, 0.5)
    refused = answer_with(policy, confident.confidence + 0.01)
    assert not refused.answered and not refused.citations and "没有找到" in refused.text
    assert refused.confidence == confident.confidence  # the same evidence, only the bar moved


def test_probability_rises_with_a_positively_weighted_feature():
    policy = policy_on({"coverage": 3.0})
    low, high = answer_with(policy, -1.0, "清水县开通了几条线路？"), answer_with(policy, -1.0)
    assert high.confidence > low.confidence


def test_a_figure_of_another_or_an_unknown_period_does_not_answer():
    from dataclasses import replace

    from dadong_qa.answering.evidence import SentenceEvidence
    from dadong_qa.answering.policy import PERIOD_RULES

    base = SentenceEvidence(sid=0, **{f: 0.0 for f in FEATURES})
    policy = policy_on({}, 1.0)  # p = 0.73 whatever the evidence
    fits = ("match", "none", "other", "unknown")
    p = dict(zip(fits, policy.probabilities([replace(base, period_fit=f) for f in fits]), strict=True))
    assert p["match"] == p["none"] == pytest.approx(1 / (1 + np.exp(-1.0)))
    for fit in ("other", "unknown"):
        odds = p[fit] / (1 - p[fit])
        assert odds == pytest.approx(np.exp(1.0) * PERIOD_RULES[fit])
        assert p[fit] < 0.40  # below the shipped refusal threshold


def test_boosted_trees_walked_at_once_equal_one_tree_at_a_time():
    policy = shipped_policy()
    assert isinstance(policy.model, BoostedTrees)
    rng = np.random.default_rng(0)
    x = rng.random((50, len(FEATURES))) * (rng.random((50, len(FEATURES))) < 0.5)
    one_at_a_time = policy.model.baseline + sum(t.predict(x) for t in policy.model.trees)
    assert np.allclose(policy.logits(x), one_at_a_time)
    assert np.allclose(BoostedTrees(0.25, ()).logits(x), 0.25)


@pytest.mark.parametrize("flag", ["place_other", "year_missing", "count_missing", "ordinal_other"])
def test_a_sentence_a_flag_rule_names_does_not_answer(flag: str):
    # place_other: about another place than the question names; year_missing: no year for "哪一年";
    # count_missing: no count for "多少"; ordinal_other: 第33届 for "第49届…"
    from dataclasses import replace

    from dadong_qa.answering.evidence import SentenceEvidence
    from dadong_qa.answering.policy import FLAG_RULES, ruled_out

    base = SentenceEvidence(sid=0, **{f: 0.0 for f in FEATURES})
    policy = policy_on({}, 1.0)  # p = 0.73 whatever the evidence
    here, there = policy.probabilities([base, replace(base, **{flag: True})])
    assert here == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert there / (1 - there) == pytest.approx(np.exp(1.0) * FLAG_RULES[flag])
    assert ruled_out(replace(base, **{flag: True})) and not ruled_out(base)
    assert flag not in FEATURES  # a rule, not a feature the shipped weights know
