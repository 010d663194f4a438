"""The retrain gate (TFX-evaluator-style "blessing") and the `--if-needed` triggers, as pure functions.

Gate: a challenger is promoted only when it beats the champion on the primary metric by the configured
relative margin and no segment with enough positives regresses beyond the tolerance. Without a champion
the challenger must at least beat the popularity baseline. Triggers: the champion's age, feature drift
(PSI or KS against the training reference) and decayed live performance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from cdna.core.config import RecommendConfig

__all__ = ["Decision", "Trigger", "drift", "gate", "ks_stat", "live_hit_rate", "psi", "triggers"]


@dataclass(frozen=True)
class Decision:
    """The gate's verdict.

    Attributes:
        promote: whether the challenger becomes champion.
        reasons: one line per check, in order (why it was or was not promoted).
        challenger / champion / baseline: primary metric values on the same holdout.
        regressed: segment -> (champion, challenger) for segments that dropped beyond tolerance.
    """

    promote: bool
    reasons: list[str]
    challenger: float
    champion: float | None
    baseline: float | None
    regressed: dict[str, tuple[float, float]] = field(default_factory=dict)


def gate(
    metric: str,
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    baseline: dict[str, float] | None,
    challenger_segments: pd.DataFrame | None,
    champion_segments: pd.DataFrame | None,
    cfg: RecommendConfig,
) -> Decision:
    """Decide whether a challenger replaces the champion (metrics measured on the same holdout)."""
    ch = float(challenger.get(metric, 0.0))
    base = float(baseline[metric]) if baseline and metric in baseline else None
    reasons: list[str] = []
    if champion is None:
        if base is not None and ch <= base:
            reasons.append(
                f"no champion yet, and the challenger's {metric} {ch:.4f} does not beat the popularity "
                f"baseline {base:.4f}: not promoted"
            )
            return Decision(False, reasons, ch, None, base)
        reasons.append(
            f"no champion yet; challenger {metric} {ch:.4f} beats popularity "
            f"{base if base is not None else float('nan'):.4f}: promoted"
        )
        return Decision(True, reasons, ch, None, base)
    cp = float(champion.get(metric, 0.0))
    need = cp * (1 + cfg.promote_margin)
    ok = ch > need
    rel = (ch / cp - 1) if cp > 0 else float("inf")
    if not ok:
        reasons.append(
            f"challenger {metric} {ch:.4f} vs champion {cp:.4f} ({rel:+.1%}); needs > {need:.4f} "
            f"(margin {cfg.promote_margin:+.1%}): not promoted"
        )
        return Decision(False, reasons, ch, cp, base)
    reasons.append(
        f"challenger {metric} {ch:.4f} beats champion {cp:.4f} ({rel:+.1%}, margin {cfg.promote_margin:+.1%})"
    )
    regressed: dict[str, tuple[float, float]] = {}
    if challenger_segments is not None and champion_segments is not None:
        col = metric if metric in challenger_segments.columns else challenger_segments.columns[1]
        a = champion_segments.set_index("segment")
        b = challenger_segments.set_index("segment")
        for seg in a.index.intersection(b.index):
            if a.loc[seg, "positives"] < cfg.min_segment_positives:
                continue
            old, new = float(a.loc[seg, col]), float(b.loc[seg, col])
            if old > 0 and new < old * (1 - cfg.segment_tolerance):
                regressed[str(seg)] = (old, new)
    if regressed:
        worst = ", ".join(f"{s} {o:.4f}→{n:.4f}" for s, (o, n) in sorted(regressed.items()))
        reasons.append(
            f"segment(s) regress beyond the {cfg.segment_tolerance:.0%} tolerance: {worst}: not promoted"
        )
        return Decision(False, reasons, ch, cp, base, regressed)
    reasons.append(f"no segment regresses beyond {cfg.segment_tolerance:.0%}: promoted")
    return Decision(True, reasons, ch, cp, base)


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `current` against `reference` over reference quantile bins."""
    ref = reference[~np.isnan(reference)]
    cur = current[~np.isnan(current)]
    if not len(ref) or not len(cur):
        return 0.0
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([ref.min() - 0.5, ref.min() + 0.5])
    edges[0], edges[-1] = -np.inf, np.inf
    a = np.histogram(ref, edges)[0] / len(ref)
    b = np.histogram(cur, edges)[0] / len(cur)
    a, b = np.clip(a, 1e-4, None), np.clip(b, 1e-4, None)
    return float(np.sum((b - a) * np.log(b / a)))


