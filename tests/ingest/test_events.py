"""Events: each checked on its own (index and field named), turned into the source tables' contract rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from cdna.contracts.schemas import CALLS, SIGNALS, WEB_EVENTS, conform
from cdna.core.config import load_intents, load_products
from cdna.ingest.events import append_events, event_day, event_tables, parse_events

PRODUCTS = set(load_products().ids)
INTENTS = set(load_intents().ids)


def _call(i: int = 1, **over: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "event_id": f"CALL-{i:04d}",
        "type": "call",
        "customer_id": "C0000001",
        "ts": "2025-07-01T10:00:00+09:00",
        "intents": [{"label": "jeonse_loan_inquiry", "score": 0.93}],
        "duration_s": 240,
        "evidence": "전세자금대출 한도가 얼마나 나오는지 궁금해요",
    }
    ev.update(over)
    return ev


def test_bad_events_are_named_by_index_and_field_and_the_rest_kept() -> None:
    batch = [
        _call(1),
        _call(2, ts="2025-07-01T10:00:00"),  # no offset
        {
            "event_id": "W-1",
            "type": "page_view",
            "customer_id": "C0000002",
            "ts": "2025-07-01T11:00:00+09:00",
            "channel": "app",
            "page_category": "전세대출",
        },
        _call(3, intents=[{"label": "no_such_intent", "score": 0.5}]),
        {
            "event_id": "H-1",
            "type": "product_open",
            "customer_id": "C0000003",
            "ts": "2025-07-01T12:00:00Z",
            "product_id": "gold_bar",
        },
        {"event_id": "X-1", "type": "teleport", "customer_id": "C0000003", "ts": "2025-07-01T12:00:00Z"},
        _call(4, ts="2999-01-01T00:00:00Z"),
        _call(5, colour="blue"),
        _call(1),  # the same id again in one batch: applied once
    ]
    good, bad = parse_events(batch, PRODUCTS, INTENTS)
    assert [i for i, _ in good] == [0, 2]
    where = {p.index: p.field for p in bad}
    assert where == {1: "ts", 3: "intents.0.label", 4: "product_id", 5: "type", 6: "ts", 7: "colour"}
    msgs = {p.index: p.message for p in bad}
    assert "offset" in msgs[1] or "timezone" in msgs[1].lower()
    assert "future" in msgs[6] and "no_such_intent" in msgs[3]


def test_a_call_becomes_a_calls_row_and_its_signals(tmp_path: Path) -> None:
    good, _ = parse_events(
        [
            _call(1, complaint=0.8),
            {
                "event_id": "W-1",
                "type": "page_view",
                "customer_id": "C0000002",
                "ts": "2025-07-01T23:30:00+09:00",
                "channel": "web",
                "page_category": "전세대출",
                "dwell_s": 12.5,
            },
        ],
        PRODUCTS,
        INTENTS,
    )
    events = [ev for _, ev in good]
    tables = event_tables(events)
    assert set(tables) == {"calls", "signals", "web_events"}
    conform(tables["calls"], CALLS)
    sig = conform(tables["signals"], SIGNALS).to_pylist()
    assert {(s["kind"], s["label"]) for s in sig} == {
        ("intent", "jeonse_loan_inquiry"),
        ("complaint", "complaint"),
    }
    assert all(s["source_id"] == "CALL-0001" and s["source"] == "call" for s in sig)
    web = conform(tables["web_events"], WEB_EVENTS).to_pylist()
    assert web[0]["event_id"] == "W-1" and web[0]["page_category"] == "전세대출"
    # 23:30 KST on July 1 is July 1 in Korea (14:30 UTC)
    assert event_day(events[1]) == date(2025, 7, 1)
    paths = append_events(tmp_path / "events", tables, date(2025, 7, 1))
    assert {p.parent.name for p in paths} == {"calls", "signals", "web_events"}
    assert all(p.parent.parent.name == "date=2025-07-01" for p in paths)
    assert pq.read_table(paths[0]).num_rows >= 1
