"""The segment report: one self-contained HTML file with matplotlib plots embedded as base64 PNG."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cdna.contracts.labels import segment_label  # noqa: E402
from cdna.core.lake import atomic_write_text  # noqa: E402
from cdna.core.report import figure, korean_font, render_page  # noqa: E402
from cdna.features.segments import Segmentation  # noqa: E402

__all__ = ["render_report", "segmentation_curves", "write_report"]


_PROFILE = {
    "segment": "세그먼트",
    "name": "이름",
    "customers": "고객 수",
    "share": "비중",
    "recency_median": "최근 거래 경과일 (중앙값)",
    "frequency_median": "연간 거래 건수 (중앙값)",
    "monetary_median": "연간 지출액 (중앙값, 원)",
    "churn_risk_mean": "이탈 위험 (평균)",
}


def _profile_table(prof: pd.DataFrame) -> dict[str, list]:
    """The per-segment profile with Korean headings, counts as integers, shares as %, names in Korean."""
    cols = [c for c in _PROFILE if c in prof.columns] + [c for c in prof.columns if c not in _PROFILE]
    rows = []
    for rec in prof[cols].to_dict("records"):
        row = []
        for c in cols:
            v = rec[c]
            if v is None or (isinstance(v, float) and v != v):
                row.append("–")
            elif c == "name":
                row.append(segment_label(str(v)) or str(v))
            elif c == "share" or c == "churn_risk_mean":
                row.append(f"{float(v):.0%}")
            elif isinstance(v, int | float):
                row.append(f"{round(float(v)):,}")
            else:
                row.append(str(v))
        rows.append(row)
    return {"head": [_PROFILE.get(c, c) for c in cols], "rows": rows}


def _img(fig: plt.Figure, alt: str, heading: str = "") -> dict[str, str]:
    return {"alt": alt, "src": figure(fig), "heading": heading}


def segmentation_curves(seg: Segmentation) -> plt.Figure:
    """The elbow and silhouette curves of a segmentation, with the chosen k (segment and type reports)."""
    korean_font()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    ks = sorted(seg.inertia_)
    axes[0].plot(ks, [seg.inertia_[k] for k in ks], "o-")
    axes[0].axvline(seg.elbow_k_, color="grey", ls="--", label=f"팔꿈치 k={seg.elbow_k_}")
    axes[0].set(title="k별 군집 내 거리 합 (팔꿈치)", xlabel="세그먼트 수 k", ylabel="군집 내 거리 합")
    axes[0].legend()
    axes[1].plot(ks, [seg.silhouette_[k] for k in ks], "o-", color="tab:green")
    axes[1].axvline(seg.k_, color="grey", ls="--", label=f"선택 k={seg.k_}")
    axes[1].set(title="k별 실루엣 점수", xlabel="세그먼트 수 k", ylabel="실루엣")
    axes[1].legend()
    return fig


def _curves(seg: Segmentation) -> dict[str, str]:
    return _img(segmentation_curves(seg), "세그먼트 수 선택 곡선")


def _rfm_boxes(df: pd.DataFrame, seg: Segmentation) -> dict[str, str]:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for ax, (col, title) in zip(
        axes,
        [
            ("recency_days", "최근 거래 경과일"),
            ("txn_count_365d", "연간 거래 건수"),
            ("spend_amount_365d", "연간 지출액 (원)"),
        ],
        strict=True,
    ):
        data = [df.loc[seg.labels_ == s, col].dropna().to_numpy() for s in range(seg.k_)]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, seg.k_ + 1), [str(s) for s in range(seg.k_)])
        ax.set(title=title, xlabel="세그먼트")
    return _img(fig, "세그먼트별 RFM 분포")


def _shares(df: pd.DataFrame, seg: Segmentation, col: str, title: str) -> dict[str, str]:
    if col not in df.columns or df[col].isna().all():
        return {"alt": f"({col} 열이 없어 생략)", "src": "", "heading": ""}
    from cdna.contracts.labels import value_label

    tab = pd.crosstab(
        seg.labels_, df[col].fillna("미상").map(lambda v: value_label(col, v)), normalize="index"
    )
    fig, ax = plt.subplots(figsize=(10, 3.5))
    tab.plot(kind="bar", stacked=True, ax=ax, width=0.8)
    ax.set(title=title, xlabel="세그먼트", ylabel="비중")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    return _img(fig, title)


def _means(
    df: pd.DataFrame, seg: Segmentation, prefix: str, title: str, names: dict[str, str]
) -> dict[str, str]:
    cols = [c for c in df.columns if c.startswith(prefix)]
    if not cols:
        return {"alt": f"({prefix}* 열이 없어 생략)", "src": "", "heading": ""}
    tab = df[cols].astype("float64").groupby(seg.labels_).mean()
    tab.columns = [names.get(c[len(prefix) :], c[len(prefix) :]) for c in cols]
    fig, ax = plt.subplots(figsize=(12, 0.5 + 0.5 * len(tab)))
    im = ax.imshow(tab.fillna(0).to_numpy(), aspect="auto", cmap="Blues")
    ax.set_xticks(range(len(tab.columns)), tab.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(tab)), [f"세그먼트 {s}" for s in tab.index])
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    return _img(fig, title)


def _memo_names() -> dict[str, str]:
    from cdna.core.config import load_memo_categories

    return {c.id: c.name for c in load_memo_categories().categories}


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
        ax.set(title="웹·앱 방문 중 앱 비중 (90일 평균)", xlabel="세그먼트", ylabel="앱 비중")
        channel_plot = _img(fig, "세그먼트별 채널")
    figures = [
        _curves(seg),
        {**_rfm_boxes(df, seg), "heading": "세그먼트별 RFM"},
        {**_shares(df, seg, "age_band", "세그먼트별 연령대"), "heading": "고객 구성"},
        _shares(df, seg, "gender", "세그먼트별 성별"),
        *([channel_plot] if channel_plot else []),
        {
            **_means(df, seg, "spend_share_", "적요 분류별 평균 지출 비중", _memo_names()),
            "heading": "지출 분류 비중 (90일)",
        },
    ]
    sizes = prof.sort_values("customers", ascending=False)
    top = sizes.iloc[0]
    headline = (
        f"고객 {int(prof['customers'].sum()):,}명을 RFM(최근성·빈도·금액)으로 {seg.k_}개 세그먼트로 나눴습니다. "
        f"가장 큰 세그먼트는 '{segment_label(str(top['name']))}' ({float(top['share']):.0%})입니다."
    )
    best = max(seg.silhouette_.values()) if seg.silhouette_ else 0.0
    attention = [f"실루엣 점수가 {best:.2f}로 낮아 세그먼트 구분이 뚜렷하지 않습니다."] if best < 0.2 else []
    return render_page(
        "segments.html",
        title=title,
        k=seg.k_,
        elbow_k=seg.elbow_k_,
        notes=notes or [],
        headline=headline,
        attention=attention,
        created=datetime.now(UTC),
        profile=_profile_table(prof),
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
