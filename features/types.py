"""Customer types: named RFM clusters with profiles, and a predicted type for new customers (issue 17).

The retail study this project follows types its customers with RFM + K-means (k = 4) and predicts the type
of customers with too few purchases from what else is known (LightGBM F1 0.714 vs random forest 0.640).
Here: the segmentation's clusters are named from configs/customer_types.yaml (each archetype describes
its standardised R, F, M; clusters are matched to archetypes one to one by the Hungarian method) and
profiled (size, RFM means, top interests and intents, held products). New customers (at most
`new_max_txns` transactions) get a type predicted from demographics, first web visits, calls and memos;
LightGBM, random forest and logistic regression are compared by macro-F1 against the per-region majority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import f1_score

from cdna.core.config import CustomerTypes
from cdna.core.errors import InputError
from cdna.features.segments import Segmentation, rfm_matrix

__all__ = [
    "NEW_CUSTOMER_FEATURES",
    "TypeModelResult",
    "TypeProfile",
    "fit_type_models",
    "name_types",
    "new_customer_mask",
    "profile_types",
    "region_majority",
]

# What is known about a customer before they have transacted much (the study's "other information"):
# demographics, web visits, call intents and what their memos are spent on. Only columns that mean the
# same after two weeks as after years: shares and decayed recent counts, not totals (memo interest
# scores and call totals grow with tenure; with them the models scored below the region majority).
NEW_CUSTOMER_FEATURES = (
    "age",
    "gender",
    "region_sido",
    "household",
    "income_band",
    "occupation",
    "web_*_decay",
    "app_share_90d",
    "intent_*_90d",
    "spend_share_*",
)
CATEGORICAL = ("gender", "region_sido", "household", "income_band", "occupation")


def new_customer_mask(df: pd.DataFrame, max_txns: int) -> np.ndarray:
    """Customers with at most `max_txns` transactions in the snapshot's TTL (too few for RFM)."""
    return np.asarray(df["txn_count_365d"].fillna(0).to_numpy() <= max_txns)


def name_types(seg: Segmentation, df: pd.DataFrame, types: CustomerTypes, recency_cap: int) -> dict[int, str]:
    """Segment -> archetype name, matching standardised cluster centres to archetypes one to one.

    With more clusters than archetypes the extra clusters keep the segmentation's descriptive names.
    """
    x = rfm_matrix(df, recency_cap)
    centres = np.vstack([x[seg.labels_ == s].mean(axis=0) for s in range(seg.k_)])
    targets = np.array([[a.recency, a.frequency, a.monetary] for a in types.types], dtype=float)
    cost = ((centres[:, None, :] - targets[None, :, :]) ** 2).sum(axis=2)
    # An archetype that claims inactivity ("이탈 위험") only fits a cluster that really is inactive.
    recency = df["recency_days"].astype("float64").fillna(recency_cap).to_numpy()
    mean_recency = np.array([recency[seg.labels_ == s].mean() for s in range(seg.k_)])
    floors = np.array([a.min_recency_days for a in types.types], dtype=float)
    cost = np.where(mean_recency[:, None] >= floors[None, :], cost, 1e6)
    rows, cols = linear_sum_assignment(cost)
    names = dict(seg.names_)
    for r, c in zip(rows, cols, strict=True):
        names[int(r)] = types.types[int(c)].name
    return names


@dataclass
class TypeProfile:
    """One customer type's profile.

    Attributes:
        type_id / name / description: the type and its archetype's Korean name and description.
        customers / share: size.
        rfm: mean recency days, transactions and spend (365 days).
        interests / intents / products: the top three by lift over the bank (label, value, lift).
    """

    type_id: int
    name: str
    description: str
    customers: int
    share: float
    rfm: dict[str, float]
    interests: list[tuple[str, float, float]] = field(default_factory=list)
    intents: list[tuple[str, float, float]] = field(default_factory=list)
    products: list[tuple[str, float, float]] = field(default_factory=list)


def _top(df: pd.DataFrame, mask: np.ndarray, prefix: str, suffix: str, names: dict[str, str]) -> list:
    cols = [c for c in df.columns if c.startswith(prefix) and c.endswith(suffix)]
    if not cols or not mask.any():
        return []
    vals = df[cols].astype("float64").fillna(0)
    inside, overall = vals[mask].mean(), vals.mean()
    lift = inside / overall.replace(0, np.nan)
    out = []
    for col in lift.dropna().sort_values(ascending=False).index[:3]:
        label = col[len(prefix) : len(col) - len(suffix) if suffix else None]
        out.append((names.get(label, label), round(float(inside[col]), 4), round(float(lift[col]), 2)))
    return out


