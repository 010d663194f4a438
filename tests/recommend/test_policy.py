"""The decision policy on a few real-shaped customers: every rule fires for the right reason, and only then."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdna.core.config import ConfigError, PolicyConfig, load_intents, load_policy, load_products
from cdna.recommend.policy import (
    RULES,
    PolicyInputError,
    apply_policy,
    check_policy,
    customer_facts,
    fact_columns,
)

CATALOG = load_products()


def _facts(**over: object) -> pd.DataFrame:
    """Four customers: a clean one, a recent complainer, an opted-out one, an unassessed investor."""
    base: dict[str, list[object]] = {
        "customer_id": ["C0000001", "C0000002", "C0000003", "C0000004"],
        "age": [35, 41, 29, 52],
        "income_band": ["50_70m", "30_50m", "under_30m", "70_100m"],
        "marketing_consent": [True, True, False, True],
        "risk_profile": ["moderate", "aggressive", "active", None],
        "intent_complaint_days_since": [None, 3, None, None],
        "intent_fraud_report_days_since": [None, None, None, 200],
        "intent_card_lost_days_since": [None, None, None, None],
        "complaint_days_since": [None, None, None, None],
    }
    for p in CATALOG.ids:
        base[f"held_{p}"] = [False, False, False, False]
    base["held_check_card"] = [True, False, False, False]
    base.update(over)  # type: ignore[arg-type]
    return pd.DataFrame(base)


def _scores(ids: list[str], products: list[str]) -> pd.DataFrame:
    rows = [(c, p, 1.0 - 0.01 * j) for c in ids for j, p in enumerate(products)]
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "score"]).assign(
        reasons=[["최근 30일 전세자금대출 문의 통화 1회"]] * len(rows)
    )


def test_shipped_policy_is_consistent_with_the_catalogue() -> None:
    policy = load_policy()
    check_policy(policy, CATALOG, load_intents().ids)
    assert policy.contact.quiet_days > 0 and "complaint" in policy.contact.quiet_intents


def test_each_rule_removes_only_what_it_should() -> None:
    policy = load_policy()
    scores = _scores(
        ["C0000001", "C0000002", "C0000003", "C0000004"], ["fund", "check_card", "jeonse_loan", "isa"]
    )
    out = apply_policy(scores, _facts(), policy, CATALOG, k=3)
    kept = out.kept.groupby("customer_id")["product_id"].apply(list).to_dict()
    # C1: holds the check card; fund allowed for "moderate", ISA too
    assert kept["C0000001"] == ["fund", "jeonse_loan", "isa"]
    # C2 complained 3 days ago, C3 opted out: nothing at all
    assert "C0000002" not in kept and "C0000003" not in kept
    # C4 never had a risk assessment: no investment product; an old fraud report (200 days) does not matter
    assert kept["C0000004"] == ["check_card", "jeonse_loan"]
    rules = out.suppressed.set_index(["customer_id", "product_id"])["rule"]
    assert rules[("C0000001", "check_card")] == "already_held"
    assert rules[("C0000002", "jeonse_loan")] == "contact_quiet"
    assert rules[("C0000003", "fund")] == "consent"
    assert rules[("C0000004", "fund")] == "suitability"
    assert set(out.counts) == set(RULES)
    # counts cover only offers that were in the customer's top 3 before the policy
    assert out.counts["contact_quiet"] == 3 and out.counts["consent"] == 3
    assert out.counts["suitability"] == 1 and out.counts["already_held"] == 1
    # kept rows are re-ranked from 1 and keep their other columns
    assert out.kept.groupby("customer_id")["rank"].min().eq(1).all()
    assert "reasons" in out.kept.columns


def test_suitability_follows_the_risk_order() -> None:
    policy = load_policy()
    facts = _facts(risk_profile=["stable", "conservative", "moderate", "aggressive"])
    facts["marketing_consent"] = True
    facts["intent_complaint_days_since"] = None
    out = apply_policy(_scores(list(facts["customer_id"]), ["fund", "isa"]), facts, policy, CATALOG)
    kept = set(zip(out.kept["customer_id"], out.kept["product_id"], strict=True))
    assert ("C0000001", "fund") not in kept and ("C0000001", "isa") not in kept  # stable
    assert ("C0000002", "isa") in kept and ("C0000002", "fund") not in kept  # conservative
    assert {("C0000003", "fund"), ("C0000004", "fund")} <= kept


def test_channel_cap_applies_only_on_a_capped_channel() -> None:
    policy = load_policy()
    facts = _facts(marketing_consent=[True] * 4, intent_complaint_days_since=[None] * 4)
    scores = _scores(["C0000001", "C0000002"], ["jeonse_loan"])
    sent = {"C0000001": 2, "C0000002": 1}
    sms = apply_policy(scores, facts, policy, CATALOG, channel="sms", contacts=sent)
    assert list(sms.kept["customer_id"]) == ["C0000002"]
    assert sms.suppressed["rule"].tolist() == ["channel_cap"]
    branch = apply_policy(scores, facts, policy, CATALOG, channel="branch", contacts=sent)
    assert len(branch.kept) == 2


def test_quiet_period_ends_after_quiet_days() -> None:
    policy = load_policy()
    n = policy.contact.quiet_days
    facts = _facts(marketing_consent=[True] * 4, intent_complaint_days_since=[0, n, n + 1, None])
    scores = _scores(["C0000001", "C0000002", "C0000003", "C0000004"], ["jeonse_loan"])
    kept = apply_policy(scores, facts, policy, CATALOG).kept["customer_id"].tolist()
    assert kept == ["C0000003", "C0000004"]


def test_unknown_consent_is_an_opt_out_unless_configured() -> None:
    facts = _facts(marketing_consent=[None, True, True, True], intent_complaint_days_since=[None] * 4)
    scores = _scores(["C0000001"], ["jeonse_loan"])
    strict = load_policy()
    assert apply_policy(scores, facts, strict, CATALOG).kept.empty
    lenient = strict.model_copy(
        update={"consent": strict.consent.model_copy(update={"missing_means_opt_out": False})}
    )
    assert len(apply_policy(scores, facts, lenient, CATALOG).kept) == 1


def test_missing_fact_columns_are_named() -> None:
    facts = _facts().drop(columns=["risk_profile"])
    with pytest.raises(PolicyInputError, match="risk_profile"):
        apply_policy(_scores(["C0000001"], ["fund"]), facts, load_policy(), CATALOG)
    assert "risk_profile" in fact_columns(load_policy(), CATALOG)


def test_policy_config_rejects_unknown_keys_and_products() -> None:
    with pytest.raises(Exception, match="extra|forbid|Extra"):
        PolicyConfig.model_validate({"contact": {"quite_days": 3}})
    bad = PolicyConfig.model_validate({"suitability": {"min_profile": {"gold_bar": "moderate"}}})
    with pytest.raises(ConfigError, match="gold_bar"):
        check_policy(bad, CATALOG)
    with pytest.raises(ConfigError, match="fund"):
        check_policy(
            PolicyConfig.model_validate({"suitability": {"min_profile": {"isa": "moderate"}}}), CATALOG
        )


def test_facts_read_from_feature_rows() -> None:
    cf = customer_facts(_facts(), load_policy(), CATALOG)
    assert cf.consent.tolist() == [True, True, False, True]
    assert cf.risk.tolist() == [2, 4, 3, -1]
    assert cf.quiet_days_since[1] == 3 and np.isnan(cf.quiet_days_since[0])
