"""Mining end to end on a small synthetic bank: signals contract, masking, idempotency, quality."""

from __future__ import annotations

import json
import re
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.contracts.schemas import SIGNALS, TRANSCRIPTS, conform
from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.nlp.mine import mine_calls, mine_memos
from cdna.nlp.store import read_signals, run_mine

# Unmasked numbers of PII length: RRN, phone, card, account (digits with optional separators).
_LEAKS = [
    re.compile(r"\d{6}\s?-?\s?[1-4]\d{6}"),
    re.compile(r"01[016789]\s?[-.]?\s?\d{3,4}\s?[-.]?\s?\d{4}"),
    re.compile(r"(?:\d[\s-]?){12,16}\d"),
    re.compile(
        r"[공영일이삼사오육칠팔구]{3}\s?(?:에|다시)?\s?[공영일이삼사오육칠팔구]{3,4}\s?(?:에|다시)?\s?[공영일이삼사오육칠팔구]{4}"
    ),
]


@pytest.fixture(scope="module")
def mined(small_lake: Lake, models) -> Lake:  # type: ignore[no-untyped-def]
    run_mine(small_lake, load_config(environ={}).nlp, models=models)
    return small_lake


def test_signals_contract_and_kinds(mined: Lake) -> None:
    table = read_signals(mined)
    assert table.num_rows > 0
    conform(table, SIGNALS)
    kinds = set(table.column("kind").to_pylist())
    assert {"intent", "interest"} <= kinds
    assert set(table.column("source").to_pylist()) <= {"call", "memo"}
    scores = table.column("score").to_pylist()
    assert all(0.0 <= s <= 1.0 for s in scores)
    for folder in mined.signals.glob("date=*"):
        day = folder.name.split("=")[1]
        part = pq.read_table(folder / "signals.parquet")
        kst = part.column("ts").cast(pa.timestamp("us", tz="Asia/Seoul")).to_pylist()
        assert all(t.date().isoformat() == day for t in kst), day


def test_no_unmasked_pii_in_evidence(mined: Lake) -> None:
    evidence = [e for e in read_signals(mined).column("evidence").to_pylist() if e]
    leaks = [e for e in evidence for p in _LEAKS if p.search(e)]
    assert not leaks, leaks[:5]
    assert any("[" in e for e in evidence)  # the world's transcripts do contain PII


def test_run_record_counts(mined: Lake) -> None:
    record = json.loads(sorted(mined.runs.glob("mine-*.json"))[0].read_text())
    counts = record["counts"]
    assert counts["signals_intent"] > 0 and counts["signals_interest"] > 0
    assert counts.get("pii_phone", 0) > 0 and counts.get("pii_name", 0) > 0
    assert record["extra"]["intent_model"].startswith("intent-sklearn-")


def test_rerun_skips_or_replaces_never_duplicates(mined: Lake, models) -> None:  # type: ignore[no-untyped-def]
    before = read_signals(mined).num_rows
    again = run_mine(mined, load_config(environ={}).nlp, models=models)
    assert not again.days_written and again.days_skipped
    day = date.fromisoformat(again.days_skipped[-1])
    forced = run_mine(mined, load_config(environ={}).nlp, day=day, force=True, models=models)
    assert forced.days_written == [day.isoformat()]
    assert read_signals(mined).num_rows == before


def test_intents_on_synthetic_transcripts_match_truth(mined: Lake) -> None:
    truth = {
        r["call_id"]: set(r["intents"])
        for r in pq.read_table(mined.truth / "call_reasons.parquet").to_pylist()
    }
    table = read_signals(mined)
    rows = [r for r in table.to_pylist() if r["kind"] == "intent"]
    best: dict[str, tuple[float, str]] = {}
    for r in rows:
        if r["source_id"] not in best or r["score"] > best[r["source_id"]][0]:
            best[r["source_id"]] = (r["score"], r["label"])
    hits = [label in truth[cid] for cid, (_, label) in best.items() if cid in truth]
    assert len(hits) > 50
    assert sum(hits) / len(hits) >= 0.8


def test_pure_functions_on_tiny_tables(models) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    ts = datetime(2025, 6, 30, 1, 0, tzinfo=UTC)
    call = {"call_id": "C1", "customer_id": "K1", "started_at": ts, "model_id": "m", "pipeline_version": "t"}
    turns = [
        (0, "agent", 0, 0.0, 2.0, "성함이 어떻게 되세요"),
        (1, "customer", 0, 2.0, 4.0, "김민수입니다 카드를 잃어버렸어요 정지해 주세요"),
        (1, "customer", 1, 5.0, 7.0, "제 번호는 공일공 일이삼사 오육칠팔이요"),
    ]
    keys = ("channel", "speaker", "segment_index", "start_s", "end_s", "text")
    rows = [{**call, **dict(zip(keys, t, strict=True))} for t in turns]
    result = mine_calls(conform(pa.Table.from_pylist(rows), TRANSCRIPTS), models)
    out = result.signals.to_pylist()
    assert out[0]["label"] == "card_lost" and out[0]["source"] == "call" and out[0]["customer_id"] == "K1"
    assert "김민수" not in (out[0]["evidence"] or "") and result.pii["NAME"] == 1 and result.pii["PHONE"] == 1
    txns = pa.table(
        {
            "txn_id": ["T1", "T2", "T3"],
            "customer_id": ["K1"] * 3,
            "ts": pa.array([ts] * 3),
            "memo": ["관리비", "남현우 용돈", "홍지영"],
            "merchant": [None, None, None],
        }
    )
    memo = mine_memos(txns, models).signals.to_pylist()
    assert [m["label"] for m in memo] == ["maintenance_fee", "transfer"]
    assert memo[1]["evidence"] == "[NAME] 용돈"
