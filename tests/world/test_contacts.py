"""raw/contacts (issue 18): each customer's Korean name and mobile, the persona they give in their calls."""

from __future__ import annotations

import re
import stat

import duckdb
import pyarrow.parquet as pq

from cdna.contracts.schemas import CONTACTS
from cdna.core.lake import Lake
from cdna.features.sandbox import sandbox_tables


def test_one_owner_only_contact_row_per_customer(world_lake: Lake) -> None:
    path = world_lake.raw_file("contacts")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # personal data: raw zone, owner-only
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT k.customer_id, k.name, k.phone FROM read_parquet('{path}') k "
        f"FULL JOIN read_parquet('{world_lake.raw_file('customers')}') c USING (customer_id)"
    ).fetchall()
    assert len(rows) == 2000 and len({r[0] for r in rows}) == 2000
    assert all(re.fullmatch(r"[가-힣]{2,4}", r[1]) for r in rows)
    assert all(re.fullmatch(r"010-\d{4}-\d{4}", r[2]) for r in rows)
    assert len({r[2] for r in rows}) > 1990  # phones are (nearly) unique, so a tail narrows a search
    assert pq.read_schema(path).names == CONTACTS.schema.names


def test_the_caller_gives_the_name_on_file(world_lake: Lake) -> None:
    """The identity check in a call script speaks the contact name (same persona seed)."""
    con = duckdb.connect()
    found = con.execute(
        f"""
        SELECT count(DISTINCT r.call_id) AS calls,
               count(DISTINCT CASE WHEN contains(s.text, k.name) THEN r.call_id END) AS named
        FROM read_parquet('{world_lake.truth / "call_reasons.parquet"}') r
        JOIN read_parquet('{world_lake.truth / "call_scripts.parquet"}') s USING (call_id)
        JOIN read_parquet('{world_lake.raw_file("contacts")}') k USING (customer_id)
        WHERE s.speaker = 'customer'
        """
    ).fetchone()
    assert found is not None and found[0] > 100 and found[1] / found[0] > 0.9


def test_the_analyst_sandbox_never_offers_contacts(world_lake: Lake) -> None:
    tables = sandbox_tables(world_lake)
    assert "raw_customers" in tables and "raw_contacts" not in tables
