"""The offer log (issue 17): offer ids, outcomes recorded once per offer, conversions, training signal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from cdna.contracts.schemas import OFFER_OUTCOMES, OFFERS, conform
from cdna.recommend.offer_log import OfferLog, import_outcomes
from cdna.recommend.offers import (
    LoopOptions,
    Offer,
    OutcomeConflictError,
    UnknownOfferError,
    acceptance_summary,
    join_conversions,
    new_offer_id,
    outcome_labels,
)

SHOWN = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)  # 09:00 Korea time, 2025-07-01


def _offer(i: int, product: str = "fx_deposit", version: str = "3") -> Offer:
    return Offer(
        offer_id=f"O20250701{i:012x}",
        customer_id=f"C{i:07d}",
        product_id=product,
        rank=1,
        model_version=version,
        channel="console",
        shown_at=SHOWN,
        reasons=("해외 결제가 늘었습니다.",),
        score=0.4,
        purpose="counseling",
        as_of=date(2025, 6, 30),
        staff="staff-kim",
    )


@pytest.fixture
def log(tmp_path: Path) -> OfferLog:
    return OfferLog(tmp_path / "offers" / "offers.sqlite")


def test_offer_ids_are_unique_and_dated() -> None:
    ids = {new_offer_id(SHOWN) for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("O20250701") and len(i) == 21 for i in ids)


def test_outcome_recorded_once_per_offer(log: OfferLog) -> None:
    assert log.record([_offer(1), _offer(2)]) == 2
    assert log.record([_offer(1)]) == 0  # an id already stored is kept as it was
    first = log.record_outcome(_offer(1).offer_id, "declined", "console", "staff-kim")
    again = log.record_outcome(_offer(1).offer_id, "declined", "api", "staff-lee")
    assert (first.status, again.status) == ("recorded", "unchanged")
    assert again.recorded_at == first.recorded_at
    with pytest.raises(OutcomeConflictError, match="already has the outcome 'declined'"):
        log.record_outcome(_offer(1).offer_id, "accepted", "api")
    # a call back is the one outcome a later answer replaces
    assert log.record_outcome(_offer(2).offer_id, "call_back", "api").status == "recorded"
    assert log.record_outcome(_offer(2).offer_id, "accepted", "api").status == "updated"
    with pytest.raises(UnknownOfferError, match="not in the offer log"):
        log.record_outcome("O20250701ffffffffffff", "accepted", "api")
    out = conform(log.outcomes_table(), OFFER_OUTCOMES).to_pandas()
    assert sorted(out["outcome"]) == ["accepted", "declined"] and len(out) == 2
    offers = conform(log.offers_table(), OFFERS).to_pandas()
    assert (
        offers.loc[0, "reasons"].tolist() == ["해외 결제가 늘었습니다."]
        and offers["shown_at"].iloc[0] == SHOWN
    )


def test_import_refuses_unknown_and_conflicting_rows(log: OfferLog) -> None:
    log.record([_offer(1), _offer(2)])
    log.record_outcome(_offer(2).offer_id, "declined", "console")
    rows = pd.DataFrame(
        {
            "offer_id": [_offer(1).offer_id, _offer(2).offer_id, "O20250701000000000099"],
            "outcome": ["accepted", "accepted", "declined"],
            "recorded_at": [pd.NaT] * 3,
            "channel": ["sms"] * 3,
            "recorded_by": [None] * 3,
        }
    )
    res = import_outcomes(log, rows, "file")
    assert res.recorded == 1 and [oid for oid, _ in res.rejects] == [
        _offer(2).offer_id,
        "O20250701000000000099",
    ]
    assert "already has the outcome" in res.rejects[0][1] and "not in the offer log" in res.rejects[1][1]
    assert import_outcomes(log, rows.iloc[:1], "file").unchanged == 1  # the same file again changes nothing


def test_conversions_within_the_horizon_only() -> None:
    offers = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3", "C4"], "product_id": ["fund"] * 4, "day": [date(2025, 6, 30)] * 4}
    )
    holdings = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "product_id": ["fund", "fund", "fund", "isa"],
            "event": ["open"] * 4,
            # C1 opens on day 10 (converts), C2 on the offer day itself and C3 after 40 days (neither)
            "ts": pd.to_datetime(
                ["2025-07-10 03:00", "2025-06-30 03:00", "2025-08-09 03:00", "2025-07-02 03:00"], utc=True
            ),
        }
    )
    conv = join_conversions(offers, holdings, 30)
    assert conv.notna().tolist() == [True, False, False, False]
    assert conv.iloc[0] == pd.Timestamp("2025-07-10")


def test_outcome_labels_positives_negatives_and_no_answer() -> None:
    log_offers = pd.DataFrame(
        {
            "offer_id": ["a", "b", "c", "d", "e"],
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "product_id": ["fund"] * 5,
            "shown_at": [pd.Timestamp(SHOWN)] * 5,
        }
    )
    outcomes = pd.DataFrame(
        {"offer_id": ["a", "b", "c", "d"], "outcome": ["accepted", "declined", "not_interested", "call_back"]}
    )
    holdings = pd.DataFrame(
        {
            "customer_id": ["C3", "C5"],
            "product_id": ["fund", "fund"],
            "event": ["open", "open"],
            "ts": pd.to_datetime(["2025-07-05", "2025-07-06"], utc=True),
        }
    )
    lab = outcome_labels(log_offers, outcomes, holdings, LoopOptions(horizon_days=30)).set_index(
        "customer_id"
    )
    # C1 accepted, C3 said not interested but opened (conversion wins), C5 never answered but opened
    assert lab["label"].to_dict() == {"C1": 1, "C2": 0, "C3": 1, "C5": 1}
    assert lab.loc["C2", "source"] == "declined" and lab.loc["C3", "source"] == "conversion"
    assert (lab["as_of"] == date(2025, 6, 30)).all()  # the day before the offer (Korea time)
    no_neg = outcome_labels(log_offers, outcomes, holdings, LoopOptions(30, negatives=()))
    assert 0 not in no_neg["label"].tolist()  # declines ignored when configured so


def test_acceptance_summary_per_model_version() -> None:
    offers = pd.DataFrame({"offer_id": ["a", "b", "c"], "model_version": ["1", "cdna-recommender/1", "2"]})
    outcomes = pd.DataFrame({"offer_id": ["a", "b", "c"], "outcome": ["accepted", "declined", "call_back"]})
    s = acceptance_summary(offers, outcomes, "1")
    assert s["offers"] == 2 and s["answered"] == 2 and s["acceptance_rate"] == 0.5
    assert acceptance_summary(offers, outcomes, "2")["answered"] == 0  # call back is not an answer yet
