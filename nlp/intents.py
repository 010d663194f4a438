"""Call intents: a multi-label scikit-learn estimator and a transformers backend (issue #4, item 4).

Features are morpheme uni/bigrams (kiwi, so unspaced ASR text still splits into 대출/금리/인하) plus
character n-grams of the text with spaces removed (robust to ASR spacing and misspellings); each intent
gets a linear SVM with sigmoid-calibrated probabilities (one-vs-rest, so a call can have two reasons).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from cdna.core.config import configs_dir, load_intents, load_yaml
from cdna.core.errors import ConfigError
from cdna.nlp.normalize import normalize

__all__ = [
    "IntentClassifier",
    "TransformersIntentClassifier",
    "load_keywords",
    "load_seed",
    "make_intent_model",
    "seed_version",
    "top_intents",
]

_SKIP_TAGS = {"SF", "SP", "SS", "SE", "SO", "SW", "SSO", "SSC"}


def load_seed(path: Path | None = None) -> tuple[list[str], list[str], list[int]]:
    """Seed utterances, their intent ids, and a group id per hand-written original (for held-out splits)."""
    path = path or configs_dir() / "intent_seed.yaml"
    data = load_yaml(path)
    intents = data.get("intents") if isinstance(data, dict) else None
    if not isinstance(intents, dict):
        raise ConfigError(f"{path}: expected `intents: {{intent_id: [[utterance, variant …], …]}}`")
    known = set(load_intents().ids)
    texts: list[str] = []
    labels: list[str] = []
    groups: list[int] = []
    for intent, items in intents.items():
        if intent not in known:
            raise ConfigError(
                f"{path}: intent {intent!r} is not in configs/intents.yaml",
                hint=f"use one of: {', '.join(sorted(known))}",
            )
        for item in items or []:
            variants = item if isinstance(item, list) else [item]
            gid = len(set(groups)) if groups else 0
            gid = (max(groups) + 1) if groups else 0
            for v in variants:
                texts.append(str(v))
                labels.append(intent)
                groups.append(gid)
    return texts, labels, groups


def load_keywords(path: Path | None = None) -> dict[str, list[str]]:
    """Domain keywords per intent from the seed file (a feature block for the classifier)."""
    path = path or configs_dir() / "intent_seed.yaml"
    data = load_yaml(path)
    kw = data.get("keywords", {}) if isinstance(data, dict) else {}
    return {str(k): [str(w) for w in (v or [])] for k, v in (kw or {}).items()}


class _Keywords(TransformerMixin, BaseEstimator):
    """One feature per intent: how many of its keywords occur in the text (spaces removed)."""

    def __init__(self, keywords: dict[str, list[str]] | None = None, weight: float = 1.0) -> None:
        self.keywords = keywords
        self.weight = weight

    def fit(self, X: Sequence[str], y: Any = None) -> _Keywords:
        self.names_ = sorted(self.keywords or {})
        return self

    def transform(self, X: Sequence[str]) -> sparse.csr_matrix:
        kw = self.keywords or {}
        rows = np.zeros((len(X), len(self.names_)), dtype=np.float64)
        for i, text in enumerate(X):
            flat = text.replace(" ", "").upper()
            for j, name in enumerate(self.names_):
                hits = sum(1 for w in kw[name] if w.upper() in flat)
                if hits:
                    rows[i, j] = self.weight * min(hits, 2) / 2
        return sparse.csr_matrix(rows)


def seed_version(path: Path | None = None) -> str:
    """A short hash of the seed file: part of the model version written with every signal."""
    path = path or configs_dir() / "intent_seed.yaml"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


class _Morphs:
    """Picklable analyzer: morpheme unigrams and bigrams from the project tokenizer."""

    def __init__(self, backend: str = "kiwi") -> None:
        self.backend = backend
        self._tok: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"backend": self.backend, "_tok": None}

    def tokenizer(self) -> Any:
        if self._tok is None:
            from cdna.nlp.tokenize import Tokenizer

            self._tok = Tokenizer(self.backend)  # type: ignore[arg-type]
        return self._tok

    def __call__(self, text: str) -> list[str]:
        forms = [f"{m}/{t[:2]}" for m, t in self.tokenizer().pos(text) if t not in _SKIP_TAGS]
        return forms + [f"{a} {b}" for a, b in zip(forms, forms[1:], strict=False)]


def _clean(text: str) -> str:
    return normalize(text[:2000], numbers=False).text


def _squash(text: str) -> str:
    return text.replace(" ", "")


def _as_label_lists(y: Sequence[Any]) -> list[list[str]]:
    return [list(v) if isinstance(v, (list, tuple, np.ndarray)) else [str(v)] for v in y]


def top_intents(
    proba: np.ndarray, classes: Sequence[str], threshold: float, max_intents: int
) -> list[list[tuple[str, float]]]:
    """Per row: the intents with probability ≥ threshold (at most max_intents; always the best one)."""
    out = []
    for row in proba:
        order = np.argsort(-row)[:max_intents]
        picked = [(str(classes[i]), round(float(row[i]), 4)) for i in order if row[i] >= threshold]
        out.append(picked or [(str(classes[order[0]]), round(float(row[order[0]]), 4))])
    return out


class IntentClassifier(ClassifierMixin, BaseEstimator):
    """Morpheme + character n-gram TF-IDF → calibrated linear SVM per intent (multi-label).

    Attributes:
        tokenizer: tokenizer backend for morpheme features (kiwi, mecab, okt, komoran).
        C: inverse regularisation of the linear SVMs.
        char_ngrams: character n-gram range on the text with spaces removed.
        threshold: probability from which an intent is reported.
        max_intents: most intents reported per text.
        cv: calibration folds.
    """

    def __init__(
        self,
        tokenizer: str = "kiwi",
        C: float = 0.5,
        char_ngrams: tuple[int, int] = (1, 3),
        threshold: float = 0.35,
        max_intents: int = 2,
        cv: int = 3,
        keywords: dict[str, list[str]] | None = None,
        keyword_weight: float = 1.0,
    ) -> None:
        self.tokenizer = tokenizer
        self.keywords = keywords
        self.keyword_weight = keyword_weight
        self.C = C
        self.char_ngrams = char_ngrams
        self.threshold = threshold
        self.max_intents = max_intents
        self.cv = cv

    def fit(self, X: Sequence[str], y: Sequence[Any]) -> IntentClassifier:
        """Fit on texts and labels (one id per text, or a list of ids for multi-label rows)."""
        if len(X) != len(y) or not len(X):
            raise ValueError(
                f"need as many labels as texts and at least one text; got {len(X)} texts, {len(y)} labels"
            )
        self.mlb_ = MultiLabelBinarizer()
        Y = self.mlb_.fit_transform(_as_label_lists(y))
        self.classes_ = np.array(self.mlb_.classes_)
        self.features_ = FeatureUnion(
            [
                ("morph", TfidfVectorizer(analyzer=_Morphs(self.tokenizer), sublinear_tf=True, min_df=1)),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char",
                        ngram_range=self.char_ngrams,
                        preprocessor=_squash,
                        sublinear_tf=True,
                        min_df=1,
                        max_features=80000,
                    ),
                ),
                (
                    "keywords",
                    _Keywords(
                        self.keywords if self.keywords is not None else load_keywords(), self.keyword_weight
                    ),
                ),
            ]
        )
        features = self.features_.fit_transform([_clean(t) for t in X])
        base = CalibratedClassifierCV(LinearSVC(C=self.C), cv=self.cv, method="sigmoid")
        self.model_ = OneVsRestClassifier(base).fit(features, Y)
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probability of each intent (columns in `classes_` order), independently per intent."""
        check_is_fitted(self, "model_")
        if not len(X):
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self.model_.predict_proba(self.features_.transform([_clean(t) for t in X])))

    def predict(self, X: Sequence[str]) -> list[list[str]]:
        """Intent ids per text (≥ threshold, at most max_intents, always the best one)."""
        return [[c for c, _ in row] for row in self.top(X)]

    def top(self, X: Sequence[str]) -> list[list[tuple[str, float]]]:
        """(intent id, probability) pairs per text, best first."""
        return top_intents(self.predict_proba(X), list(self.classes_), self.threshold, self.max_intents)