def ks_stat(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (max CDF distance)."""
    ref = np.sort(reference[~np.isnan(reference)])
    cur = np.sort(current[~np.isnan(current)])
    if not len(ref) or not len(cur):
        return 0.0
    grid = np.concatenate([ref, cur])
    return float(
        np.max(
            np.abs(
                np.searchsorted(ref, grid, "right") / len(ref)
                - np.searchsorted(cur, grid, "right") / len(cur)
            )
        )
    )


def drift(reference: dict[str, np.ndarray], current: pd.DataFrame, cfg: RecommendConfig) -> pd.DataFrame:
    """PSI and KS per reference feature against the current snapshot, with a `drifted` flag."""
    rows = []
    for name, ref in reference.items():
        if name not in current.columns:
            continue
        cur = pd.to_numeric(current[name], errors="coerce").to_numpy(dtype=float)
        p, k = psi(ref, cur), ks_stat(ref, cur)
        rows.append(
            {
                "feature": name,
                "psi": p,
                "ks": k,
                "drifted": p > cfg.drift_psi_threshold or k > cfg.drift_ks_threshold,
            }
        )
    return pd.DataFrame(rows, columns=["feature", "psi", "ks", "drifted"])


def live_hit_rate(recs: pd.DataFrame, opens: pd.DataFrame, k: int) -> tuple[float, int]:
    """Share of customers who opened a product after their recommendations with one of them in their top-k.

    `recs`: customer_id, as_of, rank, product_id; `opens`: customer_id, product_id, day (Korea-time date),
    already limited to the horizon after each list's as_of by the caller. Returns (rate, customers).
    """
    top = recs.loc[recs["rank"] <= k, ["customer_id", "product_id"]].drop_duplicates()
    opened = opens[["customer_id", "product_id"]].drop_duplicates()
    opened = opened[opened["customer_id"].isin(set(recs["customer_id"]))]
    n = opened["customer_id"].nunique()
    if not n:
        return 0.0, 0
    hit = opened.merge(top, on=["customer_id", "product_id"])["customer_id"].nunique()
    return hit / n, n


@dataclass(frozen=True)
class Trigger:
    """One `--if-needed` check.

    Attributes:
        name: schedule, drift or live.
        fired: whether it asks for a retrain.
        detail: one line with the measured figures.
    """

    name: str
    fired: bool
    detail: str


def triggers(
    trained_at: str | None,
    drift_table: pd.DataFrame | None,
    live: tuple[float, int] | None,
    holdout_hitrate: float | None,
    cfg: RecommendConfig,
    now: datetime | None = None,
    min_live_customers: int = 30,
    acceptance: tuple[float, int] | None = None,
) -> list[Trigger]:
    """Evaluate the schedule, drift and live-performance triggers.

    `acceptance` is the champion's live offers: (accepted share of answered offers, answered offers); the
    live trigger fires when at least `cfg.min_live_outcomes` were answered and too few were accepted, or
    when the live hit rate decayed below the holdout's (issue 17).
    """
    now = now or datetime.now(UTC)
    out: list[Trigger] = []
    if trained_at is None:
        out.append(Trigger("schedule", True, "no champion model yet"))
    else:
        age = (now - datetime.fromisoformat(trained_at)).total_seconds() / 86400
        out.append(
            Trigger(
                "schedule",
                age > cfg.max_model_age_days,
                f"champion trained {age:.1f} days ago (limit {cfg.max_model_age_days})",
            )
        )
    if drift_table is not None and len(drift_table):
        share = float(drift_table["drifted"].mean())
        worst = drift_table.sort_values("psi", ascending=False).head(3)
        names = ", ".join(f"{r.feature} PSI {r.psi:.2f}/KS {r.ks:.2f}" for r in worst.itertuples())
        out.append(
            Trigger(
                "drift",
                share > cfg.drift_max_share,
                f"{share:.0%} of {len(drift_table)} features drifted (limit {cfg.drift_max_share:.0%}); "
                f"largest: {names}",
            )
        )
    else:
        out.append(Trigger("drift", False, "no drift reference or snapshot to compare"))
    fired, details = False, []
    if acceptance is not None and acceptance[1] >= cfg.min_live_outcomes:
        low = acceptance[0] < cfg.live_min_acceptance
        fired |= low
        details.append(
            f"live acceptance {acceptance[0]:.1%} of {acceptance[1]} answered offers "
            f"({'below' if low else 'at or above'} the floor {cfg.live_min_acceptance:.1%})"
        )
    else:
        details.append(
            f"too few answered offers for the acceptance check ({acceptance[1] if acceptance else 0}, "
            f"need {cfg.min_live_outcomes})"
        )
    if live is not None and holdout_hitrate is not None and live[1] >= min_live_customers:
        floor = holdout_hitrate * (1 - cfg.live_decay_tolerance)
        fired |= live[0] < floor
        details.append(
            f"live hit rate {live[0]:.3f} over {live[1]} customers who opened a product vs holdout "
            f"{holdout_hitrate:.3f} (floor {floor:.3f})"
        )
    else:
        n = live[1] if live else 0
        details.append(f"too few opens since the last batch scoring for the hit rate ({n} customers)")
    out.append(Trigger("live", fired, "; ".join(details)))
    return out
