"""Ranking metrics against hand-computed values."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cdna.recommend.metrics import (
    calibration,
    gain_curve,
    per_product,
    per_segment,
    rank_lists,
    ranking_metrics,
)


def _frame() -> pd.DataFrame:
    d = date(2025, 5, 31)
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "B", "C", "C"],
            "as_of": [d] * 8,
            "product_id": ["p1", "p2", "p3", "p1", "p2", "p3", "p1", "p2"],
            "label": [0, 1, 1, 1, 0, 0, 0, 0],
        }
    )


def test_map_ndcg_recall_hitrate_by_hand() -> None:
    f = _frame()
    score = np.array([0.9, 0.8, 0.1, 0.2, 0.5, 0.4, 0.3, 0.2])
    ranked = rank_lists(f, score)
    m = ranking_metrics(ranked, 2, catalogue_size=4)
    # A: ranks p1(0) p2(1) p3(1); AP@2 = (1/2)/min(2,2) = 0.25. B: p2 p3 p1(1): AP@2 = 0. C has no positive.
    assert m["map@2"] == pytest.approx(0.125)
    ndcg_a = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert m["ndcg@2"] == pytest.approx(ndcg_a / 2)
    assert m["recall@2"] == pytest.approx((0.5 + 0) / 2)
    assert m["hitrate@2"] == pytest.approx(0.5)
    assert m["lists"] == 3 and m["lists_with_positive"] == 2
    assert m["coverage"] == pytest.approx(3 / 4)  # top-2 lists use p1, p2 (A, C) and p2, p3 (B)
    perfect = ranking_metrics(rank_lists(f, f["label"].to_numpy() + 0.0), 2)
    assert perfect["map@2"] == pytest.approx(1.0) and perfect["ndcg@2"] == pytest.approx(1.0)


def test_per_segment_and_product_tables() -> None:
    f = _frame()
    score = f["label"].to_numpy() * 1.0
    ranked = rank_lists(f, score)
    seg = np.where(ranked["customer_id"] == "A", "young", "old")
    tab = per_segment(ranked, seg, 1)
    assert set(tab["segment"]) == {"young", "old"}
    assert tab.set_index("segment").loc["young", "map@1"] == pytest.approx(1.0)
    prod = per_product(ranked, 1).set_index("product_id")
    assert prod.loc["p1", "positives"] == 1 and prod.loc["p1", "recall@1"] == pytest.approx(1.0)


def test_calibration_and_gain() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(5000) * 0.2
    y = (rng.random(5000) < p).astype(int)
    table, ece = calibration(y, p)
    assert ece < 0.03 and len(table) == 10
    _, bad = calibration(y, np.clip(p * 3, 0, 1))
    assert bad > ece
    g = gain_curve(y, p)
    assert g["gain"].iloc[-1] == pytest.approx(1.0)
    assert g.loc[g["share"] >= 0.1, "lift"].iloc[0] > 1.2  # the top tenth by score holds more opens
    assert g["gain"].is_monotonic_increasing
