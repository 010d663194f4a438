"""`cdna validate offers_outcomes FILE`: good rows into the offer log, each bad row named in a rejects file."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cdna.cli.app import main
from cdna.core.lake import Lake
from cdna.recommend.offer_log import OfferLog
from cdna.recommend.offers import Offer


def _offers(lake: Lake, n: int) -> list[str]:
    ids = [f"O20250701{i:012x}" for i in range(1, n + 1)]
    log = OfferLog.of(lake)
    log.record(
        [
            Offer(
                oid,
                f"C{i:07d}",
                "fx_deposit",
                1,
                "1",
                "campaign",
                datetime(2025, 7, 1, tzinfo=UTC),
                (),
                0.3,
                "campaign",
                date(2025, 6, 30),
                "travel-fx",
            )
            for i, oid in enumerate(ids, start=1)
        ]
    )
    log.close()
    return ids


def test_malformed_outcome_file_keeps_good_rows_and_names_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = Lake.at(tmp_path / "lake", create=True)
    ids = _offers(lake, 4)
    src = tmp_path / "sms_responses.csv"
    src.write_text(
        "offer_id,outcome,recorded_at,channel\n"
        f"{ids[0]},accepted,2025-07-02T01:00:00Z,sms\n"  # line 2: good
        f"{ids[1]},maybe,2025-07-02T01:00:00Z,sms\n"  # line 3: outcome not allowed
        f"{ids[2]},declined,not-a-time,sms\n"  # line 4: bad timestamp
        f"O20250701ffffffffffff,declined,2025-07-02T01:00:00Z,sms\n"  # line 5: unknown offer
        f"{ids[3]},not_interested,,sms\n"  # line 6: good (no time: the import time)
        f",accepted,2025-07-02T01:00:00Z,sms\n"  # line 7: no offer id
        f"{ids[0]},declined,2025-07-03T01:00:00Z,sms\n",  # line 8: repeats the key of line 2
        encoding="utf-8",
    )
    code = main(["validate", "offers_outcomes", str(src), "--lake", str(lake.root)])
    assert code == 3
    out = OfferLog.of(lake).outcomes_table().to_pandas().set_index("offer_id")["outcome"].to_dict()
    assert out == {ids[0]: "accepted", ids[3]: "not_interested"}
    rejects = lake.rejects / "offers_outcomes" / "sms_responses.rejects.csv"
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [int(r["line"]) for r in rows] == [3, 4, 5, 7, 8]
    reasons = {int(r["line"]): r["reason"] for r in rows}
    assert "outcome" in reasons[3] and "recorded_at" in reasons[4] and "not in the offer log" in reasons[5]
    assert "offer_id" in reasons[7] and "duplicate" in reasons[8]
    err = capsys.readouterr().err
    assert "5 row(s) rejected" in err and "Traceback" not in err
    # the same file again: nothing new, the same rejects, still exit 3
    assert main(["validate", "offers_outcomes", str(src), "--lake", str(lake.root)]) == 3
    assert len(OfferLog.of(lake).outcomes_table()) == 2
