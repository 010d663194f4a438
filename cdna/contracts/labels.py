"""Korean labels of the table contracts' codes (household, income band, age band …), for people-facing pages.

The console, the reports and the CLI show these instead of raw codes (issue 18: a teller saw `couple_kids`).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FIELD_LABELS", "fact_rows", "segment_label", "value_label"]

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
    """The Korean part of a segment name ("저활동 (low value)" → "저활동", "충성 (loyal) 2" → "충성 2")."""
    if name is None:
        return None
    return re.sub(r"\s*\([^)]*\)", "", str(name)).strip() or str(name)


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
