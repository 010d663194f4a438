"""The segment report: one self-contained HTML file with matplotlib plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cdna.core.lake import atomic_write_text  # noqa: E402
from cdna.features.segments import Segmentation  # noqa: E402

__all__ = ["render_report", "write_report"]


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _img(fig: plt.Figure, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _curves(seg: Segmentation) -> str:
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


def _rfm_boxes(df: pd.DataFrame, seg: Segmentation) -> str:
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


def _shares(df: pd.DataFrame, seg: Segmentation, col: str, title: str) -> str:
    if col not in df.columns or df[col].isna().all():
        return f"<p>(no {html.escape(col)} column)</p>"
    tab = pd.crosstab(seg.labels_, df[col].fillna("unknown"), normalize="index")
    fig, ax = plt.subplots(figsize=(10, 3.5))
    tab.plot(kind="bar", stacked=True, ax=ax, width=0.8)
    ax.set(title=title, xlabel="segment", ylabel="share")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    return _img(fig, title)


def _means(df: pd.DataFrame, seg: Segmentation, prefix: str, title: str) -> str:
    cols = [c for c in df.columns if c.startswith(prefix)]
    if not cols:
        return f"<p>(no {html.escape(prefix)}* columns)</p>"
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
    table = prof.to_html(index=False, float_format=lambda v: f"{v:,.2f}", classes="t")
    curve_rows = "".join(
        f"<tr><td>{k}</td><td>{seg.inertia_[k]:,.1f}</td><td>{seg.silhouette_[k]:.3f}</td></tr>"
        for k in sorted(seg.inertia_)
    )
    channel = "app_share_90d"
    channel_plot = ""
    if channel in df.columns:
        fig, ax = plt.subplots(figsize=(6, 3))
        df[channel].astype("float64").groupby(seg.labels_).mean().plot(kind="bar", ax=ax, color="tab:purple")
        ax.set(title="Channel: mean app share of web/app visits (90d)", xlabel="segment", ylabel="app share")
        channel_plot = _img(fig, "channel by segment")
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes or [])
    return f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}} table.t{{border-collapse:collapse}}
table.t td,table.t th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>K-means on standardised log recency, frequency and monetary (RFM). Chosen <b>k = {seg.k_}</b> by the best
silhouette; the elbow of the inertia curve is at <b>k = {seg.elbow_k_}</b>. Segment 0 is the most valuable.</p>
<ul>{notes_html}</ul>
<h2>Segments</h2>{table}
<h2>Choosing k</h2><table class="t"><tr><th>k</th><th>inertia</th><th>silhouette</th></tr>{curve_rows}</table>
{_curves(seg)}
<h2>RFM per segment</h2>{_rfm_boxes(df, seg)}
<h2>Profiles</h2>{_shares(df, seg, "age_band", "Age band by segment")}
{_shares(df, seg, "gender", "Gender by segment")}
{channel_plot}
<h2>Spend category shares (90 days)</h2>{_means(df, seg, "spend_share_", "Mean spend share by memo category")}
</body></html>"""


def write_report(
    df: pd.DataFrame, seg: Segmentation, folder: Path, title: str, notes: list[str] | None = None
) -> Path:
    """Write `folder/segments.html` and `folder/segments.csv` (profile per segment); returns the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "segments.html"
    atomic_write_text(path, render_report(df, seg, title, notes))
    atomic_write_text(folder / "segments.csv", seg.profile_.to_csv(index=False))
    return path
