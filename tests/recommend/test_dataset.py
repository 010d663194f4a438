"""Feature groups by view, candidate expansion with aligned features, and the missing-feature error."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cdna.core.config import load_config, load_intents, load_memo_categories, load_products
from cdna.core.errors import SchemaError
from cdna.features.snapshot import FeatureSet
from cdna.recommend.dataset import FeatureGroups, build_candidates, feature_groups

CFG = load_config(environ={})
CAT, INTENTS = load_products(), load_intents()
FS = FeatureSet(CFG.features, CAT, INTENTS, load_memo_categories(), CFG.timezone)


def _columns() -> list[str]:
    return ["customer_id", "as_of", *[f.name for v in FS.views for f in v.features]]


def test_structured_only_leaves_out_the_signal_view_and_memo_columns() -> None:
    g = feature_groups(FS, _columns(), ["signals"], ["spend_share_*"])
    signal_view = {f.name for v in FS.views if v.name == "signals" for f in v.features}
    assert signal_view <= set(g.signal)
    assert (
        "spend_share_travel" in g.signal and "cand_memo_share" in g.signal and "cand_intent_30d" in g.signal
    )
    assert "web_mortgage_decay" in g.structured and "cand_web_decay" in g.structured and "age" in g.structured
    assert not set(g.structured) & set(g.signal)
    plain = feature_groups(FS, _columns(), ["signals"], [])
    assert "spend_share_travel" in plain.structured and "cand_memo_share" in plain.structured


def _snapshot() -> pd.DataFrame:
    row: dict[str, object] = {
        "customer_id": "C0000001",
        "as_of": date(2025, 6, 30),
        "age": 34,
        "age_band": "30s",
        "income_band": "50_70m",
    }
    row |= {f"held_{p}": p == "check_card" for p in CAT.ids}
    row |= {
        "intent_mortgage_inquiry_30d": 2.0,
        "intent_jeonse_loan_inquiry_30d": 1.0,
        "web_mortgage_decay": 1.5,
        "web_loan_rates_decay": 0.5,
        "spend_share_housing_rent": 0.2,
    }
    return pd.DataFrame([row, {**row, "customer_id": "C0000002", "intent_mortgage_inquiry_30d": 0.0}])


def test_candidates_carry_aligned_evidence() -> None:
    snap = _snapshot()
    groups = FeatureGroups(
        ("age", "cand_web_decay", "cand_family_held"),
        ("intent_mortgage_inquiry_30d", "cand_intent_30d", "cand_memo_share"),
    )
    c = build_candidates(snap, CAT, INTENTS, CFG.recommend, groups)
    one = c[c["customer_id"] == "C0000001"].set_index("product_id")
    assert "check_card" not in one.index  # held
    assert one.loc["mortgage", "cand_intent_30d"] == 2.0
    assert one.loc["jeonse_loan", "cand_intent_30d"] == 1.0
    assert one.loc["mortgage", "cand_web_decay"] == pytest.approx(2.0)  # mortgage page + loan-rates page
    assert one.loc["mortgage", "cand_memo_share"] == pytest.approx(0.2)
    assert one.loc["fund", "cand_intent_30d"] == 0 and one.loc["credit_card", "cand_family_held"] == 1
    assert np.isnan(one.loc["fund", "cand_intent_days_since"])


def test_missing_model_feature_is_a_schema_error() -> None:
    groups = FeatureGroups(("age", "tenure_days"), ())
    with pytest.raises(SchemaError, match="tenure_days"):
        build_candidates(_snapshot(), CAT, INTENTS, CFG.recommend, groups)
