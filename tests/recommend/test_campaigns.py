"""Campaign targeting, control groups and uplift intervals (issue 17) on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdna.recommend.campaigns import (
    CampaignError,
    CampaignSpec,
    campaign_results,
    export_rows,
    masked_reasons,
    newcombe_interval,
    select_targets,
    wilson_interval,
)


def _scored(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "score": np.linspace(0.9, 0.1, n),
            "segment_name": ["핵심 주거래 고객", "소극 거래 고객"] * (n // 2),
            "segment_id": [0, 1] * (n // 2),
        }
    )


def test_top_by_score_with_a_random_control_group() -> None:
    spec = CampaignSpec("t1", "fx_deposit", 20, 0.25, seed=3)
    m = select_targets(_scored(), spec)
    assert len(m) == 20 and (m["group"] == "control").sum() == 5
    assert m["customer_id"].tolist() == [f"C{i:07d}" for i in range(20)]  # the 20 best scores
    other = select_targets(_scored(), CampaignSpec("t1", "fx_deposit", 20, 0.25, seed=4))
    assert set(m.loc[m.group == "control", "customer_id"]) != set(
        other.loc[other.group == "control", "customer_id"]
    )
    again = select_targets(_scored(), spec)
    assert again["group"].tolist() == m["group"].tolist()  # the seed fixes the split


def test_segment_filter_by_name_or_id_and_clear_errors() -> None:
    m = select_targets(_scored(), CampaignSpec("t", "fund", 10, 0.2, segment="소극 거래 고객"))
    assert set(m["segment_name"]) == {"소극 거래 고객"}
    assert len(select_targets(_scored(), CampaignSpec("t", "fund", 10, 0.2, segment="0"))) == 10
    with pytest.raises(CampaignError, match="matches no customer"):
        select_targets(_scored(), CampaignSpec("t", "fund", 10, 0.2, segment="없는 세그먼트"))
    with pytest.raises(CampaignError, match="eligible customer"):
        select_targets(_scored(), CampaignSpec("t", "fund", 100, 0.1))
    with pytest.raises(CampaignError, match="control share"):
        CampaignSpec("t", "fund", 10, 1.5).check()
    with pytest.raises(CampaignError, match="not allowed"):
        CampaignSpec("../etc", "fund", 10, 0.1).check()
    with pytest.raises(CampaignError, match="--type"):
        select_targets(_scored(), CampaignSpec("t", "fund", 10, 0.1, customer_type="x"))


def test_wilson_and_newcombe_against_published_values() -> None:
    # Newcombe (1998), Stat Med 17:873, Table II, method 11 (continuity-corrected score intervals)
    cases = {
        (56, 70, 48, 80): (0.0428, 0.3422),
        (9, 10, 3, 10): (0.1013, 0.8387),
        (5, 56, 0, 29): (-0.0667, 0.2037),
        (10, 10, 0, 20): (0.6014, 1.0),
    }
    for (k1, n1, k0, n0), (lo, hi) in cases.items():
        d = newcombe_interval(k1, n1, k0, n0)
        assert (round(d.low, 4), round(d.high, 4)) == (lo, hi), (k1, n1, k0, n0)
    # method 10 (no correction), same table: 56/70 vs 48/80 -> (0.0524, 0.3339)
    d10 = newcombe_interval(56, 70, 48, 80, correct=False)
    assert (round(d10.low, 4), round(d10.high, 4)) == (0.0524, 0.3339)
    # the case that made us correct: one control conversion of 50 against none of 450 is no evidence
    assert not newcombe_interval(0, 450, 1, 50).excludes_zero
    assert newcombe_interval(0, 450, 1, 50, correct=False).excludes_zero
    assert wilson_interval(0, 50, correct=False)[1] == pytest.approx(0.0713, abs=1e-4)


def test_results_overall_and_per_segment() -> None:
    m = pd.DataFrame(
        {
            "group": ["treated"] * 6 + ["control"] * 4,
            "outcome": ["accepted", "declined", None, "accepted", "call_back", None] + [None] * 4,
            "converted": [True, False, False, True, False, False, False, True, False, False],
            "segment_name": ["A", "A", "A", "B", "B", "B", "A", "A", "B", "B"],
        }
    )
    r = campaign_results(m)
    top = r.iloc[0]
    assert top["segment"] == "전체" and top["treated"] == 6 and top["control"] == 4
    assert top["responded"] == 4 and top["accepted"] == 2
    assert top["treated_conversion_rate"] == pytest.approx(2 / 6)
    assert top["uplift"] == pytest.approx(2 / 6 - 1 / 4)
    assert r["segment"].tolist() == ["전체", "A", "B"]
    assert r.loc[1, "uplift"] == pytest.approx(1 / 3 - 1 / 2)


def test_export_masks_reason_text() -> None:
    treated = pd.DataFrame(
        {
            "offer_id": ["O1"],
            "customer_id": ["C0000001"],
            "product_id": ["fx_deposit"],
            "reasons": [["해외 결제가 늘었습니다.", "010-1234-5678 번호로 문의", "세 번째"]],
        }
    )
    treated["shown_reasons"] = [
        masked_reasons(r, lambda t: t.replace("010-1234-5678", "[PHONE]")) for r in treated["reasons"]
    ]
    out = export_rows(treated, "외화예금")
    assert out.loc[0, "reason"] == "해외 결제가 늘었습니다. / [PHONE] 번호로 문의"
    assert list(out.columns) == ["offer_id", "customer_id", "product_id", "product_name", "reason"]
