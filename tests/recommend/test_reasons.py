"""Korean reason sentences and the evidence ids they cite."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cdna.core.config import load_config, load_intents, load_memo_categories, load_products
from cdna.recommend.models import LightGBMRecommender
from cdna.recommend.reasons import Evidence, ReasonContext, evidence_window, explain, sentence

CFG = load_config(environ={})
CTX = ReasonContext(
    load_products(),
    load_intents(),
    load_memo_categories(),
    dict(CFG.features.web_page_categories),
    dict(CFG.recommend.web_page_products),
    dict(CFG.recommend.memo_category_products),
)
CUT = evidence_window(date(2025, 6, 30), "Asia/Seoul")


def _evidence() -> Evidence:
    sig = pd.DataFrame(
        {
            "customer_id": ["C0000001"] * 3,
            "ts": pd.to_datetime(["2025-06-20T01:00:00Z", "2025-06-25T01:00:00Z", "2025-07-02T01:00:00Z"]),
            "source": ["call"] * 3,
            "source_id": ["CALL-17", "CALL-21", "CALL-99"],
            "kind": ["intent"] * 3,
            "label": ["mortgage_inquiry"] * 3,
        }
    )
    web = pd.DataFrame(
        {
            "customer_id": ["C0000001"] * 2,
            "ts": pd.to_datetime(["2025-06-29T01:00:00Z"] * 2),
            "event_id": ["W1", "W2"],
            "page_category": ["대출금리조회", "주택담보대출"],
        }
    )
    return Evidence(sig, web, CUT)


def test_cutoff_is_the_end_of_the_korean_day() -> None:
    assert pd.Timestamp("2025-06-30T15:00:00Z") == CUT


def test_intent_sentence_cites_calls_before_the_cutoff_only() -> None:
    text, ids = sentence("intent_mortgage_inquiry_30d", 2, "mortgage", CTX, "C0000001", _evidence())
    assert text == "최근 30일 동안 주택담보대출 문의 통화가 2회 있었습니다"
    assert ids == ["CALL-17", "CALL-21"]  # CALL-99 is after the as-of
    text, ids = sentence("cand_intent_90d", 1, "mortgage", CTX, "C0000001", _evidence())
    # the sentence names what the calls were about (the intent), not just the product they support
    assert text is not None and "주택담보대출 문의 통화가 1회" in text and ids


def test_web_held_and_empty_values() -> None:
    text, ids = sentence("cand_web_decay", 1.7, "mortgage", CTX, "C0000001", _evidence())
    assert text is not None and text.startswith("최근 30일") and text.endswith("페이지를 2회 방문했습니다")
    assert sorted(ids) == ["W1", "W2"]
    assert sentence("held_check_card", True, "credit_card", CTX)[0] == "체크카드 보유 중입니다"
    assert sentence("intent_mortgage_inquiry_30d", 0, "mortgage", CTX)[0] is None
    assert sentence("age", float("nan"), "mortgage", CTX)[0] is None
    text, _ = sentence("spend_share_auto", 0.3, "auto_loan", CTX)
    assert text is not None and text.startswith("최근 90일 지출의 30%가")
    assert sentence("spend_share_auto", 0.3, "fund", CTX)[0] is None  # unrelated spending is no reason


def test_reasons_are_sentences_without_scores_age_or_unrelated_calls() -> None:
    assert sentence("age", 52, "mortgage", CTX)[0] is None  # age is never a reason
    assert sentence("intent_card_lost_30d", 1, "check_card", CTX)[0] is None  # a lost card sells no card
    assert sentence("intent_other_days_since", 2, "isa", CTX)[0] is None  # "기타" calls are no reason
    assert sentence("intent_mortgage_inquiry_days_since", 200, "mortgage", CTX)[0] is None  # too old
    decayed, _ = sentence("intent_mortgage_inquiry_decay", 0.5, "mortgage", CTX)
    interest, _ = sentence("interest_auto", 0.3, "auto_loan", CTX)
    for text in (decayed, interest):
        assert text is not None and "점수" not in text and text.endswith("습니다"), text


def test_explain_turns_contributions_into_korean() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    f = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "product_id": "mortgage",
            "intent_mortgage_inquiry_30d": rng.poisson(0.2, n).astype(float),
            "txn_amount_90d": rng.random(n) * 1e6,
        }
    )
    y = (rng.random(n) < 0.02 + 0.5 * (f["intent_mortgage_inquiry_30d"] > 0)).astype(int)
    m = LightGBMRecommender(["intent_mortgage_inquiry_30d", "txn_amount_90d"], n_estimators=30, n_jobs=1).fit(
        f, y
    )
    rows = f[f["intent_mortgage_inquiry_30d"] > 0].head(5)
    reasons, ids = explain(m, rows, CTX, 3, None)
    assert len(reasons) == 5 and all(r for r in reasons)
    assert all(any("주택담보대출 문의 통화" in s for s in r) for r in reasons)
    assert not any("txn_amount" in s for r in reasons for s in r)  # raw totals are never shown
    cold = f[f["intent_mortgage_inquiry_30d"] == 0].head(2)
    reasons, _ = explain(m, cold, CTX, 3, None)
    assert all(len(r) >= 1 for r in reasons)  # a fallback sentence, never an empty list


def test_memo_reasons_cite_the_transactions() -> None:
    memos = pd.DataFrame(
        {
            "customer_id": ["C0000001"] * 3,
            "ts": pd.to_datetime(["2025-06-01T01:00:00Z", "2025-06-20T01:00:00Z", "2025-01-01T01:00:00Z"]),
            "txn_id": ["T1", "T2", "T0"],
            "category": ["auto", "auto", "auto"],
        }
    )
    ev = Evidence(_evidence().signals, _evidence().web, CUT, memos)
    text, ids = sentence("cand_memo_share", 0.25, "auto_loan", CTX, "C0000001", ev)
    assert text is not None and "25%" in text and "자동차" in text
    assert ids == ["T2", "T1"]  # newest first, none older than 90 days


def _intent_model(n: int = 4000) -> tuple[LightGBMRecommender, pd.DataFrame]:
    rng = np.random.default_rng(1)
    calls = rng.poisson(0.4, n).astype(float)
    f = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "product_id": rng.choice(["mortgage", "jeonse_loan", "credit_card"], n),
            "intent_mortgage_inquiry_30d": calls,
            "intent_mortgage_inquiry_90d": calls + rng.poisson(0.3, n),
            "cand_intent_90d": calls + rng.poisson(0.2, n),
            "age": rng.integers(20, 70, n).astype(float),
            "txn_amount_90d": rng.random(n) * 1e6,
        }
    )
    y = (rng.random(n) < 0.03 + 0.3 * (calls > 0) + 0.1 * (f["age"] < 35)).astype(int)
    feats = [c for c in f.columns if c not in ("customer_id", "product_id")]
    return LightGBMRecommender(feats, n_estimators=40, num_leaves=15, n_jobs=1).fit(f, y), f


def test_batch_reasons_equal_one_row_at_a_time_reasons() -> None:
    # thousands of rows go through the tabled SHAP values, a few through pred_contrib itself
    model, f = _intent_model()
    many, _ = explain(model, f, CTX, 3, None)
    few = [
        r for start in range(0, 600, 50) for r in explain(model, f.iloc[start : start + 50], CTX, 3, None)[0]
    ]
    assert many[:600] == few
    assert sum("주택담보대출 문의 통화" in " ".join(r) for r in many) > 500


def test_reasons_resting_on_the_same_calls_are_not_repeated() -> None:
    model, f = _intent_model()
    reasons, _ = explain(model, f[f["intent_mortgage_inquiry_30d"] > 0].head(300), CTX, 3, None)
    for r in reasons:
        assert sum("주택담보대출 문의 통화" in s for s in r) <= 1, r


def test_scores_that_round_to_zero_are_no_reason() -> None:
    assert sentence("interest_auto", 0.01, "auto_loan", CTX)[0] is None
    text, _ = sentence("interest_auto", 1.26, "auto_loan", CTX)
    assert text is not None and "자동차" in text and "1.3" not in text  # no internal score in the words
    assert sentence("interest_auto", 1.26, "pension_savings", CTX)[0] is None  # unrelated interest
    assert sentence("cand_intent_decay", 0.02, "mortgage", CTX)[0] is None
