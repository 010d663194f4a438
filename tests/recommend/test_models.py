"""Estimators on small candidate frames with a planted signal."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cdna.core.errors import SchemaError
from cdna.recommend.metrics import rank_lists, ranking_metrics
from cdna.recommend.models import LightGBMRecommender, PopularityRecommender


def _frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Customers × 3 products; `web_loan` drives loan opens, `age_band` drives card opens."""
    rng = np.random.default_rng(seed)
    cust = np.repeat([f"C{i:07d}" for i in range(n)], 3)
    prod = np.tile(["loan", "card", "fund"], n)
    web = np.repeat(rng.poisson(0.3, n), 3).astype(float)
    band = np.repeat(rng.choice(["20s", "40s", "60s"], n), 3)
    p = np.where(
        prod == "loan",
        0.02 + 0.5 * (web > 0),
        np.where(prod == "card", np.where(band == "20s", 0.3, 0.02), 0.05),
    )
    return pd.DataFrame(
        {
            "customer_id": cust,
            "as_of": date(2025, 1, 31),
            "product_id": prod,
            "web_loan": web,
            "age_band": band,
            "noise": rng.random(3 * n),
            "label": (rng.random(3 * n) < p).astype(int),
        }
    )


def test_popularity_uses_segments_and_falls_back() -> None:
    f = _frame()
    pop = PopularityRecommender("age_band").fit(f, f["label"])
    x = pd.DataFrame({"product_id": ["card", "card", "fund"], "age_band": ["20s", "60s", "unseen"]})
    s = pop.predict(x)
    assert s[0] > 3 * s[1]
    assert s[2] == pytest.approx(pop.global_["fund"])
    with pytest.raises(NotFittedError):
        PopularityRecommender().predict(x)


@pytest.mark.parametrize("objective", ["binary", "lambdarank"])
def test_lightgbm_learns_the_planted_signal(objective: str) -> None:
    train, test = _frame(seed=1), _frame(seed=2)
    m = LightGBMRecommender(["web_loan", "age_band", "noise"], objective, n_estimators=60, n_jobs=1).fit(
        train, train["label"]
    )
    ours = ranking_metrics(rank_lists(test, m.predict(test)), 1)["map@1"]
    pop = PopularityRecommender("age_band").fit(train, train["label"])
    base = ranking_metrics(rank_lists(test, pop.predict(test)), 1)["map@1"]
    assert ours > base + 0.05  # popularity cannot see the web visits that drive loan opens
    assert m.importance().index[0] in ("web_loan", "product_id", "age_band")
    contrib = m.contributions(test.iloc[:50])
    assert contrib.shape == (50, len(m.feature_names_) + 1)
    if objective == "binary":  # SHAP values add up to the raw score
        raw = m.booster_.predict(m._matrix(test.iloc[:50]), raw_score=True)
        np.testing.assert_allclose(contrib.sum(axis=1), raw, rtol=1e-5, atol=1e-6)


def test_negative_sampling_keeps_calibrated_probabilities() -> None:
    train, test = _frame(4000, 3), _frame(4000, 4)
    m = LightGBMRecommender(["web_loan", "age_band"], n_estimators=60, n_jobs=1, negative_share=0.25).fit(
        train, train["label"]
    )
    p = m.predict(test)
    assert p.mean() == pytest.approx(test["label"].mean(), rel=0.25)
    assert clone(m).get_params()["negative_share"] == 0.25


def test_missing_feature_is_a_schema_error() -> None:
    f = _frame(200)
    m = LightGBMRecommender(["web_loan", "noise"], n_estimators=5, n_jobs=1).fit(f, f["label"])
    with pytest.raises(SchemaError, match="web_loan"):
        m.predict(f.drop(columns=["web_loan"]))


def test_pair_matrix_scores_equal_candidate_frame_scores() -> None:
    train = _frame(seed=5)
    m = LightGBMRecommender(["web_loan", "age_band", "noise"], n_estimators=20, n_jobs=1).fit(
        train, train["label"]
    )
    test = _frame(300, seed=6)
    customers = test.iloc[::3][["customer_id", "web_loan", "age_band"]].reset_index(drop=True)
    rows = np.repeat(np.arange(len(customers)), 3)
    per_pair = {"product_id": test["product_id"].to_numpy(), "noise": test["noise"].to_numpy()}
    fast = m.predict_matrix(m.pair_matrix(customers, rows, per_pair))
    np.testing.assert_allclose(fast, m.predict(test), rtol=1e-6)
