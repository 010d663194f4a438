"""One customer's recommendations read from the online top-k store, without MLflow or the feature store.

`cdna recommend CUSTOMER` used to rebuild the customer's point-in-time features and score them with the
champion (48 s, issue 18). The nightly `recommend --all` already wrote every customer's top-k with reasons
to LAKE/online/recommendations.sqlite; when that store was written by the current champion, one indexed
row answers the question. Stale or missing stores return None and the caller scores afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdna.core.errors import UnknownCustomerError
from cdna.core.lake import Lake
from cdna.recommend.registry_sql import read_alias

__all__ = ["OnlineAnswer", "online_recommendations"]


@dataclass(frozen=True)
class OnlineAnswer:
    """The stored top-k of one customer.

    Attributes:
        rows: recommendation rows (customer_id, as_of, rank, product_id, score, reasons, evidence_ids).
        version: the model version that wrote them (the champion's); as_of: their as-of day.
    """

    rows: list[dict[str, Any]]
    version: int
    as_of: str


def _version_number(text: Any) -> int | None:
    tail = str(text).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def online_recommendations(lake: Lake, model_name: str, customer_id: str) -> OnlineAnswer | None:
    """The customer's stored top-k when the online store is the champion's, else None (score afresh).

    Raises UnknownCustomerError when the champion's store has no row for the customer.
    """
    from cdna.features.online import SqliteOnlineStore

    path = lake.online_recommendations_db
    if not path.is_file():
        return None
    champion = read_alias(lake.mlflow_db, model_name, "champion")
    store = SqliteOnlineStore(path)
    try:
        info = store.info()
        written_by = _version_number(info.get("model_version"))
        if champion is None or written_by != champion:
            return None  # scores of an older model: the caller scores with the champion instead
        try:
            row = store.get(customer_id)
        except UnknownCustomerError:
            return None  # not in the batch (e.g. a new customer): score afresh, which names the problem
    finally:
        store.close()
    import json

    items = row.get("recommendations") or []
    if isinstance(items, str):
        items = json.loads(items)
    as_of = str(row.get("as_of") or info.get("as_of") or "")
    rows = [
        {
            "customer_id": customer_id,
            "as_of": as_of,
            "rank": int(it["rank"]),
            "product_id": it["product_id"],
            "score": float(it["score"]),
            "reasons": list(it.get("reasons") or []),
            "evidence_ids": list(it.get("evidence_ids") or []),
            "model_version": str(champion),
        }
        for it in items
    ]
    return OnlineAnswer(rows, champion, as_of)
