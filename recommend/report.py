"""The evaluation report: one self-contained HTML file with plots (gain/lift, ablation, importance, segments)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import pandas as pd

from cdna.core.lake import atomic_write_text

__all__ = ["write_report"]

_LABELS = {
    "model": "LightGBM (all features)",
    "structured_only": "LightGBM (structured only)",
    "popularity": "popularity (per segment)",
    "champion": "champion",
}


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"/>'


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
    out.append(("Gain and lift", _png(fig)))
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
    out.append(("Ablation", _png(fig)))
    if importance is not None and len(importance):
        top = importance.head(20)[::-1]
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.barh(top.index, top.to_numpy())
        ax.set(title="feature importance (total gain)", xlabel="gain")
        out.append(("Feature importance", _png(fig)))
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
        out.append(("Per segment", _png(fig)))
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
        out.append(("Calibration", _png(fig)))
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
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for n in notes or []:
        parts.append(f"<p>{html.escape(n)}</p>")
    if gate:
        parts.append(
            "<h2>Gate decision</h2><ul>" + "".join(f"<li>{html.escape(g)}</li>" for g in gate) + "</ul>"
        )
    table = pd.DataFrame(ev.metrics).rename(columns=_LABELS)
    parts.append("<h2>Holdout metrics</h2>" + table.to_html(float_format=lambda v: f"{v:.4f}"))
    for name, img in _plots(ev, importance, k):
        parts.append(f"<h2>{html.escape(name)}</h2>{img}")
    if "model" in ev.products:
        parts.append(
            "<h2>Per product (LightGBM)</h2>"
            + ev.products["model"].to_html(index=False, float_format=lambda v: f"{v:.3f}")
        )
    for name, seg in ev.segments.items():
        parts.append(
            f"<h2>Per segment — {html.escape(_LABELS.get(name, name))}</h2>"
            + seg.to_html(index=False, float_format=lambda v: f"{v:.4f}")
        )
    doc = (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )
    return atomic_write_text(path, doc)
