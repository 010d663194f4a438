"""The evaluation report: one self-contained HTML file with plots (gain/lift, ablation, importance, segments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cdna.core.lake import atomic_write_text
from cdna.core.report import figure, render_page

__all__ = ["write_report"]

_LABELS = {
    "model": "LightGBM (전체 피처)",
    "structured_only": "LightGBM (정형 데이터만)",
    "popularity": "인기 상품 (세그먼트별)",
    "champion": "현재 챔피언",
}


def _metric_label(name: str) -> str:
    """Korean name of a metric column ("map@5" → "MAP@5 (평균 정밀도)")."""
    base, _, k = name.partition("@")
    words = {
        "map": "MAP@{k} (평균 정밀도)",
        "ndcg": "NDCG@{k} (순위 품질)",
        "recall": "재현율@{k}",
        "hitrate": "적중률@{k}",
        "precision": "정밀도@{k}",
        "coverage": "상품 커버리지",
        "lists": "평가 고객·시점 수",
        "lists_with_positive": "가입이 있던 목록 수",
        "positives": "실제 가입 건수",
        "calibration_ece": "보정 오차 (ECE)",
        "segment": "세그먼트",
        "product_id": "상품",
        "recommended": "추천 횟수",
        "hits": "적중 건수",
    }
    return words.get(base, name).format(k=k)


_COUNTS = {"lists", "lists_with_positive", "positives", "recommended", "hits"}


def _cell(column: str, value: Any) -> str:
    """Counts as whole numbers with separators, rates with three decimals, missing as "–" (never NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if column.partition("@")[0] in _COUNTS or isinstance(value, int | bool):
        return f"{int(round(float(value))):,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(frame: pd.DataFrame, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A frame as {head, rows} of display strings with Korean column labels (and product/segment names)."""
    names = names or {}
    head = [_metric_label(str(c)) for c in frame.columns]
    rows = [
        [
            names.get(str(v), str(v)) if c in ("product_id", "segment") else _cell(str(c), v)
            for c, v in zip(frame.columns, row, strict=True)
        ]
        for row in frame.itertuples(index=False)
    ]
    return {"head": head, "rows": rows}


def _plots(ev: Any, importance: pd.Series | None, k: int) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cdna.core.report import korean_font

    korean_font()
    out = []
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, g in ev.gains.items():
        a.plot(g["share"], g["gain"], label=_LABELS.get(name, name))
        b.plot(g["share"], g["lift"], label=_LABELS.get(name, name))
    a.plot([0, 1], [0, 1], "k:", label="무작위")
    a.set(xlabel="점수 상위 후보 비율", ylabel="포착한 가입 비율", title="누적 이득")
    b.set(xlabel="점수 상위 후보 비율", ylabel="향상도 (배)", title="향상도")
    a.legend(fontsize=8)
    out.append(("누적 이득과 향상도", figure(fig)))
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
    ax.set_xticks(
        [j + width * (len(names) - 1) / 2 for j in range(len(metrics))], [_metric_label(m) for m in metrics]
    )
    ax.set(title="통화·적요 신호가 더하는 것 (모델 비교)")
    ax.legend(fontsize=8)
    out.append(("모델 비교", figure(fig)))
    if importance is not None and len(importance):
        top = importance.head(20)[::-1]
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.barh(top.index, top.to_numpy())
        ax.set(title="피처 중요도 (누적 이득)", xlabel="이득")
        out.append(("피처 중요도", figure(fig)))
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
        ax.set(title=f"세그먼트별 {_metric_label(col)}", ylabel=_metric_label(col))
        ax.legend(fontsize=8)
        out.append(("세그먼트별 성능", figure(fig)))
    if ev.calibration is not None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot(ev.calibration["predicted"], ev.calibration["observed"], "o-")
        hi = float(max(ev.calibration["predicted"].max(), ev.calibration["observed"].max()))
        ax.plot([0, hi], [0, hi], "k:")
        ax.set(
            xlabel="예측 가입 확률",
            ylabel="실제 가입률",
            title=f"확률 보정 (ECE {ev.ece:.4f})",
        )
        out.append(("확률 보정", figure(fig)))
    return out


def _headline(ev: Any, k: int, gate: list[str]) -> tuple[str, list[str]]:
    """What the evaluation found, in one sentence, and what needs a person's attention."""
    key = f"map@{k}"
    m = ev.metrics
    model = m["model"].get(key, 0.0)
    parts = [f"LightGBM {_metric_label(key)} {model:.3f}"]
    attention = []
    for other in ("popularity", "structured_only", "champion"):
        base = m.get(other, {}).get(key)
        if base:
            parts.append(f"{_LABELS[other]} 대비 {model / base:.2f}배")
            if other == "popularity" and model <= base:
                attention.append("모델이 인기 상품 기준보다 낫지 않습니다: 데이터 기간과 라벨을 확인하세요.")
    decision = next((g for g in reversed(gate) if "promot" in g.lower()), None)
    if gate:
        promoted = (
            decision is not None and "not promoted" not in decision.lower() and "promoted" in decision.lower()
        )
        parts.append("새 모델 승격" if promoted else "기존 챔피언 유지")
        if not promoted:
            attention.append("도전 모델이 승격 기준을 넘지 못했습니다 (아래 판단 근거).")
    return " · ".join(parts), attention


def write_report(
    path: Path,
    title: str,
    ev: Any,
    k: int,
    importance: pd.Series | None = None,
    notes: list[str] | None = None,
    gate: list[str] | None = None,
) -> Path:
    """Write the HTML evaluation report to `path` (Korean labels, KST time, long tables collapsed)."""
    from datetime import UTC, datetime

    from cdna.core.config import load_products

    products = {p.id: p.name for p in load_products().products}
    headline, attention = _headline(ev, k, gate or [])
    metrics = pd.DataFrame(ev.metrics).rename(columns=_LABELS)
    metrics.insert(0, "지표", [_metric_label(str(i)) for i in metrics.index])
    metric_rows = [
        [str(row[0])] + [_cell(str(idx), v) for v in row[1:]]
        for idx, row in zip(metrics.index, metrics.itertuples(index=False), strict=True)
    ]
    doc = render_page(
        "recommend.html",
        title=title,
        headline=headline,
        attention=attention,
        created=datetime.now(UTC),
        notes=notes or [],
        gate=gate or [],
        metrics={"head": list(metrics.columns), "rows": metric_rows},
        plots=_plots(ev, importance, k),
        products_table=_table(ev.products["model"], products) if "model" in ev.products else None,
        segment_tables=[(_LABELS.get(name, name), _table(seg)) for name, seg in ev.segments.items()],
    )
    return atomic_write_text(path, doc)
