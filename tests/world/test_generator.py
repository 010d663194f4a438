"""The synthetic bank: contracts, determinism, realistic shape and the planted life-event signal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cdna.cli.app import main
from cdna.contracts.schemas import CONTRACTS, TRANSCRIPTS, read_table
from cdna.core.config import load_config, load_intents, load_products
from cdna.core.lake import Lake
from cdna.ingest.world.generator import WorldOptions, write_world

RAW = ("customers", "products", "holdings", "transactions", "web_events", "calls")


def _digest(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*.parquet")):
        out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _small(tmp: Path, seed: int, customers: int = 300) -> Lake:
    lake = Lake.at(tmp, create=True)
    cfg = load_config(environ={}).world.model_copy(update={"customers": customers, "seed": seed})
    write_world(WorldOptions(cfg), load_products(), load_intents(), lake)
    return lake


def test_raw_tables_validate_against_contracts(world_lake: Lake) -> None:
    for name in RAW:
        table = read_table(world_lake.raw(name), CONTRACTS[name])
        assert table.num_rows > 0, name
    for part in world_lake.transcripts.glob("date=*"):
        read_table(part, TRANSCRIPTS)


def test_same_seed_gives_byte_identical_tables(tmp_path: Path) -> None:
    a = _digest(_small(tmp_path / "a", 5).root)
    b = _digest(_small(tmp_path / "b", 5).root)
    c = _digest(_small(tmp_path / "c", 6).root)
    assert a == b
    assert a["raw/transactions/transactions.parquet"] != c["raw/transactions/transactions.parquet"]


def test_cli_world_with_seed(tmp_path: Path) -> None:
    assert main(["--quiet", "world", "--customers", "200", "--seed", "7", "--out", str(tmp_path / "w")]) == 0
    assert pq.read_table(tmp_path / "w" / "raw" / "customers").num_rows == 200
    assert list((tmp_path / "w" / "_runs").glob("world-*.json"))


def _sql(lake: Lake, query: str) -> list[tuple]:
    con = duckdb.connect()
    for name in (*RAW,):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{lake.raw(name)}/*.parquet')")
    con.execute(f"CREATE VIEW life AS SELECT * FROM read_parquet('{lake.truth}/life_events.parquet')")
    con.execute(f"CREATE VIEW reasons AS SELECT * FROM read_parquet('{lake.truth}/call_reasons.parquet')")
    return con.execute(query).fetchall()


def test_realistic_shape(world_lake: Lake) -> None:
    ((n, ages_ok, women, regions),) = _sql(
        world_lake,
        """
        SELECT count(*), avg(CASE WHEN date_diff('year', birth_date, DATE '2025-06-30') BETWEEN 19 AND 90
                                  THEN 1 ELSE 0 END),
               avg(CASE WHEN gender = 'F' THEN 1 ELSE 0 END), count(DISTINCT region_sido) FROM customers""",
    )
    assert n == 2000 and ages_ok == 1.0 and 0.45 < women < 0.57 and regions >= 15
    # Heavy-tailed activity, with some nearly dormant customers and customers with no life event.
    ((p10, p50, p90),) = _sql(
        world_lake,
        """SELECT quantile_cont(c, 0.1), quantile_cont(c, 0.5), quantile_cont(c, 0.9)
        FROM (SELECT customer_id, count(*) c FROM transactions GROUP BY 1)""",
    )
    assert p90 > 1.3 * p50 and p10 < 0.65 * p50
    ((no_event,),) = _sql(world_lake, "SELECT 1 - count(DISTINCT customer_id) / 2000 FROM life")
    assert 0.25 < no_event < 0.55
    # About 2-6% of customers open some product in a month (Santander-like).
    ((monthly,),) = _sql(
        world_lake,
        """SELECT avg(k) FROM (SELECT date_trunc('month', ts) m,
        count(DISTINCT customer_id) / 2000 k FROM holdings WHERE event = 'open' AND ts >= TIMESTAMPTZ '2024-09-01'
        GROUP BY 1)""",
    )
    assert 0.02 < monthly < 0.10
    # Korean memos with everyday merchants, monthly salary and rent.
    memos = {m for (m,) in _sql(world_lake, "SELECT DISTINCT memo FROM transactions")}
    for memo in ("급여", "월세", "관리비", "스타벅스", "GS25", "적금자동이체"):
        assert memo in memos


def test_planted_signal_birth_drives_memos_then_adoption(world_lake: Lake) -> None:
    rows = _sql(
        world_lake,
        """
        WITH birth AS (SELECT DISTINCT customer_id FROM life WHERE event = 'birth'),
        baby AS (SELECT customer_id, count(*) n FROM transactions
                 WHERE memo IN ('산부인과', '산후조리원', '베이비용품', '기저귀 분유', '소아과') GROUP BY 1),
        kids AS (SELECT DISTINCT customer_id FROM holdings WHERE product_id = 'kids_savings' AND event = 'open'
                 AND ts >= TIMESTAMPTZ '2024-06-15')
        SELECT b.customer_id IS NOT NULL AS had_birth, count(*) AS n,
               avg(coalesce(baby.n, 0)) AS baby_memos,
               avg(CASE WHEN kids.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS adopted
        FROM customers c LEFT JOIN birth b USING (customer_id) LEFT JOIN baby USING (customer_id)
        LEFT JOIN kids USING (customer_id) GROUP BY 1 ORDER BY 1""",
    )
    (_, n_other, memos_other, adopt_other), (_, n_birth, memos_birth, adopt_birth) = rows
    assert n_birth >= 20
    assert memos_birth > 5 * max(memos_other, 0.05)
    assert adopt_birth > 5 * max(adopt_other, 0.005)
    # The memos come first: most adoptions follow the customer's first childcare memo.
    ((share_after,),) = _sql(
        world_lake,
        """
        WITH first_memo AS (SELECT customer_id, min(ts) t FROM transactions
                            WHERE memo IN ('산부인과', '산후조리원', '베이비용품') GROUP BY 1),
        opens AS (SELECT h.customer_id, h.ts FROM holdings h JOIN life l USING (customer_id)
                  WHERE l.event = 'birth' AND h.product_id = 'kids_savings' AND h.event = 'open'
                  AND h.ts >= TIMESTAMPTZ '2024-06-15')
        SELECT avg(CASE WHEN f.t < o.ts THEN 1 ELSE 0 END) FROM opens o JOIN first_memo f USING (customer_id)""",
    )
    assert share_after > 0.8


def test_planted_signal_calls_precede_related_opens(world_lake: Lake) -> None:
    ((lift,),) = _sql(
        world_lake,
        """
        WITH asked AS (SELECT DISTINCT c.customer_id FROM calls c JOIN reasons r USING (call_id)
                       WHERE list_contains(r.intents, 'jeonse_loan_inquiry')),
        opened AS (SELECT DISTINCT customer_id FROM holdings WHERE product_id = 'jeonse_loan' AND event = 'open'
                   AND ts >= TIMESTAMPTZ '2024-06-15')
        SELECT avg(CASE WHEN o.customer_id IS NOT NULL THEN 1.0 ELSE 0 END) FILTER (WHERE a.customer_id IS NOT NULL)
             / avg(CASE WHEN o.customer_id IS NOT NULL THEN 1.0 ELSE 0 END) FILTER (WHERE a.customer_id IS NULL)
        FROM customers c LEFT JOIN asked a USING (customer_id) LEFT JOIN opened o USING (customer_id)""",
    )
    assert lift > 4


def test_truth_is_kept_apart(world_lake: Lake) -> None:
    assert (world_lake.truth / "life_events.parquet").exists()
    assert not any("_truth" in str(p) for p in world_lake.raw("calls").rglob("*"))
    calls = pq.read_table(world_lake.raw("calls")).column_names
    assert "intents" not in calls and "cause" not in calls


@pytest.mark.parametrize("table", ["transactions", "web_events", "holdings", "calls"])
def test_foreign_keys_resolve(world_lake: Lake, table: str) -> None:
    ((orphans,),) = _sql(
        world_lake,
        f"""SELECT count(*) FROM {table} t
        WHERE t.customer_id NOT IN (SELECT customer_id FROM customers)""",
    )
    assert orphans == 0
