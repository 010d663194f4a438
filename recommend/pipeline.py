"""Wiring of the recommender: training data → models → evaluation on the same time-split holdout.

Only this module and the registry/scoring edges touch the lake; labels, dataset, models and metrics are
pure table-in/table-out functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdna.core.config import RecommendConfig
from cdna.core.lake import Lake
from cdna.recommend.dataset import (
    FeatureGroups,
    build_candidates,
    data_window,
    feature_groups,
    load_customers,
    load_holdings,
    point_in_time_features,
)
from cdna.recommend.labels import check_products, entities, monthly_as_of_dates, split_dates
from cdna.recommend.metrics import (
    calibration,
    gain_curve,
    per_product,
    per_segment,
    rank_lists,
    ranking_metrics,
)
from cdna.recommend.models import LightGBMRecommender, PopularityRecommender

__all__ = [
    "Evaluation",
    "ModelBundle",
    "TrainingData",
    "build_training_data",
    "evaluate",
    "fit_bundle",
    "reference_sample",
]


@dataclass
class TrainingData:
    """Candidate rows split by time, with the feature groups and lineage.

    Attributes:
        train / holdout: candidate frames (label included) of the earlier and the later as-of dates.
        groups: feature columns by origin.
        train_dates / holdout_dates: the monthly as-of dates.
        lineage: feature-store lineage of the training set; timings in seconds.
        outcome_rows: the offer-outcome rows that joined the training rows (customer_id, as_of,
            product_id, label, source), or None.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    groups: FeatureGroups
    train_dates: list[date]
    holdout_dates: list[date]
    lineage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    outcome_rows: pd.DataFrame | None = None


@dataclass
class ModelBundle:
    """Everything a registered model version needs to score and be judged later.

    Attributes:
        model: the LightGBM recommender.
        popularity: the per-segment popularity baseline trained on the same rows.
        groups: feature columns by origin; structured_only says which set the model uses.
        segment_column / k / horizon_days: settings it was trained with.
        trained_at: UTC ISO time; train_dates / holdout_dates: as-of dates.
        metrics: holdout metrics of the model at training time.
        reference: feature -> sample of values at the last training as-of (drift reference).
        view_versions: feature view versions of the training set.
        catalogue: product ids known at training time.
    """

    model: LightGBMRecommender
    popularity: PopularityRecommender
    groups: FeatureGroups
    structured_only: bool
    segment_column: str
    k: int
    horizon_days: int
    trained_at: str
    train_dates: list[str]
    holdout_dates: list[str]
    metrics: dict[str, float] = field(default_factory=dict)
    reference: dict[str, np.ndarray] = field(default_factory=dict)
    view_versions: dict[str, str] = field(default_factory=dict)
    catalogue: list[str] = field(default_factory=list)


@dataclass
class Evaluation:
    """Holdout evaluation of several scorers on the same candidate rows.

    Attributes:
        metrics: scorer name -> metric name -> value.
        segments: scorer name -> per-segment table.
        products: scorer name -> per-product table.
        gains: scorer name -> cumulative gain table.
        calibration: reliability table of the main model and its ECE.
    """

    metrics: dict[str, dict[str, float]]
    segments: dict[str, pd.DataFrame]
    products: dict[str, pd.DataFrame]
    gains: dict[str, pd.DataFrame]
    calibration: pd.DataFrame | None = None
    ece: float | None = None

    def table(self) -> dict[str, dict[str, float]]:
        """metric -> scorer -> value (the `cdna evaluate --json` shape)."""
        out: dict[str, dict[str, float]] = {}
        for scorer, ms in self.metrics.items():
            for m, v in ms.items():
                out.setdefault(m, {})[scorer] = round(float(v), 6)
        return out


