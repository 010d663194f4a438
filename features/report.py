"""The segment report: one self-contained HTML file with matplotlib plots embedded as base64 PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cdna.core.lake import atomic_write_text  # noqa: E402
from cdna.core.report import figure, render_page  # noqa: E402
from cdna.features.segments import Segmentation  # noqa: E402

__all__ = ["render_report", "write_report"]


def _img(fig: plt.Figure, alt: str, heading: str = "") -> dict[str, str]:
    return {"alt": alt, "src": figure(fig), "heading": heading}


def _curves(seg: Segmentation) -> dict[str, str]:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    ks = sorted(seg.inertia_)
    axes[0].plot(ks, [seg.inertia_[k] for k in ks], "o-")
    axes[0].axvline(seg.elbow_k_, color="grey", ls="--", label=f"elbow k={seg.elbow_k_}")
    axes[0].set(title="Elbow: inertia by k", xlabel="k", ylabel="inertia")
    axes[0].legend()
    axes[1].plot(ks, [seg.silhouette_[k] for k in ks], "o-", color="tab:green")
    axes[1].axvline(seg.k_, color="grey", ls="--", label=f"chosen k={seg.k_}")
    axes[1].set(title="Silhouette by k", xlabel="k", ylabel="silhouette")
    axes[1].legend()
    return _img(fig, "elbow and silhouette curves")


def _rfm_boxes(df: pd.DataFrame, seg: Segmentation) -> dict[str, str]:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for ax, (col, title) in zip(
        axes,
        [
            ("recency_days", "Recency (days)"),
            ("txn_count_365d", "Frequency (365d)"),
            ("spend_amount_365d", "Monetary (spend 365d)"),
        ],
        strict=True,
    ):
        data = [df.loc[seg.labels_ == s, col].dropna().to_numpy() for s in range(seg.k_)]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, seg.k_ + 1), [str(s) for s in range(seg.k_)])
        ax.set(title=title, xlabel="segment")
    return _img(fig, "RFM distributions per segment")


def _shares(df: pd.DataFrame, seg: Segmentation, col: str, title: str) -> dict[str, str]:
    if col not in df.columns or df[col].isna().all():
        return {"alt": f"(no {col} column)", "src": "", "heading": ""}
    tab = pd.crosstab(seg.labels_, df[col].fillna("unknown"), normalize="index")
    fig, ax = plt.subplots(figsize=(10, 3.5))
    tab.plot(kind="bar", stacked=True, ax=ax, width=0.8)
    ax.set(title=title, xlabel="segment", ylabel="share")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    return _img(fig, title)


def _means(df: pd.DataFrame, seg: Segmentation, prefix: str, title: str) -> dict[str, str]:
    cols = [c for c in df.columns if c.startswith(prefix)]
    if not cols:
        return {"alt": f"(no {prefix}* columns)", "src": "", "heading": ""}
    tab = df[cols].astype("float64").groupby(seg.labels_).mean()
    tab.columns = [c[len(prefix) :] for c in cols]
    fig, ax = plt.subplots(figsize=(12, 0.5 + 0.5 * len(tab)))
    im = ax.imshow(tab.fillna(0).to_numpy(), aspect="auto", cmap="Blues")
    ax.set_xticks(range(len(tab.columns)), tab.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(tab)), [f"segment {s}" for s in tab.index])
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    return _img(fig, title)


def render_report(df: pd.DataFrame, seg: Segmentation, title: str, notes: list[str] | None = None) -> str:
    """The HTML text of the report for snapshot rows `df` segmented by `seg`."""
    prof = seg.profile_.copy()
    if "churn_risk" in df.columns:
        prof["churn_risk_mean"] = (
            pd.Series(df["churn_risk"].astype("float64").to_numpy()).groupby(seg.labels_).mean().to_numpy()
        )
    channel = "app_share_90d"
    channel_plot = None
    if channel in df.columns:
        fig, ax = plt.subplots(figsize=(6, 3))
        df[channel].astype("float64").groupby(seg.labels_).mean().plot(kind="bar", ax=ax, color="tab:purple")
        ax.set(title="Channel: mean app share of web/app visits (90d)", xlabel="segment", ylabel="app share")
        channel_plot = _img(fig, "channel by segment")
    figures = [
        _curves(seg),
        {**_rfm_boxes(df, seg), "heading": "RFM per segment"},
        {**_shares(df, seg, "age_band", "Age band by segment"), "heading": "Profiles"},
        _shares(df, seg, "gender", "Gender by segment"),
        *([channel_plot] if channel_plot else []),
        {
            **_means(df, seg, "spend_share_", "Mean spend share by memo category"),
            "heading": "Spend category shares (90 days)",
        },
    ]
    return render_page(
        "segments.html",
        title=title,
        k=seg.k_,
        elbow_k=seg.elbow_k_,
        notes=notes or [],
        profile_table=prof.to_html(index=False, float_format=lambda v: f"{v:,.2f}", classes="t"),
        curve=[
            {"k": k, "inertia": seg.inertia_[k], "silhouette": seg.silhouette_[k]}
            for k in sorted(seg.inertia_)
        ],
        figures=figures,
    )


def write_report(
    df: pd.DataFrame, seg: Segmentation, folder: Path, title: str, notes: list[str] | None = None
) -> Path:
    """Write `folder/segments.html` and `folder/segments.csv` (profile per segment); returns the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "segments.html"
    atomic_write_text(path, render_report(df, seg, title, notes))
    atomic_write_text(folder / "segments.csv", seg.profile_.to_csv(index=False))
    return path
