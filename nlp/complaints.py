"""Complaint / dissatisfaction score per call: a churn-risk signal (issue #4, item 6).

A transparent lexicon of complaint and churn expressions, combined with the intent model's
probability of the `complaint` intent: max(lexicon score, intent probability).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

__all__ = ["COMPLAINT_PATTERNS", "complaint_score", "complaint_scores"]

# (pattern on the text without spaces, weight). Churn threats weigh most (why: they predict attrition).
COMPLAINT_PATTERNS: tuple[tuple[str, float], ...] = (
    (r"민원", 1.0),
    (r"항의", 1.0),
    (r"금감원|금융감독원", 1.0),
    (r"불친절", 1.0),
    (r"책임자|상급자|윗사람", 0.8),
    (r"화가?나|열받|짜증", 0.9),
    (r"최악|엉망|형편없", 1.0),
    (r"실망", 0.8),
    (r"불쾌|어이없|황당", 0.9),
    (r"답답", 0.5),
    (r"몇번(을|째)|세번째|또전화", 0.6),
    (r"(다른|딴)은행으로|거래(를|다)?끊|옮길거|해지할거", 1.2),
    (r"보상", 0.6),
    (r"사과", 0.5),
    (r"불완전판매|거짓말", 1.0),
    (r"반말|무시", 0.8),
    (r"너무하", 0.7),
    (r"왜이렇게|왜이래", 0.4),
    (r"기다리다|오래기다|대기시간", 0.4),
    (r"말도없이|동의없이", 0.7),
)
_COMPILED = [(re.compile(p), w) for p, w in COMPLAINT_PATTERNS]


def complaint_score(text: str, intent_probability: float = 0.0) -> float:
    """Complaint score in [0, 1] of one call's customer text (optionally with P(complaint intent))."""
    flat = text.replace(" ", "")
    weight = sum(w for p, w in _COMPILED if p.search(flat))
    lexicon = 1.0 - math.exp(-0.9 * weight)
    return round(max(lexicon, float(intent_probability)), 4)


def complaint_scores(
    texts: Sequence[str], intent_probabilities: Sequence[float] | None = None
) -> list[float]:
    """`complaint_score` of many texts."""
    probs = intent_probabilities if intent_probabilities is not None else [0.0] * len(texts)
    return [complaint_score(t, p) for t, p in zip(texts, probs, strict=True)]
