"""The customer-type report: profiles, elbow and silhouette for every k, and the new-customer models."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cdna.core.lake import atomic_write_text  # noqa: E402
from cdna.core.report import figure, korean_font, render_page  # noqa: E402
from cdna.features.report import segmentation_curves  # noqa: E402
from cdna.features.types_run import TypesResult  # noqa: E402

__all__ = ["render_types_report", "write_types_report"]


def _curves(res: TypesResult) -> str:
    return figure(segmentation_curves(res.segmentation))


def _sizes(res: TypesResult) -> str:
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.barh([p.name for p in res.profiles][::-1], [p.customers for p in res.profiles][::-1], color="tab:blue")
    ax.set(title="유형별 고객 수", xlabel="고객 수")
    return figure(fig)


def _models(res: TypesResult) -> str:
    assert res.model is not None
    fig, ax = plt.subplots(figsize=(7, 2.8))
    names = list(res.model.macro_f1)
    vals = [res.model.macro_f1[n] for n in names]
    colors = ["tab:gray" if n == "region_majority" else "tab:blue" for n in names]
    ax.barh(names[::-1], vals[::-1], color=colors[::-1])
    ax.set(title="신규 고객 유형 예측: macro-F1", xlabel="macro-F1", xlim=(0, 1))
    return figure(fig)


def render_types_report(res: TypesResult, max_txns: int, registered: str | None = None) -> str:
    """The HTML text of the customer-type report."""
    korean_font()
    seg = res.segmentation
    figures = [
        {"heading": "엘보와 실루엣", "src": _curves(res)},
        {"heading": "유형 크기", "src": _sizes(res)},
    ]
    if res.model is not None:
        figures.append({"heading": "신규 고객 모델 비교", "src": _models(res)})
    return render_page(
        "types.html",
        title=f"Customer DNA — 고객 유형 ({res.as_of})",
        as_of=str(res.as_of),
        k=seg.k_,
        k_min=min(seg.inertia_),
        k_max=max(seg.inertia_),
        elbow_k=seg.elbow_k_,
        best_k=seg.best_k_,
        chose=res.chose_k,
        notes=res.notes,
        profiles=res.profiles,
        curve=[
            {"k": k, "inertia": seg.inertia_[k], "silhouette": seg.silhouette_[k]}
            for k in sorted(seg.inertia_)
        ],
        figures=figures,
        model=res.model,
        model_rows=sorted(res.model.macro_f1.items(), key=lambda x: -x[1]) if res.model else [],
        registered=registered,
        max_txns=max_txns,
        new_customers=res.new_customers,
    )


def write_types_report(res: TypesResult, folder: Path, max_txns: int, registered: str | None = None) -> Path:
    """Write `folder/types.html` and `folder/types.csv` (one profile row per type); returns the HTML path."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    path = atomic_write_text(folder / "types.html", render_types_report(res, max_txns, registered))
    rows = [
        {
            "type_id": p.type_id,
            "name": p.name,
            "customers": p.customers,
            "share": p.share,
            **p.rfm,
            "interests": "; ".join(n for n, _, _ in p.interests),
            "intents": "; ".join(n for n, _, _ in p.intents),
            "products": "; ".join(n for n, _, _ in p.products),
        }
        for p in res.profiles
    ]
    atomic_write_text(folder / "types.csv", pd.DataFrame(rows).to_csv(index=False))
    return path
