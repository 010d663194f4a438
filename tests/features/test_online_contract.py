"""One contract for both online store backends (SQLite, the embedded default; Redis, for many workers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cdna.core.errors import UnknownCustomerError
from cdna.core.lake import atomic_write_parquet
from cdna.features.online import OnlineStore, SqliteOnlineStore, write_sqlite_store


def _materialise(folder: Path, rows: dict[str, dict[str, Any]], as_of: str) -> Path:
    """A SQLite materialisation of `rows` through the feature store's one writer."""
    ids = sorted(rows)
    cols = sorted({c for r in rows.values() for c in r})
    table = pa.table({"customer_id": ids, **{c: [rows[i].get(c) for i in ids] for c in cols}})
    src = atomic_write_parquet(table, folder / f"snap-{as_of}.parquet")
    path = folder / "features.sqlite"
    write_sqlite_store(f"read_parquet('{src}')", path, {"as_of": as_of})
    return path


FIRST = {
    "C0000001": {"age_band": "30s", "txn_count_30d": 4, "held_fund": False, "churn_risk": 0.25},
    "C0000002": {"age_band": "50s", "txn_count_30d": 0, "held_fund": True, "churn_risk": None},
}
SECOND = {"C0000003": {"age_band": "20s", "txn_count_30d": 9, "held_fund": False, "churn_risk": 0.5}}


class Backend:
    """Materialise into the backend under test, and open its store."""

    def __init__(self, kind: str, folder: Path, url: str | None) -> None:
        self.kind, self.folder, self.url = kind, folder, url

    def materialise(self, rows: dict[str, dict[str, Any]], as_of: str) -> OnlineStore:
        path = _materialise(self.folder, rows, as_of)
        if self.kind == "sqlite":
            return SqliteOnlineStore(path)
        from cdna.features.online_redis import RedisOnlineStore, copy_sqlite_to_redis

        assert self.url is not None
        store = RedisOnlineStore(self.url, "cdna:test-features")
        copy_sqlite_to_redis(path, store)
        return store


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    yield Backend(request.param, tmp_path, url)


def test_get_returns_the_materialised_vector(backend: Backend) -> None:
    store = backend.materialise(FIRST, "2025-06-30")
    got = store.get("C0000001")
    assert got == {"age_band": "30s", "churn_risk": 0.25, "held_fund": False, "txn_count_30d": 4}
    assert store.get("C0000002")["churn_risk"] is None and store.get("C0000002")["held_fund"] is True
    info = store.info()
    assert info["as_of"] == "2025-06-30" and info["rows"] == 2
    assert info["columns"] == ["age_band", "churn_risk", "held_fund", "txn_count_30d"]


def test_unknown_customer_is_a_named_error(backend: Backend) -> None:
    store = backend.materialise(FIRST, "2025-06-30")
    with pytest.raises(UnknownCustomerError, match="C9999999"):
        store.get("C9999999")


def test_put_many_updates_and_inserts_in_the_live_materialisation(backend: Backend) -> None:
    store = backend.materialise(FIRST, "2025-06-30")
    n = store.put_many(
        {
            "C0000001": {
                "age_band": "30s",
                "txn_count_30d": 5,
                "held_fund": True,
                "churn_risk": 0.1,
                "extra": 1,
            },
            "C0000004": {"age_band": "40s", "txn_count_30d": 1, "as_of": date(2025, 7, 1)},
        }
    )
    assert n == 2
    assert store.get("C0000001") == {
        "age_band": "30s",
        "churn_risk": 0.1,
        "held_fund": True,
        "txn_count_30d": 5,
    }
    # a column the store does not hold is dropped; one the writer left out is null
    assert store.get("C0000004") == {
        "age_band": "40s",
        "churn_risk": None,
        "held_fund": None,
        "txn_count_30d": 1,
    }
    assert store.get("C0000002")["txn_count_30d"] == 0  # untouched rows stay


def test_a_new_materialisation_replaces_the_whole_store(backend: Backend) -> None:
    store = backend.materialise(FIRST, "2025-06-30")
    assert store.get("C0000001")["txn_count_30d"] == 4
    fresh = backend.materialise(SECOND, "2025-07-01")
    for s in (store, fresh):  # the open store follows the swap, like a new one
        assert s.info()["as_of"] == "2025-07-01"
        assert s.get("C0000003")["txn_count_30d"] == 9
        with pytest.raises(UnknownCustomerError):
            s.get("C0000001")


def test_stored_form_changes_exactly_when_the_row_does(backend: Backend) -> None:
    """`stored` keys the service's render cache: equal for an unchanged row, different once it is rewritten."""
    store = backend.materialise(FIRST, "2025-06-30")
    before = store.stored("C0000001")
    assert before is not None and store.stored("C0000001") == before
    assert store.stored("C9999999") is None
    store.put_many({"C0000002": {"age_band": "50s", "txn_count_30d": 1}})
    assert store.stored("C0000001") == before  # another customer's write leaves it alone
    store.put_many({"C0000001": {**FIRST["C0000001"], "txn_count_30d": 5}})
    assert store.stored("C0000001") != before
