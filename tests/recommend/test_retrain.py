"""The promotion gate and the --if-needed triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from cdna.core.config import RecommendConfig
from cdna.recommend.retrain import drift, gate, ks_stat, live_hit_rate, psi, triggers

CFG = RecommendConfig(promote_margin=0.02, segment_tolerance=0.10, min_segment_positives=20)


def _seg(values: dict[str, float], positives: int = 50) -> pd.DataFrame:
    return pd.DataFrame({"segment": list(values), "map@5": list(values.values()), "positives": positives})


def test_no_champion_needs_to_beat_popularity() -> None:
    ok = gate("map@5", {"map@5": 0.4}, None, {"map@5": 0.3}, None, None, CFG)
    assert ok.promote and "no champion" in ok.reasons[0]
    bad = gate("map@5", {"map@5": 0.2}, None, {"map@5": 0.3}, None, None, CFG)
    assert not bad.promote and "popularity" in bad.reasons[0]


def test_margin_and_segment_tolerance() -> None:
    champ = {"map@5": 0.40}
    assert not gate("map@5", {"map@5": 0.405}, champ, None, None, None, CFG).promote  # +1.25% < 2% margin
    seg_old = _seg({"20s": 0.5, "30s": 0.4, "70_plus": 0.5})
    seg_new = _seg({"20s": 0.6, "30s": 0.35, "70_plus": 0.5})
    d = gate("map@5", {"map@5": 0.45}, champ, None, seg_new, seg_old, CFG)
    assert not d.promote and "30s" in d.regressed and "tolerance" in d.reasons[-1]
    small = pd.concat([_seg({"20s": 0.6, "30s": 0.1}, 5)])
    d = gate("map@5", {"map@5": 0.45}, champ, None, small, _seg({"20s": 0.5, "30s": 0.4}, 5), CFG)
    assert d.promote  # segments with few positives are reported, not gated


def test_psi_and_ks_detect_shift_not_noise() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 5000)
    assert psi(ref, rng.normal(0, 1, 5000)) < 0.05 and ks_stat(ref, rng.normal(0, 1, 5000)) < 0.05
    assert psi(ref, rng.normal(1, 1, 5000)) > 0.3 and ks_stat(ref, rng.normal(1, 1, 5000)) > 0.3
    cur = pd.DataFrame({"a": rng.normal(0, 1, 3000), "b": rng.normal(2, 1, 3000)})
    table = drift({"a": ref, "b": ref, "gone": ref}, cur, CFG)
    assert table.set_index("feature")["drifted"].to_dict() == {"a": False, "b": True}


def test_triggers_fire_on_age_drift_and_live_decay() -> None:
    now = datetime(2025, 7, 1, tzinfo=UTC)
    old = (now - timedelta(days=45)).isoformat()
    fresh = (now - timedelta(days=2)).isoformat()
    quiet = pd.DataFrame(
        {"feature": ["a", "b"], "psi": [0.01, 0.02], "ks": [0.01, 0.01], "drifted": [False, False]}
    )
    t = {x.name: x for x in triggers(fresh, quiet, (0.7, 100), 0.7, CFG, now)}
    assert not any(x.fired for x in t.values())
    t = {x.name: x for x in triggers(old, quiet.assign(drifted=[True, False]), (0.3, 100), 0.7, CFG, now)}
    assert t["schedule"].fired and t["drift"].fired and t["live"].fired
    t = {x.name: x for x in triggers(fresh, quiet, (0.0, 3), 0.7, CFG, now)}
    assert not t["live"].fired and "too few" in t["live"].detail
    assert triggers(None, None, None, None, CFG, now)[0].fired


def test_live_hit_rate() -> None:
    recs = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "rank": [1, 2, 1, 1],
            "product_id": ["fund", "isa", "irp", "fund"],
        }
    )
    opens = pd.DataFrame({"customer_id": ["A", "B", "Z"], "product_id": ["isa", "fund", "fund"]})
    assert live_hit_rate(recs, opens, 2) == (0.5, 2)
    assert live_hit_rate(recs, opens, 1) == (0.0, 2)
