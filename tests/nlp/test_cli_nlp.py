"""`cdna mask` and `cdna intent` on hostile input: they stream line by line and never crash."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

BAD = (
    "제 번호는 공일공 일이삼사 오육칠팔이에요\n".encode()
    + b"\n"
    + b"\x00\x01\x1b[31m control 010-1234-5678\n"
    + b"\xff\xfe\xc3 invalid \xed\xa0\x80 bytes 850115-1234567\n"
    + b"hello world, this is not Korean\n"
    + ("가나다 " * 200_000).encode()
    + b"\n"
    + "카드번호 4111 1111 1111 1111 분실했어요\n".encode()
)


def _cdna(*args: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "cdna", *args], input=data, capture_output=True, timeout=300)


def test_mask_streams_and_survives_bad_input() -> None:
    proc = _cdna("mask", data=BAD)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines = proc.stdout.decode().split("\n")
    assert lines[0] == "제 번호는 [PHONE]이에요"
    assert lines[1] == ""
    assert "[PHONE]" in lines[2] and "010-1234-5678" not in lines[2]
    assert "[RRN]" in lines[3]
    assert lines[4] == "hello world, this is not Korean"
    assert lines[6] == "카드번호 [CARD] 분실했어요"
    assert b"invalid UTF-8" in proc.stderr


def test_mask_spans_json() -> None:
    proc = _cdna("mask", "--spans", data="연락처 010-2222-3333\n".encode())
    rec = json.loads(proc.stdout.decode().splitlines()[0])
    assert rec["spans"] == [{"type": "PHONE", "start": 4, "end": 17}]


@pytest.mark.slow
def test_intent_json_lines_on_bad_input() -> None:
    proc = _cdna("intent", "--top", "2", data=BAD)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    recs = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [r["line"] for r in recs] == list(range(1, 8))
    assert recs[1]["error"] == "empty line"
    assert recs[6]["intents"][0]["id"] == "card_lost"
    assert all(len(r["intents"]) <= 2 for r in recs)
