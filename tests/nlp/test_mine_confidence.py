"""Mining only what the recogniser heard (issue 13): a log-probability floor and no prompt echoes."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from cdna.contracts.schemas import TRANSCRIPTS, conform
from cdna.core.config import load_decoder_terms
from cdna.nlp.echoes import is_term_echo
from cdna.nlp.mine import MineOptions, mine_calls

TS = datetime(2025, 6, 30, 1, 0, tzinfo=UTC)
TERMS = tuple(load_decoder_terms())


def _call(call_id: str, turns: list[tuple[str, float | None]]) -> list[dict]:
    base = {"call_id": call_id, "customer_id": f"K-{call_id}", "started_at": TS, "model_id": "m"}
    return [
        {
            **base,
            "channel": 1,
            "speaker": "customer",
            "segment_index": i,
            "start_s": 2.0 * i,
            "end_s": 2.0 * i + 1.5,
            "text": text,
            "avg_logprob": logprob,
            "no_speech_prob": 0.1,
            "pipeline_version": "asr-2",
        }
        for i, (text, logprob) in enumerate(turns)
    ]


@pytest.mark.parametrize(
    ("text", "echo"),
    [
        ("주택담보대", True),  # the demo's truncated echoes (issue 13)
        ("전세자금대", True),
        ("연금저추", True),
        ("주택담보대출.", True),
        ("신용카드 체크카드", True),
        ("주택담보대출이요", False),  # the term plus the customer's own ending is an answer
        ("적금 해지하려고요", False),
        ("네", False),
        ("조용한 프로나페요", False),
    ],
)
def test_term_echoes_are_near_copies_with_nothing_around_them(text: str, echo: bool) -> None:
    assert is_term_echo(text, TERMS) is echo


def test_low_confidence_and_echo_segments_are_not_mined(models) -> None:  # type: ignore[no-untyped-def]
    rows = (
        _call("GARBLED", [("주택담보대출 금리 알아보려고 전화했어요", -1.6)])
        + _call("ECHO", [("주택담보대", -0.2), ("연금저추", -0.3)])
        + _call("CLEAR", [("카드를 잃어버렸어요 분실신고 해 주세요", -0.3), ("주택담보대", -0.2)])
    )
    table = conform(pa.Table.from_pylist(rows), TRANSCRIPTS)
    options = MineOptions(min_avg_logprob=-1.0, echo_terms=TERMS)
    result = mine_calls(table, models, options)
    signals = result.signals.to_pylist()
    assert {s["source_id"] for s in signals} == {"CLEAR"}
    assert all(s["evidence"] != "주택담보대" for s in signals)
    assert signals[0]["label"] == "card_lost"
    assert result.counts["segments_low_confidence"] == 1
    assert result.counts["segments_term_echo"] == 3
    assert result.counts["calls_without_customer_text"] == 2
    # without the floor the garbled segment is mined as a confident mortgage intent: the floor is what stops it
    loose = mine_calls(table, models, MineOptions(min_avg_logprob=None, echo_terms=TERMS)).signals.to_pylist()
    garbled = [s for s in loose if s["source_id"] == "GARBLED" and s["kind"] == "intent"]
    assert garbled and garbled[0]["score"] > 0.5


def test_rows_without_decoder_figures_are_kept(models) -> None:  # type: ignore[no-untyped-def]
    # the world's ASR-like transcripts carry no avg_logprob: the floor cannot judge them
    table = conform(
        pa.Table.from_pylist(_call("SYN", [("카드를 잃어버렸어요 정지해 주세요", None)])), TRANSCRIPTS
    )
    result = mine_calls(table, models, MineOptions(min_avg_logprob=-0.1, echo_terms=TERMS))
    assert [s["source_id"] for s in result.signals.to_pylist()] == ["SYN"]
    assert result.counts["segments_low_confidence"] == 0
