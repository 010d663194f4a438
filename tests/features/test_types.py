"""Customer types (issue 17): configured k, archetype names, profiles, the new-customer type models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdna.core.config import CustomerType, CustomerTypes, load_customer_types
from cdna.features.segments import SegmentOptions, fit_segments
from cdna.features.types import fit_type_models, name_types, new_customer_mask, profile_types, region_majority


def _rfm(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Four clear RFM groups: busy big spenders, steady small spenders, rare big tickets, gone quiet."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(4), n // 4)
    rec = np.array([1, 3, 20, 120])[g] * rng.uniform(0.7, 1.3, len(g))
    freq = np.array([150, 90, 15, 5])[g] * rng.uniform(0.8, 1.2, len(g))
    mon = np.array([3e7, 6e6, 2e7, 5e5])[g] * rng.uniform(0.8, 1.2, len(g))
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(len(g))],
            "recency_days": rec,
            "txn_count_365d": freq,
            "spend_amount_365d": mon,
            "interest_travel": np.where(g == 2, 0.8, 0.1),
            "intent_fx_remittance_90d": np.where(g == 2, 2.0, 0.1),
            "held_fx_deposit": g == 2,
            "_group": g,
        }
    )


def test_configured_k_is_used_and_every_k_is_reported() -> None:
    df = _rfm()
    seg = fit_segments(df, SegmentOptions(k_min=2, k_max=10, k=4))
    assert seg.k_ == 4 and set(seg.inertia_) == set(range(2, 11)) == set(seg.silhouette_)
    assert seg.best_k_ == max(seg.silhouette_, key=seg.silhouette_.get)
    chosen = fit_segments(df, SegmentOptions(k_min=2, k_max=10, k=4, choose_k=True))
    assert chosen.k_ == chosen.best_k_


def test_archetype_names_one_to_one_and_inactivity_needs_inactive_customers() -> None:
    df = _rfm()
    seg = fit_segments(df, SegmentOptions(k=4))
    names = name_types(seg, df, load_customer_types(), 365)
    assert len(set(names.values())) == 4
    by_group = (
        pd.Series([names[int(s)] for s in seg.labels_]).groupby(df["_group"]).agg(lambda s: s.mode()[0])
    )
    assert by_group[0] == "핵심 주거래 고객" and by_group[3] == "이탈 위험 고객"
    # the same bank where nobody went quiet: the at-risk archetype may not name any cluster
    calm = df.assign(recency_days=df["recency_days"].clip(upper=10))
    seg2 = fit_segments(calm, SegmentOptions(k=4))
    assert "이탈 위험 고객" not in name_types(seg2, calm, load_customer_types(), 365).values()


def test_profiles_show_size_rfm_and_what_stands_out() -> None:
    df = _rfm()
    labels = df["_group"].to_numpy()
    types = CustomerTypes(
        types=[
            CustomerType(id=f"t{i}", name=f"유형{i}", recency=0, frequency=0, monetary=0) for i in range(4)
        ]
    )
    profiles = profile_types(
        df, labels, {i: f"유형{i}" for i in range(4)}, types, {"travel": "여행", "fx_deposit": "외화예금"}
    )
    assert [p.customers for p in profiles] == [100] * 4 and profiles[2].share == 0.25
    assert profiles[2].interests[0][0] == "여행" and profiles[2].interests[0][2] > 2
    assert profiles[2].intents[0][0] == "fx_remittance" and profiles[2].products[0][0] == "외화예금"
    assert profiles[3].rfm["recency_days"] > 80


def test_new_customers_and_region_majority_baseline() -> None:
    df = pd.DataFrame({"txn_count_365d": [0, 3, 4, None]})
    assert new_customer_mask(df, 3).tolist() == [True, True, False, True]
    train_region = pd.Series(["서울", "서울", "서울", "부산", "부산"])
    pred = region_majority(train_region, np.array([1, 1, 2, 3, 3]), pd.Series(["부산", "서울", "제주"]))
    assert pred.tolist() == [3, 1, 1]  # unseen region: the bank-wide majority


def test_type_models_beat_the_region_majority_when_there_is_signal() -> None:
    rng = np.random.default_rng(3)
    n = 1200
    household = rng.choice(["single", "couple_kids", "senior"], n)
    y = np.where(household == "single", 0, np.where(household == "senior", 2, 1))
    y = np.where(rng.random(n) < 0.25, rng.integers(0, 3, n), y)  # noisy labels
    frame = pd.DataFrame(
        {
            "age": rng.integers(20, 80, n),
            "gender": rng.choice(["F", "M"], n),
            "region_sido": rng.choice(["서울특별시", "부산광역시"], n),
            "household": household,
            "income_band": "30_50m",
            "spend_share_travel": rng.random(n),
        }
    )
    res = fit_type_models(frame.iloc[:900], y[:900], frame.iloc[900:], y[900:], "test rows", seed=1)
    assert set(res.macro_f1) == {"lightgbm", "random_forest", "logistic_regression", "region_majority"}
    assert res.macro_f1[res.best] == max(v for k, v in res.macro_f1.items() if k != "region_majority")
    assert res.macro_f1[res.best] > res.macro_f1["region_majority"] + 0.2
    assert set(res.predict(frame.iloc[:50]).tolist()) <= {0, 1, 2}
