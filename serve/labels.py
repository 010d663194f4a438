"""What a teller reads instead of codes: Korean labels for profile values and a likelihood band per pick.

A raw score such as 0.0024 tells a teller nothing (issue 18); the model's scores are calibrated open
probabilities, so dividing by the product's base open rate gives "평균 대비 3.2배", and bands of that multiple
give "가입 가능성: 높음/보통/낮음".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdna.contracts.labels import FIELD_LABELS, fact_rows, segment_label, value_label

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
