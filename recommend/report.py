"""The evaluation report: one self-contained HTML file with plots (gain/lift, ablation, importance, segments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cdna.core.lake import atomic_write_text
from cdna.core.report import figure, render_page

__all__ = ["write_report"]

_LABELS = {
    "model": "LightGBM (all features)",
    "structured_only": "LightGBM (structured only)",
    "popularity": "popularity (per segment)",
    "champion": "champion",
}


def _plots(ev: Any, importance: pd.Series | None, k: int) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, g in ev.gains.items():
        a.plot(g["share"], g["gain"], label=_LABELS.get(name, name))
        b.plot(g["share"], g["lift"], label=_LABELS.get(name, name))
    a.plot([0, 1], [0, 1], "k:", label="random")
    a.set(xlabel="share of candidates (by score)", ylabel="share of opens captured", title="cumulative gain")
    b.set(xlabel="share of candidates (by score)", ylabel="lift", title="lift")
    a.legend(fontsize=8)
    out.append(("Gain and lift", figure(fig)))
    metrics = [f"map@{k}", f"ndcg@{k}", f"recall@{k}", f"hitrate@{k}"]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    names = list(ev.metrics)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        ax.bar(
            [j + i * width for j in range(len(metrics))],
            [ev.metrics[name].get(m, 0) for m in metrics],
            width,
            label=_LABELS.get(name, name),
        )
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(metrics))], metrics)
    ax.set(title="ablation: what calls and memos add")
    ax.legend(fontsize=8)
    out.append(("Ablation", figure(fig)))
    if importance is not None and len(importance):
        top = importance.head(20)[::-1]
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.barh(top.index, top.to_numpy())
        ax.set(title="feature importance (total gain)", xlabel="gain")
        out.append(("Feature importance", figure(fig)))
    seg = ev.segments.get("model")
    if seg is not None and len(seg):
        fig, ax = plt.subplots(figsize=(9, 3.5))
        col = f"map@{k}"
        for i, name in enumerate(names):
            s = ev.segments[name].set_index("segment")[col].reindex(seg["segment"])
            ax.bar(
                [j + i * width for j in range(len(s))],
                s.fillna(0).to_numpy(),
                width,
                label=_LABELS.get(name, name),
            )
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(seg))], seg["segment"].astype(str))
        ax.set(title=f"{col} per segment", ylabel=col)
        ax.legend(fontsize=8)
        out.append(("Per segment", figure(fig)))
    if ev.calibration is not None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot(ev.calibration["predicted"], ev.calibration["observed"], "o-")
        hi = float(max(ev.calibration["predicted"].max(), ev.calibration["observed"].max()))
        ax.plot([0, hi], [0, hi], "k:")
        ax.set(
            xlabel="predicted open probability",
            ylabel="observed open rate",
            title=f"calibration (ECE {ev.ece:.4f})",
        )
        out.append(("Calibration", figure(fig)))
    return out


def write_report(
    path: Path,
    title: str,
    ev: Any,
    k: int,
    importance: pd.Series | None = None,
    notes: list[str] | None = None,
    gate: list[str] | None = None,
) -> Path:
    """Write the HTML evaluation report to `path`."""
    doc = render_page(
        "recommend.html",
        title=title,
        notes=notes or [],
        gate=gate or [],
        metrics_table=pd.DataFrame(ev.metrics)
        .rename(columns=_LABELS)
        .to_html(float_format=lambda v: f"{v:.4f}"),
        plots=_plots(ev, importance, k),
        products_table=(
            ev.products["model"].to_html(index=False, float_format=lambda v: f"{v:.3f}")
            if "model" in ev.products
            else None
        ),
        segment_tables=[
            (_LABELS.get(name, name), seg.to_html(index=False, float_format=lambda v: f"{v:.4f}"))
            for name, seg in ev.segments.items()
        ],
    )
    return atomic_write_text(path, doc)