class TransformersIntentClassifier(ClassifierMixin, BaseEstimator):
    """A local Korean encoder fine-tuned for multi-label intents, behind the same estimator interface.

    Attributes:
        model_path: local folder with a Hugging Face encoder and tokenizer (never downloaded).
        epochs: fine-tuning epochs (0 = use the model's own classification head as is).
        learning_rate: AdamW learning rate.
        batch_size: training and inference batch size.
        max_length: tokens per text.
        threshold: probability from which an intent is reported.
        max_intents: most intents reported per text.
        seed: torch seed for reproducible fine-tuning.
    """

    def __init__(
        self,
        model_path: str | Path = "",
        epochs: int = 3,
        learning_rate: float = 5e-5,
        batch_size: int = 16,
        max_length: int = 64,
        threshold: float = 0.35,
        max_intents: int = 2,
        seed: int = 0,
    ) -> None:
        self.model_path = model_path
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.threshold = threshold
        self.max_intents = max_intents
        self.seed = seed

    def _load(self, num_labels: int, labels: list[str]) -> tuple[Any, Any]:
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise ConfigError(
                "the transformers backend needs torch and transformers",
                hint="pip install torch==2.13.0 transformers, or use --backend sklearn",
            ) from exc
        path = Path(self.model_path)
        if not path.is_dir():
            raise ConfigError(
                f"transformers model folder not found: {path}",
                hint="pass --model LOCAL_PATH to a folder saved with save_pretrained()",
            )
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            local_files_only=True,
            num_labels=num_labels,
            problem_type="multi_label_classification",
            id2label=dict(enumerate(labels)),
            label2id={c: i for i, c in enumerate(labels)},
            ignore_mismatched_sizes=True,
        )
        return tok, model

    def fit(self, X: Sequence[str], y: Sequence[Any]) -> TransformersIntentClassifier:
        """Fine-tune the local encoder on texts and labels."""
        import torch

        self.mlb_ = MultiLabelBinarizer()
        Y = self.mlb_.fit_transform(_as_label_lists(y)).astype("float32")
        self.classes_ = np.array(self.mlb_.classes_)
        self.tokenizer_, self.model_ = self._load(len(self.classes_), list(self.classes_))
        torch.manual_seed(self.seed)
        opt = torch.optim.AdamW(self.model_.parameters(), lr=self.learning_rate)
        texts = [_clean(t) for t in X]
        rng = np.random.default_rng(self.seed)
        self.model_.train()
        for _ in range(self.epochs):
            order = rng.permutation(len(texts))
            for i in range(0, len(order), self.batch_size):
                idx = order[i : i + self.batch_size]
                enc = self.tokenizer_(
                    [texts[j] for j in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                out = self.model_(**enc, labels=torch.tensor(Y[idx]))
                out.loss.backward()
                opt.step()
                opt.zero_grad()
        self.model_.eval()
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Sigmoid probability of each intent (columns in `classes_` order)."""
        import torch

        check_is_fitted(self, "model_")
        texts = [_clean(t) for t in X]
        rows = []
        with torch.no_grad():
            for i in range(0, len(texts), self.batch_size):
                enc = self.tokenizer_(
                    texts[i : i + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                rows.append(torch.sigmoid(self.model_(**enc).logits).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, len(self.classes_)))

    def predict(self, X: Sequence[str]) -> list[list[str]]:
        """Intent ids per text."""
        return [[c for c, _ in row] for row in self.top(X)]

    def top(self, X: Sequence[str]) -> list[list[tuple[str, float]]]:
        """(intent id, probability) pairs per text, best first."""
        return top_intents(self.predict_proba(X), list(self.classes_), self.threshold, self.max_intents)

    def save(self, path: Path) -> None:
        """Save the fine-tuned model and tokenizer (a folder `--model` can load)."""
        check_is_fitted(self, "model_")
        self.model_.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)


def make_intent_model(
    backend: str = "sklearn",
    model: str | None = None,
    tokenizer: str = "kiwi",
    threshold: float = 0.35,
    max_intents: int = 2,
    epochs: int = 3,
) -> Any:
    """An unfitted intent estimator for `backend` (sklearn or transformers with a local `model`)."""
    if backend == "sklearn":
        return IntentClassifier(tokenizer=tokenizer, threshold=threshold, max_intents=max_intents)
    if backend == "transformers":
        if not model:
            raise ConfigError(
                "the transformers backend needs a local model folder",
                hint="pass --model LOCAL_PATH or set nlp.intent_model",
            )
        return TransformersIntentClassifier(
            model, epochs=epochs, threshold=threshold, max_intents=max_intents
        )
    raise ConfigError(f"unknown intent backend {backend!r}", hint="use sklearn or transformers")