def build_training_data(
    lake: Lake, fs: Any, cfg: RecommendConfig, workdir: Path, outcomes: pd.DataFrame | None = None
) -> TrainingData:
    """Monthly as-of entities → feature store point-in-time training set → labelled candidates, split by time.

    `outcomes` (from `recommend.offers.outcome_labels`) adds one training row per answered offer, with the
    features as of the day before it was shown and the outcome's label (issue 17: the loop). They join
    the training rows only; the holdout stays the monthly open labels, so models remain comparable.
    """
    t0 = time.perf_counter()
    first, last = data_window(lake, fs.timezone)
    dates = monthly_as_of_dates(first, last, cfg.horizon_days, cfg.train_months + cfg.holdout_months)
    train_dates, hold_dates = split_dates(dates, cfg.holdout_months, cfg.horizon_days)
    customers = load_customers(lake)
    holdings = load_holdings(lake)
    check_products(holdings, fs.catalog, str(lake.raw("holdings")))
    ents = entities(customers, [*train_dates, *hold_dates])
    known = set(customers["customer_id"].astype(str))
    if outcomes is not None and len(outcomes):
        outcomes = outcomes[outcomes["customer_id"].isin(known)]
        extra = outcomes[["customer_id", "as_of"]].drop_duplicates()
        ents = pd.concat([ents, extra], ignore_index=True).drop_duplicates(["customer_id", "as_of"])
    feats, lineage = point_in_time_features(fs, lake, ents, workdir)
    t1 = time.perf_counter()
    groups = feature_groups(fs, list(feats.columns), cfg.signal_views, cfg.signal_columns)
    cands = build_candidates(feats, fs.catalog, fs.intents, cfg, groups, holdings, fs.timezone)
    is_hold = cands["as_of"].isin(hold_dates)
    train = cands.loc[cands["as_of"].isin(train_dates)]
    joined = None
    if outcomes is not None and len(outcomes):
        keys = ["customer_id", "as_of", "product_id"]
        rows = cands.drop(columns=["label"]).merge(outcomes[[*keys, "label"]], on=keys)
        train = pd.concat([train, rows], ignore_index=True)
        joined = outcomes.merge(rows[keys], on=keys)
    return TrainingData(
        train.reset_index(drop=True),
        cands.loc[is_hold].reset_index(drop=True),
        groups,
        train_dates,
        hold_dates,
        lineage,
        {"features_s": round(t1 - t0, 2), "candidates_s": round(time.perf_counter() - t1, 2)},
        joined,
    )


def reference_sample(
    frame: pd.DataFrame, columns: list[str], size: int = 5000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Per numeric feature, a sample of one row per customer at the latest as-of (the drift reference)."""
    last = frame.loc[frame["as_of"] == frame["as_of"].max()].drop_duplicates("customer_id")
    if len(last) > size:
        last = last.sample(size, random_state=seed)
    out = {}
    for c in columns:
        if c in last.columns and not c.startswith("cand_"):
            v = pd.to_numeric(last[c], errors="coerce")
            if v.notna().any():
                out[c] = v.to_numpy(dtype=float)
    return out


def fit_bundle(
    data: TrainingData,
    cfg: RecommendConfig,
    structured_only: bool = False,
    shuffle_labels: bool = False,
    view_versions: dict[str, str] | None = None,
    catalogue: list[str] | None = None,
    on_tree: Callable[[], Any] | None = None,
) -> ModelBundle:
    """Train the LightGBM recommender and the popularity baseline on the training months.

    `on_tree` is called after each boosting round (progress bars count trees, issue 18).

    `shuffle_labels` permutes the labels first: a deliberately corrupted model used to prove the gate.
    """
    train = data.train
    y = train["label"].to_numpy()
    if shuffle_labels:
        y = np.random.default_rng(cfg.seed).permutation(y)
    cols = data.groups.columns(structured_only)
    model = LightGBMRecommender(
        cols,
        cfg.objective,
        cfg.n_estimators,
        cfg.learning_rate,
        cfg.num_leaves,
        cfg.min_child_samples,
        cfg.seed,
        cfg.threads,
        cfg.negative_share,
    ).fit(train, y, callbacks=[lambda env: on_tree()] if on_tree is not None else None)
    pop = PopularityRecommender(cfg.segment_column).fit(train, y)
    return ModelBundle(
        model=model,
        popularity=pop,
        groups=data.groups,
        structured_only=structured_only,
        segment_column=cfg.segment_column,
        k=cfg.k,
        horizon_days=cfg.horizon_days,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        train_dates=[str(d) for d in data.train_dates],
        holdout_dates=[str(d) for d in data.holdout_dates],
        reference=reference_sample(train, data.groups.columns(False)),
        view_versions=dict(view_versions or {}),
        catalogue=list(catalogue or []),
    )


def evaluate(
    scorers: dict[str, Any],
    holdout: pd.DataFrame,
    k: int,
    segment_column: str,
    catalogue_size: int,
    main: str = "model",
) -> Evaluation:
    """Score the same holdout rows with each scorer (an object with `predict(frame)`) and compare."""
    metrics, segments, products, gains = {}, {}, {}, {}
    cal, ece = None, None
    seg = (
        holdout[segment_column].astype(str)
        if segment_column in holdout.columns
        else pd.Series("all", index=holdout.index)
    )
    for name, scorer in scorers.items():
        score = scorer.predict(holdout)
        ranked = rank_lists(holdout, score)
        seg_sorted = seg.to_numpy()[ranked["row"].to_numpy()]
        metrics[name] = ranking_metrics(ranked, k, catalogue_size)
        segments[name] = per_segment(ranked, seg_sorted, k)
        products[name] = per_product(ranked, k)
        gains[name] = gain_curve(holdout["label"].to_numpy(), score)
        if name == main:
            cal, ece = calibration(holdout["label"].to_numpy(), score)
            metrics[name]["calibration_ece"] = ece
    return Evaluation(metrics, segments, products, gains, cal, ece)
