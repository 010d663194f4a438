"""The decision policy: which scored offers may reach a customer, and which rule removed the others (issue #16).

Pure: a scores table and the customers' facts in, the kept recommendations (re-ranked top-k) and the
suppressions with their rule ids out. The nightly batch, the event path and campaigns all call
`apply_policy` (or, inside the scorer's hot loop, `rule_codes`), so one rule set decides everywhere.

Rules, in the order they are checked (a suppressed offer is attributed to the first that fires):

- `eligibility`: the catalogue's age, income and exclusivity rules (configs/products.yaml);
- `already_held`: the customer holds the product;
- `consent`: no marketing consent (opted out, or unknown when `missing_means_opt_out`);
- `contact_quiet`: a complaint, fraud / voice-phishing report or card-loss call in the last `quiet_days`;
- `channel_cap`: the customer already got `max_offers` on this channel in the cap's period;
- `suitability`: an investment product above the customer's assessed risk profile (금융소비자보호법 §17).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdna.core.config import RISK_PROFILES, PolicyConfig, ProductCatalog
from cdna.core.errors import CdnaError, ConfigError

__all__ = [
    "RULES",
    "CustomerFacts",
    "PolicyDecision",
    "PolicyInputError",
    "apply_policy",
    "check_policy",
    "customer_facts",
    "eligibility_matrix",
    "fact_columns",
    "rule_codes",
]

RULES: tuple[str, ...] = (
    "eligibility",
    "already_held",
    "consent",
    "contact_quiet",
    "channel_cap",
    "suitability",
)


class PolicyInputError(CdnaError):
    """The facts the policy needs are missing from the feature rows it was given."""

    exit_code = 2


@dataclass(frozen=True)
class CustomerFacts:
    """What the rules look at, one entry per customer (row i = customer `ids[i]`).

    Attributes:
        ids: customer ids.
        age: age at the as-of (nan when unknown).
        income_band: income band ("none" when unknown).
        held: bool [customers, products] in catalogue order.
        consent: whether the customer may receive sales offers.
        risk: index of the assessed risk profile in RISK_PROFILES, -1 when not assessed.
        quiet_days_since: days since the latest complaint / fraud report / card-loss call (nan = none).
    """

    ids: np.ndarray
    age: np.ndarray
    income_band: np.ndarray
    held: np.ndarray
    consent: np.ndarray
    risk: np.ndarray
    quiet_days_since: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class PolicyDecision:
    """What `apply_policy` decided.

    Attributes:
        kept: the allowed rows re-ranked per customer (column `rank` from 1), at most k each.
        suppressed: customer_id, product_id, score, rank_before (rank among all input rows), rule.
        counts: rule id -> suppressed offers that were in the customer's top k before the policy
            (every suppressed row when k is None); every rule id is present.
    """

    kept: pd.DataFrame
    suppressed: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def check_policy(policy: PolicyConfig, catalog: ProductCatalog, intents: list[str] | None = None) -> None:
    """Raise ConfigError when the policy names unknown products or intents, or misses an investment product."""
    ids = set(catalog.ids)
    unknown = sorted(set(policy.suitability.min_profile) - ids)
    if unknown:
        raise ConfigError(
            f"configs/policy.yaml: suitability.min_profile names unknown product(s) {unknown}",
            hint=f"use catalogue ids: {', '.join(catalog.ids)}",
        )
    if policy.suitability.enabled:
        missing = [
            p.id
            for p in catalog.products
            if p.family == "investment" and p.id not in policy.suitability.min_profile
        ]
        if missing:
            raise ConfigError(
                f"configs/policy.yaml: investment product(s) {missing} have no suitability.min_profile",
                hint="give each investment product the lowest risk profile it may be offered to",
            )
    if intents is not None:
        named = set(policy.contact.quiet_intents) | set(policy.reason_hygiene.never_cite_intents)
        bad = sorted(named - set(intents))
        if bad:
            raise ConfigError(
                f"configs/policy.yaml: unknown intent id(s) {bad}",
                hint=f"use ids of configs/intents.yaml: {', '.join(intents)}",
            )


def fact_columns(policy: PolicyConfig, catalog: ProductCatalog) -> list[str]:
    """The feature columns `customer_facts` reads (the feature store's names)."""
    cols = ["age", "income_band", *[f"held_{p}" for p in catalog.ids]]
    if policy.consent.enabled:
        cols.append("marketing_consent")
    if policy.suitability.enabled:
        cols.append("risk_profile")
    if policy.contact.quiet_days > 0:
        cols += [f"intent_{i}_days_since" for i in policy.contact.quiet_intents]
        if policy.contact.complaint_signals:
            cols.append("complaint_days_since")
    return cols


def customer_facts(frame: pd.DataFrame, policy: PolicyConfig, catalog: ProductCatalog) -> CustomerFacts:
    """The rules' inputs from feature rows (a snapshot or online vectors) with a `customer_id` column."""
    missing = [c for c in ["customer_id", *fact_columns(policy, catalog)] if c not in frame.columns]
    if missing:
        raise PolicyInputError(
            f"the feature rows lack column(s) {missing[:6]} the decision policy needs",
            hint="rebuild the features (`cdna features materialize`) with the current feature definitions",
        )
    n = len(frame)
    held = (
        np.column_stack([frame[f"held_{p}"].fillna(False).to_numpy(dtype=bool) for p in catalog.ids])
        if n
        else np.zeros((0, len(catalog.ids)), dtype=bool)
    )
    # a rule that is switched off needs no column: its fact reads as "allowed"
    raw = frame["marketing_consent"] if policy.consent.enabled else pd.Series(True, index=frame.index)
    known = raw.notna().to_numpy()
    given = raw.fillna(False).astype(bool).to_numpy()
    consent = np.where(known, given, not policy.consent.missing_means_opt_out)
    rank = {name: i for i, name in enumerate(RISK_PROFILES)}
    profiles = frame["risk_profile"] if policy.suitability.enabled else pd.Series(None, index=frame.index)
    risk = profiles.map(lambda v: rank.get(v, -1) if isinstance(v, str) else -1)
    quiet_cols = [c for c in fact_columns(policy, catalog) if c.endswith("_days_since")]
    quiet = (
        frame[quiet_cols].apply(pd.to_numeric, errors="coerce").min(axis=1).to_numpy(dtype=float)
        if quiet_cols
        else np.full(n, np.nan)
    )
    return CustomerFacts(
        ids=frame["customer_id"].astype(str).to_numpy(dtype=object),
        age=pd.to_numeric(frame["age"], errors="coerce").to_numpy(dtype=float),
        income_band=frame["income_band"].fillna("none").astype(str).to_numpy(dtype=object),
        held=held,
        consent=consent.astype(bool),
        risk=risk.to_numpy(dtype=np.int8),
        quiet_days_since=quiet,
    )


def eligibility_matrix(
    age: np.ndarray, income_band: np.ndarray, held: np.ndarray, catalog: ProductCatalog
) -> np.ndarray:
    """Boolean [customers, products]: eligible by the catalogue rules and not already held.

    The vectorised form of `cdna.core.config.Product.eligible` (tests check they agree), so that a million
    customers are screened in milliseconds; candidate generation for training and scoring uses it.
    """
    return _eligible(age, income_band, held, catalog) & ~held


def _eligible(
    age: np.ndarray, income_band: np.ndarray, held: np.ndarray, catalog: ProductCatalog
) -> np.ndarray:
    ids = catalog.ids
    age = np.asarray(age, dtype=float)
    no_income = np.asarray(income_band, dtype=object) == "none"
    out = np.zeros((len(age), len(ids)), dtype=bool)
    for j, p in enumerate(catalog.products):
        ok = (age >= p.min_age) & (age <= p.max_age)
        if p.requires_income:
            ok &= ~no_income
        for other in p.exclusive_with:
            ok &= ~held[:, ids.index(other)]
        out[:, j] = ok
    return out


def rule_codes(
    facts: CustomerFacts,
    rows: np.ndarray,
    products: np.ndarray,
    policy: PolicyConfig,
    catalog: ProductCatalog,
    channel: str | None = None,
    contacts: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Per offer (customer row `rows[i]`, catalogue index `products[i]`): 0 = allowed, else 1 + RULES index.

    `contacts` maps customer id -> offers already sent on `channel` within the cap's period (only read when
    `channel` has a cap in the policy).
    """
    rows = np.asarray(rows, dtype=np.int64)
    products = np.asarray(products, dtype=np.int64)
    code = np.zeros(len(rows), dtype=np.int8)

    def mark(rule: str, hit: np.ndarray) -> None:
        code[(code == 0) & hit] = RULES.index(rule) + 1

    if policy.eligibility:
        ok = _eligible(facts.age, facts.income_band, facts.held, catalog)
        mark("eligibility", ~ok[rows, products])
    if policy.already_held:
        mark("already_held", facts.held[rows, products])
    if policy.consent.enabled:
        mark("consent", ~facts.consent[rows])
    if policy.contact.quiet_days > 0 and (policy.contact.quiet_intents or policy.contact.complaint_signals):
        # "for N days after": a call today is 0 days ago, so days 0..N are quiet
        since = facts.quiet_days_since[rows]
        mark("contact_quiet", ~np.isnan(since) & (since <= policy.contact.quiet_days))
    cap = policy.contact.channel_caps.get(channel) if channel is not None else None
    if cap is not None:
        sent = np.asarray([(contacts or {}).get(c, 0) for c in facts.ids], dtype=np.int64)
        mark("channel_cap", sent[rows] >= cap.max_offers)
    if policy.suitability.enabled and policy.suitability.min_profile:
        need = np.full(len(catalog.ids), -2, dtype=np.int8)  # -2: not an investment product
        for pid, prof in policy.suitability.min_profile.items():
            need[catalog.ids.index(pid)] = RISK_PROFILES.index(prof)
        want = need[products]
        risk = facts.risk[rows]
        unassessed = risk < 0
        too_risky = (want >= 0) & ~unassessed & (risk < want)
        if not policy.suitability.unassessed_allowed:
            too_risky |= (want >= 0) & unassessed
        mark("suitability", too_risky)
    return code


def apply_policy(
    scores: pd.DataFrame,
    facts: pd.DataFrame | CustomerFacts,
    policy: PolicyConfig,
    catalog: ProductCatalog,
    k: int | None = None,
    channel: str | None = None,
    contacts: Mapping[str, int] | None = None,
) -> PolicyDecision:
    """Keep the offers every rule allows, re-ranked per customer; record the others with their rule id.

    Args:
        scores: one row per (customer_id, product_id) with a `score` (higher first); other columns such as
            reasons and evidence_ids travel with the kept rows.
        facts: feature rows of those customers (columns from `fact_columns`) or prepared `CustomerFacts`.
        policy: the decision policy (configs/policy.yaml).
        catalog: the product catalogue.
        k: keep at most k per customer (None keeps all allowed rows).
        channel: the channel an offer would go out on (sms, app_push, call …); caps apply only then.
        contacts: customer id -> offers already sent on `channel` within the cap's period.

    Returns:
        PolicyDecision with the kept rows, the suppressions and the per-rule counts.
    """
    cf = facts if isinstance(facts, CustomerFacts) else customer_facts(facts, policy, catalog)
    pos = {cid: i for i, cid in enumerate(cf.ids)}
    unknown_products = sorted(set(scores["product_id"]) - set(catalog.ids))
    if unknown_products:
        raise PolicyInputError(
            f"scores name product(s) {unknown_products[:5]} that are not in the catalogue",
            hint="add them to configs/products.yaml or drop them before applying the policy",
        )
    rows = scores["customer_id"].map(pos)
    if rows.isna().any():
        missing = scores.loc[rows.isna(), "customer_id"].iloc[0]
        raise PolicyInputError(
            f"no facts for customer {missing!r} ({int(rows.isna().sum())} scored row(s) without facts)",
            hint="pass the feature rows of every scored customer",
        )
    prod = pd.Categorical(scores["product_id"], categories=catalog.ids).codes
    order = scores.assign(_row=rows.to_numpy(dtype=np.int64), _prod=prod)
    order = order.sort_values(["_row", "score", "_prod"], ascending=[True, False, True], kind="stable")
    order["rank_before"] = order.groupby("_row", sort=False).cumcount() + 1
    code = rule_codes(
        cf, order["_row"].to_numpy(), order["_prod"].to_numpy(), policy, catalog, channel, contacts
    )
    allowed = order[code == 0].copy()
    allowed["rank"] = (allowed.groupby("_row", sort=False).cumcount() + 1).astype(np.int16)
    if k is not None:
        allowed = allowed[allowed["rank"] <= k]
    kept = allowed.drop(columns=["_row", "_prod", "rank_before"]).reset_index(drop=True)
    sup = order[code > 0]
    suppressed = pd.DataFrame(
        {
            "customer_id": sup["customer_id"].to_numpy(),
            "product_id": sup["product_id"].to_numpy(),
            "score": sup["score"].to_numpy(dtype=float),
            "rank_before": sup["rank_before"].to_numpy(dtype=np.int64),
            "rule": np.asarray(RULES, dtype=object)[code[code > 0] - 1],
        }
    )
    counted = suppressed if k is None else suppressed[suppressed["rank_before"] <= k]
    counts = {rule: int((counted["rule"] == rule).sum()) for rule in RULES}
    return PolicyDecision(kept, suppressed, counts)
