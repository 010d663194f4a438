"""The recommender as an MLflow pyfunc model: `mlflow.pyfunc.load_model("models:/cdna-recommender@champion")`.

The model folder holds the pickled bundle (LightGBM model, popularity baseline, drift reference), the
scoring context (catalogue, intents, recommender options, reason wording tables), and two readable
artefacts for the ML team: `features.json` (the model's input columns in order) and `reasons.json` (the
Korean names reasons are worded with). `predict` takes a feature-store snapshot frame (`cdna features
snapshot`) and returns the top-k products per customer with their scores and Korean reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import mlflow.pyfunc

__all__ = ["ScoringContext", "RecommenderModel", "save_pyfunc"]

BUNDLE = "bundle"
CONTEXT = "context"
FEATURES = "features"
REASONS = "reasons"


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the model.

    Attributes:
        catalog / intents: the taxonomies the model was trained with.
        options: the recommender options (k, eligibility, horizon).
        reasons: names that word the reasons.
        version: the version string written into each output row.
    """

    catalog: Any
    intents: Any
    options: Any
    reasons: Any
    version: str


class RecommenderModel(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """pyfunc wrapper: snapshot rows in, top-k recommendations with Korean reasons out."""

    def load_context(self, context: Any) -> None:
        """Load the bundle and scoring context from the model's artefacts."""
        self.bundle_ = joblib.load(context.artifacts[BUNDLE])
        self.context_: ScoringContext = joblib.load(context.artifacts[CONTEXT])

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Top-k rows (customer_id, as_of, rank, product_id, score, reasons, evidence_ids, model_version)."""
        import pandas as pd

        from cdna.recommend.scoring import batch_recommend

        frame = pd.DataFrame(model_input)
        if "as_of" not in frame.columns:
            raise ValueError("the input frame needs an as_of column (a feature-store snapshot has one)")
        frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
        c = self.context_
        reasons = bool((params or {}).get("reasons", True))
        table = batch_recommend(
            self.bundle_, frame, c.catalog, c.intents, c.options, c.reasons, c.version, None, reasons
        )
        return table.to_pandas()


def _reason_tables(reasons: Any) -> dict[str, Any]:
    return {
        "products": {p.id: p.name for p in reasons.catalog.products},
        "intents": dict(reasons.intent_names),
        "memo_categories": dict(reasons.memo_names),
        "web_pages": dict(reasons.web_pages),
        "web_page_products": dict(reasons.web_page_products),
        "memo_category_products": dict(reasons.memo_category_products),
    }


def save_pyfunc(bundle: Any, context: ScoringContext, path: Path) -> Path:
    """Write the pyfunc model folder at `path` (MLmodel, python_model, artefacts); returns `path`."""
    staging = path.parent / (path.name + "-artifacts")
    staging.mkdir(parents=True, exist_ok=True)
    files = {
        BUNDLE: staging / "bundle.joblib",
        CONTEXT: staging / "context.joblib",
        FEATURES: staging / "features.json",
        REASONS: staging / "reasons.json",
    }
    joblib.dump(bundle, files[BUNDLE], compress=3)
    joblib.dump(context, files[CONTEXT], compress=3)
    files[FEATURES].write_text(json.dumps(list(bundle.model.feature_names_), ensure_ascii=False, indent=1))
    files[REASONS].write_text(json.dumps(_reason_tables(context.reasons), ensure_ascii=False, indent=1))
    mlflow.pyfunc.save_model(
        path=str(path),
        python_model=RecommenderModel(),
        artifacts={k: str(v) for k, v in files.items()},
        # the package itself is the requirement; inferring it would import-scan in a subprocess (slow)
        pip_requirements=["customer-dna"],
    )
    return path
