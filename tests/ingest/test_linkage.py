"""Pseudonymised partner linkage (issue #14 item 5): keyed pseudonyms, linking, k-anonymous reports."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from cdna.contracts.schemas import PARTNER_TELECOM, PARTNER_TELECOM_FILE, partner_contracts
from cdna.core.errors import SchemaError
from cdna.core.secrets import SecretKey
from cdna.ingest.linkage import (
    WrongLinkKeyError,
    k_anonymous_counts,
    key_list,
    link_partner,
    pseudonymize,
    report_rows,
)

KEY = SecretKey(b"k" * 32, "test")
WRONG = SecretKey(b"w" * 32, "wrong")
NOW = datetime(2025, 7, 2, tzinfo=UTC)


def _customers(n: int = 8) -> pa.Table:
    return pa.table(
        {
            "customer_id": [f"C{i:07d}" for i in range(1, n + 1)],
            "birth_date": [date(1990 - i, 3, 1) for i in range(n)],
            "region_sido": ["서울"] * n,
        }
    )


def _delivery(ids: list[str], key: SecretKey, month: date = date(2025, 5, 1)) -> pa.Table:
    return pa.table(
        {
            "pseudonym": pseudonymize(ids, key),
            "month": pa.array([month] * len(ids), pa.date32()),
            "data_band": ["high"] * len(ids),
            "roaming_days": pa.array([3] * len(ids), pa.int16()),
            "plan_band": ["premium"] * len(ids),
        }
    ).cast(PARTNER_TELECOM_FILE.schema)


def test_pseudonyms_are_hmac_sha256_of_the_id_and_depend_on_the_key() -> None:
    got = pseudonymize(["C0000001", None], KEY).to_pylist()
    assert got[0] == hmac.new(b"k" * 32, b"C0000001", hashlib.sha256).hexdigest() and got[1] is None
    assert pseudonymize(["C0000001"], WRONG).to_pylist()[0] != got[0]
    keys = key_list(_customers(), KEY).column("pseudonym").to_pylist()
    assert len(keys) == 8 and keys == sorted(keys) and "C0000001" not in "".join(keys)


def test_link_maps_pseudonyms_to_customers_and_drops_outsiders() -> None:
    members = ["C0000002", "C0000005", "C0000007"]
    res = link_partner(
        _delivery([*members, "X0000001", "X0000002"], KEY), _customers(), KEY, PARTNER_TELECOM, "telecom", NOW
    )
    assert res.linked_customers == 3 and res.unmatched_ids == 2 and res.partner_ids == 5
    assert res.linked.column("customer_id").to_pylist() == members
    assert res.linked.schema.equals(PARTNER_TELECOM.schema)
    # May's figures exist once May is over: its last instant, Korea time (an as-of of 31 May sees them).
    assert res.linked.column("ts")[0].as_py() == datetime(2025, 5, 31, 14, 59, 59, 999999, tzinfo=UTC)
    assert res.linked.column("record_id")[0].as_py() == "telecom:C0000002:2025-05-01"
    assert "pseudonym" not in res.linked.column_names


def test_a_wrong_key_links_nothing_and_says_so() -> None:
    with pytest.raises(WrongLinkKeyError, match="none of the 3 pseudonyms") as err:
        link_partner(
            _delivery(["C0000001", "C0000002", "C0000003"], WRONG),
            _customers(),
            KEY,
            PARTNER_TELECOM,
            "telecom",
            NOW,
        )
    assert "nothing was linked" in str(err.value) and KEY.key_id in str(err.value)


def test_k_anonymity_suppresses_small_cells_and_counts_them() -> None:
    rows = pa.table(
        {
            "customer_id": [f"C{i}" for i in range(12)],
            "age_band": ["30s"] * 5 + ["40s"] * 3 + ["50s"] * 4,
            "data_band": ["high"] * 12,
            "roaming_days": [1.0] * 5 + [9.0] * 3 + [0.0] * 4,
        }
    )
    rep = k_anonymous_counts(rows, ["age_band", "data_band"], k=5, measures=("roaming_days",))
    assert rep.cells.to_pylist() == [
        {"age_band": "30s", "data_band": "high", "customers": 5, "roaming_days_mean": 1.0}
    ]
    assert (rep.suppressed_cells, rep.suppressed_customers) == (2, 7)  # the cell of 3 and the cell of 4
    assert k_anonymous_counts(rows, ["age_band"], k=3).suppressed_cells == 0
    with pytest.raises(ValueError):
        k_anonymous_counts(rows, ["age_band"], k=1)


def test_report_rows_take_each_customers_latest_month_with_their_age_then() -> None:
    d1 = _delivery(["C0000001", "C0000002"], KEY, date(2025, 4, 1))
    d2 = _delivery(["C0000001"], KEY, date(2025, 5, 1))
    linked = link_partner(
        pa.concat_tables([d1, d2]), _customers(), KEY, PARTNER_TELECOM, "telecom", NOW
    ).linked
    rows = report_rows(linked, _customers())
    got = {r["customer_id"]: (r["month"], r["age_band"]) for r in rows.to_pylist()}
    assert got == {"C0000001": (date(2025, 5, 1), "30s"), "C0000002": (date(2025, 4, 1), "30s")}


def test_unknown_partner_names_the_known_ones() -> None:
    assert partner_contracts("telecom") == (PARTNER_TELECOM_FILE, PARTNER_TELECOM)
    with pytest.raises(SchemaError, match="telecom"):
        partner_contracts("bakery")


# ---------------------------------------------------------------- end to end on a synthetic bank


def _cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from cdna.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def partner_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cdna.ingest.world.generator import synthetic_bank

    root = tmp_path_factory.mktemp("linkbank") / "lake"
    synthetic_bank(root, link_key=KEY, customers=300, seed=11)
    return root


def test_linkage_end_to_end_on_the_synthetic_bank(
    partner_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from cdna.core.lake import Lake

    lake = Lake.at(partner_bank)
    delivery = lake.partner_deliveries / "telecom.csv"
    members = set(pq.read_table(lake.truth_file("partner_telecom_members")).column(0).to_pylist())
    assert len(members) > 100 and KEY.material.hex() not in "".join(
        p.read_bytes().hex() for p in lake.root.rglob("*") if p.is_file() and p.stat().st_size < 5_000_000
    )
    monkeypatch.setenv("CDNA_LINK_KEY", KEY.material.hex())

    # The bank's key list for the linkage institution: a pseudonym per customer, no customer id.
    keys = tmp_path / "bank_keys.csv"
    code, out, _ = _cli("--json", "link", "export", "--out", str(keys), "--lake", str(lake.root))
    listed = pcsv.read_csv(keys).column("pseudonym").to_pylist()
    assert code == 0 and len(listed) == 300 and "C0000" not in keys.read_text()

    # With the wrong key nothing links, nothing is written, and it says so.
    monkeypatch.setenv("CDNA_LINK_KEY", WRONG.material.hex())
    code, out, err = _cli(
        "link", "import", "telecom", str(delivery), "-m", "partner_telecom", "--lake", str(lake.root)
    )
    assert code == 1 and "nothing was linked" in err and not lake.raw_parts("partner_telecom")

    monkeypatch.setenv("CDNA_LINK_KEY", KEY.material.hex())
    code, out, _ = _cli(
        "--json",
        "link",
        "import",
        "telecom",
        str(delivery),
        "-m",
        "partner_telecom",
        "--lake",
        str(lake.root),
    )
    res = json.loads(out)
    assert code == 0 and not res["already_imported"]
    linked = set(pq.read_table(lake.raw("partner_telecom")).column("customer_id").to_pylist())
    assert len(linked & members) / len(members) >= 0.95 and linked <= members  # outsiders never link
    assert res["unmatched_ids"] == res["partner_ids"] - len(linked) > 0
    code, out, _ = _cli(
        "--json",
        "link",
        "import",
        "telecom",
        str(delivery),
        "-m",
        "partner_telecom",
        "--lake",
        str(lake.root),
    )
    assert code == 0 and json.loads(out)["already_imported"] and len(lake.raw_parts("partner_telecom")) == 1

    # k-anonymous report: every released cell counts at least k customers; the rest are suppressed and counted.
    report = tmp_path / "telecom_report.csv"
    code, out, _ = _cli(
        "--json",
        "link",
        "report",
        "telecom",
        "--by",
        "age_band,data_band",
        "--out",
        str(report),
        "--lake",
        str(lake.root),
    )
    rep = json.loads(out)
    assert code == 0 and rep["k"] == 5 and rep["cells"] and all(c["customers"] >= 5 for c in rep["cells"])
    released = sum(c["customers"] for c in rep["cells"])
    assert released + rep["suppressed_customers"] == len(linked) and rep["suppressed_cells"] >= 1
    assert pcsv.read_csv(report).num_rows == len(rep["cells"])
    assert _cli("link", "report", "telecom", "--by", "shoe_size", "--lake", str(lake.root))[0] == 2


def test_partner_view_is_point_in_time(
    partner_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from cdna.core.config import load_config, load_intents, load_memo_categories, load_products
    from cdna.core.lake import Lake
    from cdna.features.snapshot import FeatureSet, snapshot

    lake = Lake.at(partner_bank)
    monkeypatch.setenv("CDNA_LINK_KEY", KEY.material.hex())
    if not lake.raw_parts("partner_telecom"):
        delivery = lake.partner_deliveries / "telecom.csv"
        assert (
            _cli(
                "link", "import", "telecom", str(delivery), "-m", "partner_telecom", "--lake", str(lake.root)
            )[0]
            == 0
        )
    cfg = load_config(environ={})
    fs = FeatureSet(cfg.features, load_products(), load_intents(), load_memo_categories(), cfg.timezone)
    rows = pq.read_table(lake.raw("partner_telecom")).to_pylist()
    months = {(r["customer_id"], r["month"]): r for r in rows}
    may, june = date(2025, 5, 1), date(2025, 6, 1)
    who = next(
        c
        for (c, m) in sorted(months)
        if m == june
        and (c, may) in months
        and months[(c, may)]["data_band"] != months[(c, june)]["data_band"]
    )

    def band(as_of: date) -> object:
        res = snapshot(fs, lake.root, as_of, tmp_path / f"snap-{as_of}.parquet")
        t = pq.read_table(res.path).to_pylist()
        return next(r for r in t if r["customer_id"] == who)

    mid_june, end_june = band(date(2025, 6, 15)), band(date(2025, 6, 30))
    # Mid-June only May is closed; at the end of June, June's figures count.
    assert mid_june["telecom_linked"] and mid_june["telecom_data_band"] == months[(who, may)]["data_band"]
    assert end_june["telecom_data_band"] == months[(who, june)]["data_band"]
    outsider = next(
        r
        for r in pq.read_table(tmp_path / "snap-2025-06-30.parquet").to_pylist()
        if r["customer_id"] not in {c for c, _ in months}
    )
    assert outsider["telecom_linked"] is False and outsider["telecom_data_band"] is None
