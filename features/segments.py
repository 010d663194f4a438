"""RFM segmentation as in the Lotte study: K-means on log R, F, M with k = 4 (configurable) unless asked to
choose by silhouette; elbow and silhouette are reported for every k in range (issue 17).

Segments are named by their profile (recency versus value) so the names read like the study's slides:
핵심 우량, 성장 가능, 이탈 위험 우량, 휴면, 일반.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from cdna.core.errors import InputError

__all__ = [
    "RFM_COLUMNS",
    "SegmentOptions",
    "Segmentation",
    "elbow_k",
    "fit_segments",
    "rfm_matrix",
    "segment_name",
]

RFM_COLUMNS = ("recency_days", "txn_count_365d", "spend_amount_365d")


@dataclass(frozen=True)
class SegmentOptions:
    """Options of the segmentation.

    Attributes:
        k_min / k_max: k range whose inertia (elbow) and silhouette are reported.
        k: the k used unless `choose_k` (clamped into the range).
        choose_k: use the k with the best silhouette instead of `k`.
        silhouette_sample: rows sampled to score the silhouette.
        max_fit_rows: rows sampled to fit the centroids (all rows are then assigned).
        recency_cap_days: recency given to customers with no transaction in the TTL.
        seed: random seed.
    """

    k_min: int = 2
    k_max: int = 10
    k: int = 4
    choose_k: bool = False
    silhouette_sample: int = 10_000
    max_fit_rows: int = 200_000
    recency_cap_days: int = 365
    seed: int = 7


@dataclass
class Segmentation:
    """A fitted segmentation.

    Attributes:
        k_: the k used (configured, or the best silhouette when asked to choose).
        best_k_: the k with the best silhouette.
        elbow_k_: the k at the elbow of the inertia curve.
        inertia_ / silhouette_: k -> value.
        labels_: segment per input row (0 = most valuable).
        names_: segment -> name.
        profile_: one row per segment: size, median R/F/M, name.
    """

    k_: int
    elbow_k_: int
    inertia_: dict[int, float]
    silhouette_: dict[int, float]
    labels_: np.ndarray
    names_: dict[int, str]
    profile_: pd.DataFrame = field(repr=False)
    best_k_: int = 0


def rfm_matrix(df: pd.DataFrame, recency_cap_days: int = 365) -> np.ndarray:
    """Standardised log R, F, M (customers without transactions get the capped recency, F = M = 0)."""
    missing = [c for c in RFM_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"snapshot lacks the RFM column(s) {missing}", hint="build it with `cdna features snapshot`"
        )
    r = np.log1p(df["recency_days"].astype("float64").fillna(recency_cap_days).clip(lower=0).to_numpy())
    f = np.log1p(df["txn_count_365d"].astype("float64").fillna(0).clip(lower=0).to_numpy())
    m = np.log1p(df["spend_amount_365d"].astype("float64").fillna(0).clip(lower=0).to_numpy())
    x = np.column_stack([r, f, m])
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return np.asarray((x - x.mean(axis=0)) / sd)


def elbow_k(inertia: dict[int, float]) -> int:
    """The k farthest below the straight line from the first to the last point of the inertia curve."""
    ks = sorted(inertia)
    if len(ks) < 3:
        return ks[0]
    x = np.array(ks, dtype=float)
    y = np.array([inertia[k] for k in ks], dtype=float)
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / ((y.max() - y.min()) or 1.0)
    line = yn[0] + (yn[-1] - yn[0]) * xn
    return int(ks[int(np.argmax(line - yn))])


def segment_name(recency_median: float, value_ratio: float) -> str:
    """Name a segment from its median recency (days) and value (median F and M over the bank's, averaged)."""
    if recency_median > 180 and value_ratio < 1:
        return "이탈 (lost)"
    if recency_median > 90:
        return "이탈 위험 우량 (at risk)" if value_ratio >= 1 else "휴면 (hibernating)"
    if recency_median > 30:
        return "관심 필요 (needs attention)" if value_ratio >= 1 else "이탈 징후 (about to sleep)"
    if value_ratio >= 1.3:
        return "핵심 우량 (champions)"
    if value_ratio >= 0.8:
        return "충성 (loyal)"
    return "저활동 (low value)"


def fit_segments(df: pd.DataFrame, opts: SegmentOptions) -> Segmentation:
    """Fit K-means for every k in range (elbow, silhouette), use the configured k, assign and name every row."""
    x = rfm_matrix(df, opts.recency_cap_days)
    n = len(x)
    if n < opts.k_min + 1:
        raise InputError(f"only {n} customer(s): too few to segment into at least {opts.k_min} groups")
    rng = np.random.default_rng(opts.seed)
    fit_x = x[rng.choice(n, opts.max_fit_rows, replace=False)] if n > opts.max_fit_rows else x
    sample = rng.choice(len(fit_x), min(opts.silhouette_sample, len(fit_x)), replace=False)
    inertia: dict[int, float] = {}
    sil: dict[int, float] = {}
    models: dict[int, KMeans] = {}
    k_max = min(opts.k_max, len(np.unique(fit_x, axis=0)) - 1)
    for k in range(opts.k_min, max(k_max, opts.k_min) + 1):
        km = KMeans(n_clusters=k, n_init=3, random_state=opts.seed).fit(fit_x)
        models[k] = km
        inertia[k] = float(km.inertia_)
        labels = km.labels_[sample]
        sil[k] = float(silhouette_score(fit_x[sample], labels)) if len(set(labels)) > 1 else -1.0
    best_sil = max(sil, key=lambda k: sil[k])
    best = best_sil if opts.choose_k else min(max(opts.k, min(models)), max(models))
    raw = models[best].predict(x)
    # order segments by value (F + M − R) so that segment 0 is the most valuable
    centers = models[best].cluster_centers_
    value = centers[:, 1] + centers[:, 2] - centers[:, 0]
    order = np.argsort(-value)
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    labels = remap[raw]
    prof = pd.DataFrame(
        {
            "segment": labels,
            "recency_days": df["recency_days"].astype("float64").fillna(opts.recency_cap_days).to_numpy(),
            "frequency": df["txn_count_365d"].astype("float64").fillna(0).to_numpy(),
            "monetary": df["spend_amount_365d"].astype("float64").fillna(0).to_numpy(),
        }
    )
    f_all = max(float(prof["frequency"].median()), 1e-9)
    m_all = max(float(prof["monetary"].median()), 1e-9)
    prof = prof.groupby("segment").agg(
        customers=("frequency", "size"),
        recency_median=("recency_days", "median"),
        frequency_median=("frequency", "median"),
        monetary_median=("monetary", "median"),
    )
    prof["share"] = prof["customers"] / n
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    for seg, row in prof.iterrows():
        value = (row["frequency_median"] / f_all + row["monetary_median"] / m_all) / 2
        base = segment_name(float(row["recency_median"]), float(value))
        used[base] = used.get(base, 0) + 1
        names[int(str(seg))] = base if used[base] == 1 else f"{base} {used[base]}"
    prof["name"] = [names[int(s)] for s in prof.index]
    return Segmentation(best, elbow_k(inertia), inertia, sil, labels, names, prof.reset_index(), best_sil)
