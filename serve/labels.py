"""What a teller reads instead of codes: Korean labels for profile values and a likelihood band per pick.

A raw score such as 0.0024 tells a teller nothing (issue 18); the model's scores are calibrated open
probabilities, so dividing by the product's base open rate gives "평균 대비 3.2배", and bands of that multiple
give "가입 가능성: 높음/보통/낮음".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "FIELD_LABELS",
    "Likelihood",
    "fact_rows",
    "likelihood",
    "segment_label",
    "value_label",
]

HIGH_LIFT = 2.0  # at least twice the product's base rate
MID_LIFT = 1.0  # at least the base rate

FIELD_LABELS = {
    "age_band": "연령대",
    "gender": "성별",
    "household": "가구 형태",
    "income_band": "소득 구간",
    "region_sido": "지역",
    "tenure_days": "거래 기간",
    "recency_days": "마지막 거래",
    "txn_count_365d": "연간 거래 건수",
    "spend_amount_365d": "연간 지출액",
    "txn_count_30d": "30일 거래 건수",
    "spend_amount_30d": "30일 지출액",
}

_VALUES: dict[str, dict[str, str]] = {
    "age_band": {
        "under_20": "20세 미만",
        "20s": "20대",
        "30s": "30대",
        "40s": "40대",
        "50s": "50대",
        "60s": "60대",
        "70_plus": "70세 이상",
    },
    "gender": {"F": "여성", "M": "남성"},
    "household": {
        "single": "1인 가구",
        "couple": "부부 가구",
        "couple_kids": "자녀가 있는 가구",
        "single_parent": "한부모 가구",
        "with_parents": "부모와 동거",
        "senior": "고령 가구",
    },
    "income_band": {
        "none": "소득 없음",
        "under_30m": "연 3천만 원 미만",
        "30_50m": "연 3~5천만 원",
        "50_70m": "연 5~7천만 원",
        "70_100m": "연 7천만~1억 원",
        "over_100m": "연 1억 원 이상",
    },
}


def segment_label(name: str | None) -> str | None:
    """The Korean part of a segment name ("저활동 (low value)" → "저활동")."""
    if name is None:
        return None
    return str(name).split(" (", 1)[0].strip() or str(name)


def _won(x: float) -> str:
    if abs(x) >= 1e8:
        return f"{x / 1e8:,.1f}억 원"
    if abs(x) >= 1e4:
        return f"{x / 1e4:,.0f}만 원"
    return f"{x:,.0f}원"


def value_label(field: str, value: Any) -> str:
    """A profile value as a teller reads it (codes → Korean, days → years/months, amounts → 만 원)."""
    if field in _VALUES:
        return _VALUES[field].get(str(value), str(value))
    if field == "tenure_days":
        days = float(value)
        return f"{days / 365.25:.0f}년" if days >= 365 else f"{max(days / 30.44, 1):.0f}개월"
    if field == "recency_days":
        days = int(round(float(value)))
        return "오늘" if days == 0 else f"{days}일 전"
    if field.startswith("spend_amount"):
        return _won(float(value))
    if field.startswith("txn_count"):
        return f"{int(round(float(value))):,}건"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def fact_rows(values: dict[str, Any]) -> list[dict[str, str]]:
    """(Korean field name, Korean value) rows for every known field present in `values`, in display order."""
    return [
        {"field": f, "label": label, "value": value_label(f, values[f])}
        for f, label in FIELD_LABELS.items()
        if values.get(f) is not None
    ]


@dataclass(frozen=True)
class Likelihood:
    """How likely a pick is, in words.

    Attributes:
        band: "high", "mid" or "low"; label: 높음/보통/낮음.
        lift: the score over the product's base open rate.
        text: e.g. "평균 대비 3.2배".
    """

    band: str
    label: str
    lift: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"band": self.band, "label": self.label, "lift": self.lift, "text": self.text}


def likelihood(score: float, base_rate: float | None) -> Likelihood | None:
    """The band of a calibrated open probability relative to the product's base rate (None without one)."""
    if base_rate is None or not base_rate > 0 or score is None:
        return None
    lift = float(score) / float(base_rate)
    if lift >= HIGH_LIFT:
        band, label = "high", "높음"
    elif lift >= MID_LIFT:
        band, label = "mid", "보통"
    else:
        band, label = "low", "낮음"
    shown = round(lift, 1)
    text = f"평균 대비 {shown:.1f}배" if shown >= 0.1 else "평균의 10분의 1 미만"
    return Likelihood(band, label, shown, text)
