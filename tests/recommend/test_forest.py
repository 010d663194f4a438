"""Compiled trees: the same scores as Booster.predict and the same SHAP values as pred_contrib."""

from __future__ import annotations

import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cdna.recommend.forest import CompiledForest, ShapTable, top_contributions
from cdna.recommend.models import LightGBMRecommender
from tests.recommend.test_models import _frame


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns: a category (0..7), a count with zeros, a value with NaNs, a signed value, noise."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.integers(0, 8, n),
            rng.poisson(0.7, n),
            np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 1, n)),
            rng.normal(0, 2, n),
            rng.random(n),
        ]
    ).astype(np.float32)
    logit = -2 + 1.5 * np.isin(X[:, 0], [1, 3, 6]) + 0.8 * X[:, 1] + np.nan_to_num(X[:, 2]) - 0.3 * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _probe(n: int, seed: int) -> np.ndarray:
    """Rows the trees never saw: NaN everywhere, zeros, negative and unseen categories, huge values."""
    X, _ = _data(n, seed)
    rng = np.random.default_rng(seed + 1)
    for j in range(X.shape[1]):
        X[rng.random(n) < 0.1, j] = np.nan
        X[rng.random(n) < 0.1, j] = 0.0
    X[rng.random(n) < 0.05, 0] = -1.0
    X[rng.random(n) < 0.05, 0] = 40.0  # a category code beyond every bitset
    X[rng.random(n) < 0.05, 3] = 1e30
    return X


@pytest.mark.parametrize(
    ("params", "nan_in_training"),
    [
        ({}, True),  # missing type NaN
        ({}, False),  # missing type None: NaN is read as 0
        ({"zero_as_missing": True}, True),  # missing type Zero
    ],
)
def test_scores_and_contributions_match_lightgbm(params: dict[str, object], nan_in_training: bool) -> None:
    X, y = _data(4000, 0)
    if not nan_in_training:
        X = np.nan_to_num(X)
    booster = lgb.train(
        {
            "objective": "binary",
            "num_leaves": 15,
            "verbosity": -1,
            "seed": 1,
            "min_data_in_leaf": 5,
            **params,
        },
        lgb.Dataset(X, y, categorical_feature=[0]),
        num_boost_round=40,
    )
    compiled = CompiledForest(booster)
    P = _probe(3000, 5)
    codes = compiled.codes(P)
    np.testing.assert_allclose(
        compiled.transform(compiled.raw(codes)), booster.predict(P), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(compiled.raw(codes), booster.predict(P, raw_score=True), rtol=0, atol=1e-12)

    allowed = np.array([True, True, True, False, True])
    table = ShapTable(compiled)
    idx, val = table.top(P, allowed, 3)
    want_idx, want_val = top_contributions(booster.predict(P, pred_contrib=True), allowed, 3)
    np.testing.assert_allclose(val, want_val, atol=1e-5)
    clear = np.abs(np.diff(want_val, axis=1)).min(axis=1) > 1e-5  # ties may come in either order
    assert (idx[clear] == want_idx[clear]).all()
    assert not (idx == 3).any()  # a feature that is not allowed is never picked
    assert table.asked > 0
    asked = table.asked
    table.top(P, allowed, 3)
    assert table.asked == asked  # every (tree, code) vector is asked of LightGBM once


def test_pairs_are_scored_without_their_matrix() -> None:
    X, y = _data(4000, 2)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 15, "verbosity": -1, "seed": 1},
        lgb.Dataset(X, y, categorical_feature=[0]),
        num_boost_round=30,
    )
    compiled = CompiledForest(booster)
    customers = _probe(500, 9)
    rows = np.random.default_rng(3).integers(0, 500, 2000)
    pair_columns = np.array([0, 3])
    pairs = _probe(2000, 11)[:, pair_columns].T.copy()
    full = customers[rows]
    full[:, pair_columns] = pairs.T
    codes, raw = compiled.pair_codes(customers, rows, pairs, pair_columns)
    np.testing.assert_array_equal(codes, compiled.codes(full))
    np.testing.assert_allclose(raw, booster.predict(full, raw_score=True), rtol=0, atol=1e-12)


def _candidates() -> pd.DataFrame:
    """test_models' planted-signal candidates, with missing age bands and a pair-level column."""
    f = _frame(1200).rename(columns={"noise": "cand_x"})
    f.loc[::7, "age_band"] = None
    return f


def test_recommender_scores_pairs_like_predict_and_pickles_without_the_compiled_trees() -> None:
    f = _candidates()
    feats = ["web_loan", "age_band", "cand_x"]
    model = LightGBMRecommender(feats, n_estimators=40, num_leaves=15, n_jobs=1).fit(f, f["label"])
    customers = f.iloc[::3][["customer_id", "web_loan", "age_band"]].reset_index(drop=True)
    rows = np.repeat(np.arange(len(customers)), 4)
    products = np.tile(np.array(["loan", "card", "fund", "new_product"], dtype=object), len(customers))
    per_pair = {"product_id": products, "cand_x": np.random.default_rng(1).random(len(rows))}
    scored = model.score_pairs(customers, rows, per_pair)
    assert scored is not None
    M = model.pair_matrix(customers, rows, per_pair)
    np.testing.assert_allclose(scored.score, model.predict_matrix(M), rtol=0, atol=1e-12)
    sel = np.arange(0, len(rows), 3)
    np.testing.assert_array_equal(scored.matrix(sel), M[sel])
    again = pickle.loads(pickle.dumps(model))
    assert "_compiled" not in again.__dict__
    np.testing.assert_allclose(again.predict_matrix(M), scored.score, rtol=0, atol=1e-12)


def test_trees_too_large_to_compile_fall_back_to_lightgbm() -> None:
    f = _candidates()
    model = LightGBMRecommender(["web_loan", "age_band", "cand_x"], n_estimators=5, num_leaves=40, n_jobs=1)
    model.fit(f, f["label"])
    assert int(model.booster_.dump_model()["tree_info"][0]["num_leaves"]) > 17
    assert model.compiled() is None
    rows = np.array([0, 0, 1])
    assert (
        model.score_pairs(
            f.iloc[::3].reset_index(drop=True),
            rows,
            {"product_id": f["product_id"][:3], "cand_x": np.zeros(3)},
        )
        is None
    )
