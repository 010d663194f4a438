"""The campaign report: treated vs control per segment, uplift with 95% intervals, as HTML with plots or JSON."""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cdna.core.report import figure, korean_font, render_page  # noqa: E402
from cdna.recommend.campaign_run import CampaignReport  # noqa: E402

__all__ = ["report_json", "render_html"]

_OUTCOME_KO = {
    "accepted": "수락",
    "declined": "거절",
    "not_interested": "관심 없음",
    "call_back": "재연락",
    "no_answer": "응답 없음",
}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def report_json(rep: CampaignReport) -> dict[str, Any]:
    """The report as plain JSON-able data (`cdna campaign report --json`)."""
    return {
        "campaign": rep.meta,
        "overall": {k: _clean(v) for k, v in rep.overall.items()},
        "by_segment": [{k: _clean(v) for k, v in r.items()} for r in rep.by_segment.to_dict("records")],
        "by_type": [{k: _clean(v) for k, v in r.items()} for r in rep.by_type.to_dict("records")],
        "outcomes": rep.outcomes,
        "notes": rep.notes,
    }


def _uplift_plot(rows: pd.DataFrame) -> str:
    """Uplift per row with its 95% interval (the zero line is what the campaign must clear)."""
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.55 * len(rows)))
    y = range(len(rows))[::-1]
    up = rows["uplift"].to_numpy() * 100
    lo = rows["uplift_low"].to_numpy() * 100
    hi = rows["uplift_high"].to_numpy() * 100
    colors = [
        "tab:green" if a > 0 else ("tab:red" if b < 0 else "tab:gray") for a, b in zip(lo, hi, strict=True)
    ]
    for yi, u, a, b, c in zip(y, up, lo, hi, colors, strict=True):
        ax.errorbar([u], [yi], xerr=[[u - a], [b - u]], fmt="none", ecolor=c, capsize=4, lw=2)
    ax.scatter(up, list(y), c=colors, zorder=3)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(list(y), rows["segment"].tolist())
    ax.set_xlabel("전환율 차이 (처치 - 대조), %p, 95% 신뢰구간")
    ax.set_title("캠페인 효과 (uplift)")
    return figure(fig)


def _rates_plot(rows: pd.DataFrame) -> str:
    """Conversion rate of treated vs control per row."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = range(len(rows))
    w = 0.38
    ax.bar([i - w / 2 for i in x], rows["treated_conversion_rate"] * 100, w, label="처치군 (연락함)")
    ax.bar([i + w / 2 for i in x], rows["control_conversion_rate"] * 100, w, label="대조군 (연락 안 함)")
    ax.set_xticks(list(x), rows["segment"].tolist(), rotation=20, ha="right")
    ax.set_ylabel("전환율 (%)")
    ax.set_title("기간 내 상품 가입 (전환)")
    ax.legend()
    return figure(fig)


def _outcomes_plot(outcomes: dict[str, int]) -> str:
    fig, ax = plt.subplots(figsize=(6, 2.6))
    keys = [k for k in _OUTCOME_KO if k in outcomes]
    ax.barh([_OUTCOME_KO[k] for k in keys][::-1], [outcomes[k] for k in keys][::-1], color="tab:blue")
    ax.set_xlabel("처치군 고객 수")
    ax.set_title("채널 응답")
    return figure(fig)


def _pct(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v) * 100:.1f}%"


def _pp(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v) * 100:+.1f}"


def render_html(rep: CampaignReport) -> str:
    """The HTML page of a campaign report (the shared base layout, plots embedded)."""
    korean_font()
    o = rep.overall
    rows = pd.DataFrame([o, *rep.by_segment.to_dict("records")])
    if o["uplift_low"] > 0:
        verdict, cls = "효과 있음 (구간이 0보다 큼)", "ok"
    elif o["uplift_high"] < 0:
        verdict, cls = "역효과 (구간이 0보다 작음)", "failed"
    else:
        verdict, cls = "효과 불확실 (구간이 0을 포함)", "info"
    figures = [
        {"heading": "효과와 95% 신뢰구간", "src": _uplift_plot(rows)},
        {"heading": "전환율: 처치군 vs 대조군", "src": _rates_plot(rows)},
    ]
    if rep.outcomes:
        figures.append({"heading": "채널 응답", "src": _outcomes_plot(rep.outcomes)})
    outcomes = [(_OUTCOME_KO.get(k, k), n) for k, n in sorted(rep.outcomes.items(), key=lambda x: -x[1])]
    return render_page(
        "campaign.html",
        title=f"캠페인 {rep.meta['name']} — {rep.meta['product_name']}",
        headline=(
            f"처치군 전환율 {_pct(o['treated_conversion_rate'])} vs 대조군 {_pct(o['control_conversion_rate'])}: "
            f"효과 {_pp(o['uplift'])}%p (95% 신뢰구간 {_pp(o['uplift_low'])} ~ {_pp(o['uplift_high'])}%p)"
        ),
        attention=rep.notes,
        c=rep.meta,
        o=o,
        rows=rows.to_dict("records"),
        type_rows=rep.by_type.to_dict("records") if len(rep.by_type) else [],
        figures=figures,
        outcomes=outcomes,
        notes=[],
        verdict=verdict,
        verdict_class=cls,
        pct=_pct,
        pp=_pp,
    )