def profile_types(
    df: pd.DataFrame,
    labels: np.ndarray,
    names: dict[int, str],
    types: CustomerTypes,
    label_names: dict[str, str] | None = None,
) -> list[TypeProfile]:
    """Size, RFM means, and top interests, call intents and held products (by lift) of every type."""
    label_names = label_names or {}
    desc = {t.name: t.description for t in types.types}
    out = []
    for t in sorted(set(int(v) for v in labels)):
        m = labels == t
        rfm = {
            c: round(float(df.loc[m, c].astype("float64").mean()), 1)
            for c in ("recency_days", "txn_count_365d", "spend_amount_365d")
            if c in df.columns
        }
        out.append(
            TypeProfile(
                type_id=t,
                name=names.get(t, str(t)),
                description=desc.get(names.get(t, ""), ""),
                customers=int(m.sum()),
                share=round(float(m.mean()), 4),
                rfm=rfm,
                interests=_top(df, m, "interest_", "", label_names),
                intents=_top(df, m, "intent_", "_90d", label_names),
                products=_top(df, m, "held_", "", label_names),
            )
        )
    return out


def _columns(df: pd.DataFrame, patterns: tuple[str, ...]) -> list[str]:
    return [
        c for c in df.columns if any(fnmatch(c, p) for p in patterns) and c not in ("customer_id", "as_of")
    ]


def _encode(df: pd.DataFrame, cols: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """Numeric frame: categoricals one-hot on the training categories, numbers as floats (NaN → 0)."""
    parts = []
    for c in cols:
        if c in CATEGORICAL:
            values = df[c].astype("string").fillna("unknown")
            for v in categories[c]:
                parts.append((values == v).astype("float32").rename(f"{c}={v}"))
        else:
            parts.append(pd.to_numeric(df[c], errors="coerce").fillna(0).astype("float32").rename(c))
    return pd.concat(parts, axis=1)


def region_majority(train_region: pd.Series, train_y: np.ndarray, region: pd.Series) -> np.ndarray:
    """The per-region majority type of the training rows (the bank-wide majority for unseen regions)."""
    tab = pd.DataFrame({"r": train_region.astype(str).to_numpy(), "y": train_y})
    overall = tab["y"].mode().iloc[0]
    by = tab.groupby("r")["y"].agg(lambda s: s.mode().iloc[0])
    return np.asarray(region.astype(str).map(by).fillna(overall).to_numpy(dtype=train_y.dtype))


@dataclass
class TypeModelResult:
    """The new-customer type models compared on the same test rows.

    Attributes:
        macro_f1: model name -> macro-F1 on the test rows (including `region_majority`).
        best: the best model's name; model: it, fitted; columns: its input columns (encoded).
        features: the raw snapshot columns it reads; categories: training categories of categoricals.
        n_train / n_test: rows; classes: the types it predicts; test_kind: what the test rows are.
    """

    macro_f1: dict[str, float]
    best: str
    model: Any
    columns: list[str]
    features: list[str]
    categories: dict[str, list[str]]
    n_train: int
    n_test: int
    classes: list[int]
    test_kind: str

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predicted type ids of snapshot rows."""
        x = _encode(df, self.features, self.categories).reindex(columns=self.columns, fill_value=0)
        return np.asarray(self.model.predict(x.to_numpy()))


def _models(seed: int) -> dict[str, Any]:
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "lightgbm": LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=20,
            class_weight="balanced",
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        ),
        "random_forest": RandomForestClassifier(
            n_estimators=300, min_samples_leaf=3, class_weight="balanced", random_state=seed, n_jobs=1
        ),
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
        ),
    }


def fit_type_models(
    train: pd.DataFrame,
    train_y: np.ndarray,
    test: pd.DataFrame,
    test_y: np.ndarray,
    test_kind: str,
    seed: int = 7,
    patterns: tuple[str, ...] = NEW_CUSTOMER_FEATURES,
) -> TypeModelResult:
    """Fit LightGBM, random forest and logistic regression on `train`; macro-F1 of each on `test`.

    `train`/`test` are snapshot rows; `*_y` their type ids. The per-region majority type is scored on the
    same test rows as the bar to beat.
    """
    if len(set(train_y.tolist())) < 2 or not len(test):
        raise InputError(
            f"too few customers to train the new-customer type model ({len(train)} train, {len(test)} test rows)",
            hint="generate a larger bank (`cdna world --customers 2000`) or lower features.types_new_max_txns",
        )
    features = _columns(train, patterns)
    categories = {
        c: sorted(train[c].astype("string").fillna("unknown").unique().tolist())
        for c in features
        if c in CATEGORICAL
    }
    x_train = _encode(train, features, categories)
    x_test = _encode(test, features, categories).reindex(columns=x_train.columns, fill_value=0)
    scores: dict[str, float] = {}
    fitted: dict[str, Any] = {}
    for name, model in _models(seed).items():
        model.fit(x_train.to_numpy(), train_y)
        pred = model.predict(x_test.to_numpy())
        scores[name] = float(f1_score(test_y, pred, average="macro", zero_division=0))
        fitted[name] = model
    base = region_majority(train["region_sido"], train_y, test["region_sido"])
    scores["region_majority"] = float(f1_score(test_y, base, average="macro", zero_division=0))
    best = max(fitted, key=lambda n: scores[n])
    return TypeModelResult(
        scores,
        best,
        fitted[best],
        list(x_train.columns),
        features,
        categories,
        len(train),
        len(test),
        sorted(set(train_y.tolist())),
        test_kind,
    )
