"""Extra tables on the small service lake for the console's insight features (search, evidence, trends)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cdna.core.lake import Lake
from cdna.recommend.scoring import write_online
from tests.serve.lakes import AS_OF, customer_ids, recommendations_table

REGIONS = ["서울특별시", "부산광역시", "경기도"]
SURNAMES = ["김", "이", "박", "최"]
BASE_RATES = {"jeonse_loan": 0.01, "credit_card": 0.02, "term_deposit": 0.5, "fx_deposit": 0.05}


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def add_insight_tables(lake: Lake, n: int) -> None:
    """raw customers and contacts, a segments partition, and the online top-k store with base rates."""
    ids = customer_ids(n)
    _write(
        pa.table({"customer_id": ids, "region_sido": [REGIONS[i % 3] for i in range(n)]}),
        lake.root / "raw" / "customers" / "customers.parquet",
    )
    _write(
        pa.table(
            {
                "customer_id": ids,
                "name": [SURNAMES[i % 4] + "민준" for i in range(n)],
                "phone": [f"010-{1000 + i:04d}-{5000 + i:04d}" for i in range(n)],
            }
        ),
        lake.root / "raw" / "contacts" / "contacts.parquet",
    )
    _write(
        pa.table(
            {
                "customer_id": ids,
                "segment_id": pa.array([i % 3 for i in range(n)], pa.int16()),
                "segment_name": [
                    ["우수 (high value)", "성장 (growing)", "저활동 (low value)"][i % 3] for i in range(n)
                ],
            }
        ),
        lake.root / "features" / "segments" / f"date={AS_OF}" / "part.parquet",
    )
    recs = recommendations_table(n, "cdna-recommender/1")
    write_online(
        lake, recs, {"as_of": str(AS_OF), "model_version": "cdna-recommender/1", "base_rates": BASE_RATES}
    )
