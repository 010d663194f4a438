"""Memo and merchant interests: a lexicon first, a learned fallback for unseen strings (issue #4, item 5).

Memos repeat heavily (급여, 관리비, 스타벅스 …), so the classifier works on distinct strings and caches
them: a stream of a million memos costs a few thousand classifications.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from cdna.core.config import MemoTaxonomy, load_memo_categories

__all__ = ["Interest", "InterestClassifier"]


@dataclass(frozen=True)
class Interest:
    """The category of one memo or merchant string.

    Attributes:
        label: category id, or None when nothing fits well enough.
        score: confidence in [0, 1].
        how: "lexicon", "model" or "none".
    """

    label: str | None
    score: float
    how: str


_NONE = Interest(None, 0.0, "none")


def _bounded(word: str, key: str) -> bool:
    """Short Latin keywords must stand alone: KT is not in KTX, CU is not in CUCKOO."""
    return re.search(rf"(?<![A-Z0-9]){re.escape(word)}(?![A-Z0-9])", key) is not None


def _key(text: str) -> str:
    return " ".join(text.upper().split())


class InterestClassifier(BaseEstimator):
    """Lexicon (configs/memo_categories.yaml keywords) plus a character n-gram fallback, with a cache.

    Attributes:
        taxonomy: the memo categories (default: the shipped taxonomy).
        min_score: fallback predictions below this confidence give no interest.
        cache_size: distinct strings remembered.
    """

    def __init__(
        self, taxonomy: MemoTaxonomy | None = None, min_score: float = 0.45, cache_size: int = 500_000
    ) -> None:
        self.taxonomy = taxonomy
        self.min_score = min_score
        self.cache_size = cache_size

    def fit(self, X: object = None, y: object = None) -> InterestClassifier:
        """Build the lexicon and train the fallback on the keywords and category names (X, y unused)."""
        tax = self.taxonomy or load_memo_categories()
        self.lexicon_ = sorted(
            ((_key(k), c.id) for c in tax.categories for k in c.keywords), key=lambda kv: -len(kv[0])
        )
        texts, labels = [], []
        for c in tax.categories:
            for k in [*c.keywords, *c.name.split("/")]:
                texts.append(_key(k))
                labels.append(c.id)
        self.vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        features = self.vectorizer_.fit_transform(texts)
        self.model_ = LogisticRegression(C=20.0, max_iter=2000).fit(features, labels)
        self.classes_ = self.model_.classes_
        self._cache: dict[str, Interest] = {}
        return self

    def _lexicon(self, key: str) -> Interest | None:
        for word, label in self.lexicon_:
            if word in key and (not (word.isascii() and len(word) <= 3) or _bounded(word, key)):
                # Longer keyword cover means a surer match ("DB손보 실손보험료" vs "CU").
                return Interest(
                    label, round(min(0.99, 0.8 + 0.2 * len(word) / max(len(key), 1)), 3), "lexicon"
                )
        return None

    def _classify_new(self, keys: list[str]) -> list[Interest]:
        out: list[Interest | None] = [self._lexicon(k) for k in keys]
        todo = [i for i, r in enumerate(out) if r is None and keys[i]]
        if todo:
            proba = self.model_.predict_proba(self.vectorizer_.transform([keys[i] for i in todo]))
            for i, row in zip(todo, proba, strict=True):
                j = int(np.argmax(row))
                score = float(row[j])
                out[i] = (
                    Interest(str(self.classes_[j]), round(score, 3), "model")
                    if score >= self.min_score
                    else _NONE
                )
        return [r or _NONE for r in out]

    def classify(self, texts: Sequence[str | None]) -> list[Interest]:
        """The interest of each memo/merchant string (None or empty gives no interest)."""
        if not hasattr(self, "_cache"):
            check_is_fitted(self, "model_")
        keys = [_key(t) if isinstance(t, str) and t else "" for t in texts]
        new = sorted({k for k in keys if k and k not in self._cache})
        if new:
            if len(self._cache) + len(new) > self.cache_size:
                self._cache.clear()
            self._cache.update(zip(new, self._classify_new(new), strict=True))
        return [self._cache.get(k, _NONE) if k else _NONE for k in keys]

    def classify_pair(self, memos: Sequence[str | None], merchants: Sequence[str | None]) -> list[Interest]:
        """Memo first, merchant when the memo says nothing (a lexicon hit beats a model guess)."""
        a = self.classify(memos)
        b = self.classify(merchants)
        out = []
        for x, y in zip(a, b, strict=True):
            if x.how == "lexicon" or (x.label and y.how != "lexicon"):
                out.append(x if x.score >= y.score or x.how == "lexicon" else y)
            else:
                out.append(y if y.label else x)
        return out
