"""Campaign runs, as the CLI calls them: score, filter, select, log the offers, export; join and report.

This is the edge that touches the lake (snapshot, champion model, offer log, campaign folder); the
decisions are `recommend.campaigns` (targets, control split, uplift) and `recommend.policy` (rules).
Layout of one campaign, LAKE/campaigns/NAME/: campaign.json (what was asked and done), members.parquet
(treated and control, with scores and segments), treated.csv (the CRM/SMS export, reasons masked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

from cdna.contracts.schemas import CAMPAIGN_MEMBERS, conform, read_table
from cdna.core.config import Config
from cdna.core.lake import Lake, RunRecord, atomic_write_parquet, atomic_write_text
from cdna.recommend.campaigns import (
    CampaignError,
    CampaignSpec,
    campaign_results,
    export_rows,
    masked_reasons,
    select_targets,
)
from cdna.recommend.offer_log import OfferLog
from cdna.recommend.offers import Offer, join_conversions, new_offer_id

__all__ = ["CampaignCreated", "CampaignReport", "campaign_members", "create_campaign", "report_campaign"]


@dataclass
class CampaignCreated:
    """What `create_campaign` did.

    Attributes:
        spec: what was asked; folder: LAKE/campaigns/NAME; export: the treated CSV.
        treated / control: group sizes; eligible: customers scored for the product after the rules.
        suppressed: rule id -> customers the policy removed (empty when only eligibility applied).
        policy: "policy" when recommend.policy's rules filtered, else "eligibility".
        model_version: the champion that scored; sent_at: when the offers count as sent.
    """

    spec: CampaignSpec
    folder: Path
    export: Path
    treated: int
    control: int
    eligible: int
    suppressed: dict[str, int]
    policy: str
    model_version: int
    sent_at: datetime


@dataclass
class CampaignReport:
    """A campaign's results: one row overall and one per segment (and per customer type), with its meta."""

    meta: dict[str, Any]
    overall: dict[str, Any]
    by_segment: pd.DataFrame
    by_type: pd.DataFrame
    outcomes: dict[str, int]
    notes: list[str]


def _folder(lake: Lake, name: str) -> Path:
    return lake.campaign_dir(name)


def _latest_view(lake: Lake, view: str, as_of: date, columns: list[str]) -> pd.DataFrame | None:
    """The latest materialised partition of a feature view at or before `as_of` (segments, types), or None."""
    folder = lake.feature_view_file(view, as_of).parent.parent
    days = sorted(p.name[5:] for p in folder.glob("date=*") if p.name[5:] <= str(as_of))
    files = [lake.feature_view_file(view, d) for d in days if lake.feature_view_file(view, d).exists()]
    if not files:
        return None
    df = pd.read_parquet(files[-1])
    return df[[c for c in columns if c in df.columns]]


def _send_time(as_of: date, timezone: str) -> datetime:
    """Campaigns go out at 09:00 Korea time the day after the as-of (the scores' feature day)."""
    local = datetime.combine(as_of + timedelta(days=1), time(9), ZoneInfo(timezone))
    return local.astimezone(UTC)


def _score_product(
    lake: Lake, config: Config, product_id: str, as_of: date
) -> tuple[pd.DataFrame, pd.DataFrame, Any, int, Any]:
    """Every eligible customer's score for `product_id` and rank among their products, with the snapshot."""
    from cdna.features.snapshot import snapshot
    from cdna.recommend.runner import feature_set, reason_context, registry
    from cdna.recommend.scoring import batch_recommend

    fs = feature_set(config)
    if product_id not in fs.catalog.ids:
        raise CampaignError(
            f"--product {product_id!r} is not in the catalogue",
            hint=f"known products: {', '.join(fs.catalog.ids)}",
        )
    version, bundle = registry(lake, config).champion()
    out = lake.tmp_dir("campaign") / f"snapshot-{as_of}.parquet"
    snapshot(fs, lake.root, as_of, out)
    feats = pd.read_parquet(out)
    feats["as_of"] = pd.to_datetime(feats["as_of"]).dt.date
    all_k = config.recommend.model_copy(update={"k": len(fs.catalog.ids)})
    table = batch_recommend(
        bundle, feats, fs.catalog, fs.intents, all_k, reason_context(config, fs), str(version), None, False
    )
    scores = table.select(["customer_id", "product_id", "rank", "score"]).to_pandas()
    scores = scores[scores["product_id"] == product_id].rename(columns={"rank": "product_rank"})
    return scores.reset_index(drop=True), feats, bundle, version, fs


def _apply_rules(
    scores: pd.DataFrame, feats: pd.DataFrame, config: Config, fs: Any
) -> tuple[pd.DataFrame, dict[str, int], str]:
    """The decision policy's rules (configs/policy.yaml) for an SMS campaign: consent, quiet period after a
    complaint, channel caps, suitability, on top of eligibility (the scorer proposes eligible products only).
    """
    from cdna.core.config import load_policy
    from cdna.recommend.policy import apply_policy

    decision = apply_policy(scores, feats, load_policy(), fs.catalog, k=None, channel="sms")
    counts = {rule: int((decision.suppressed["rule"] == rule).sum()) for rule in decision.counts}
    return decision.kept.drop(columns=["rank"], errors="ignore"), counts, "policy"


def create_campaign(
    lake: Lake, config: Config, spec: CampaignSpec, mask: Callable[[str], str]
) -> CampaignCreated:
    """Select targets, hold out the control group, log the treated offers and export them (reasons masked)."""
    from cdna.recommend.dataset import data_window
    from cdna.recommend.runner import reason_context
    from cdna.recommend.scoring import batch_recommend, load_evidence

    spec.check()
    folder = _folder(lake, spec.name)
    if (folder / "campaign.json").exists():
        raise CampaignError(
            f"campaign {spec.name!r} already exists ({folder})",
            hint="choose another --name; a campaign's control group is never redrawn",
        )
    run = RunRecord("campaign-create")
    as_of = spec.as_of or data_window(lake, config.timezone)[1]
    spec = CampaignSpec(**{**asdict(spec), "as_of": as_of})
    scores, feats, bundle, version, fs = _score_product(lake, config, spec.product_id, as_of)
    kept, suppressed, policy = _apply_rules(scores, feats, config, fs)
    for view, cols in (
        ("segments", ["customer_id", "segment_id", "segment_name"]),
        ("types", ["customer_id", "type_id", "type_name", "type_source"]),
    ):
        extra = _latest_view(lake, view, as_of, cols)
        if extra is not None:
            kept = kept.merge(extra, on="customer_id", how="left")
    members = select_targets(kept, spec)
    treated = members[members["group"] == "treated"].copy()
    # Reasons for the treated customers only: what the CRM text will say.
    sub = feats[feats["customer_id"].isin(set(treated["customer_id"]))]
    all_k = config.recommend.model_copy(update={"k": len(fs.catalog.ids)})
    evidence = load_evidence(lake, as_of, config.timezone)
    explained = batch_recommend(
        bundle, sub, fs.catalog, fs.intents, all_k, reason_context(config, fs), str(version), evidence
    ).to_pandas()
    explained = explained[explained["product_id"] == spec.product_id][["customer_id", "reasons"]]
    members = members.merge(explained, on="customer_id", how="left")
    sent_at = _send_time(as_of, config.timezone)
    is_treated = members["group"] == "treated"
    members["offer_id"] = [new_offer_id(sent_at) if t else None for t in is_treated]
    members["product_id"] = spec.product_id
    members["as_of"] = as_of
    members["campaign"] = spec.name
    product_name = fs.catalog.get(spec.product_id).name
    members["shown_reasons"] = [
        masked_reasons(r, mask) if t else [] for r, t in zip(members["reasons"], is_treated, strict=True)
    ]
    export = export_rows(members[is_treated], product_name)
    offers = [
        Offer(
            offer_id=r.offer_id,
            customer_id=r.customer_id,
            product_id=spec.product_id,
            rank=int(r.product_rank),
            score=float(r.score),
            model_version=str(version),
            channel="campaign",
            shown_at=sent_at,
            reasons=tuple(r.shown_reasons),
            purpose="campaign",
            as_of=as_of,
            campaign=spec.name,
        )
        for r in members[is_treated].itertuples()
    ]
    log = OfferLog.of(lake)
    try:
        log.record(offers)
    finally:
        log.close()
    table = conform(
        pa.Table.from_pandas(members.drop(columns=["reasons", "shown_reasons"]), preserve_index=False),
        CAMPAIGN_MEMBERS,
    )
    atomic_write_parquet(table, folder / "members.parquet")
    export_path = folder / "treated.csv"
    # UTF-8 with a byte-order mark: the CRM/SMS tools and Excel then read the Korean text correctly.
    atomic_write_bytes_csv(export_path, export)
    created = CampaignCreated(
        spec,
        folder,
        export_path,
        int(is_treated.sum()),
        int((~is_treated).sum()),
        len(kept),
        suppressed,
        policy,
        int(version),
        sent_at,
    )
    meta = {
        **asdict(spec),
        "as_of": str(as_of),
        "product_name": product_name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sent_at": sent_at.isoformat(),
        "model_version": int(version),
        "treated": created.treated,
        "control": created.control,
        "eligible": created.eligible,
        "policy": policy,
        "suppressed": suppressed,
    }
    atomic_write_text(folder / "campaign.json", json.dumps(meta, ensure_ascii=False, indent=2))
    run.outputs = [str(folder / "members.parquet"), str(export_path)]
    run.counts = {"treated": created.treated, "control": created.control, "eligible": created.eligible}
    run.extra = {"campaign": spec.name, "product": spec.product_id, "model_version": int(version)}
    run.finish(lake)
    return created


def atomic_write_bytes_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write a frame as UTF-8 CSV with a byte-order mark, atomically."""
    from cdna.core.lake import atomic_write_bytes

    return atomic_write_bytes(path, frame.to_csv(index=False).encode("utf-8-sig"))


def load_campaign(lake: Lake, name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """A campaign's meta and members (CampaignError naming the known campaigns when absent)."""
    folder = _folder(lake, name)
    if not (folder / "campaign.json").exists():
        known = sorted(p.name for p in lake.campaigns.glob("*") if (p / "campaign.json").exists())
        raise CampaignError(
            f"no campaign named {name!r} in {lake.campaigns}",
            hint=f"known campaigns: {', '.join(known) or '(none)'}; create one with `cdna campaign create`",
        )
    meta = json.loads((folder / "campaign.json").read_text(encoding="utf-8"))
    members = read_table(folder / "members.parquet", CAMPAIGN_MEMBERS).to_pandas()
    return meta, members


def campaign_members(lake: Lake, config: Config, name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """Members with their outcome (treated, from the offer log) and conversion within the horizon."""
    from cdna.recommend.dataset import load_holdings

    meta, members = load_campaign(lake, name)
    log = OfferLog.of(lake)
    try:
        outcomes = log.outcomes_table().to_pandas()[["offer_id", "outcome"]]
    finally:
        log.close()
    members = members.merge(outcomes, on="offer_id", how="left")
    members.loc[members["offer_id"].isna(), "outcome"] = None
    members["day"] = pd.to_datetime(members["as_of"]).dt.date
    conv = join_conversions(members, load_holdings(lake), int(meta["horizon_days"]), config.timezone)
    members["converted"] = conv.notna().to_numpy()
    return meta, members.drop(columns=["day"])


def report_campaign(lake: Lake, config: Config, name: str) -> CampaignReport:
    """Response and conversion of treated vs control, uplift with 95% intervals, overall and per segment."""
    from cdna.recommend.dataset import data_window, load_holdings

    meta, members = campaign_members(lake, config, name)
    results = campaign_results(members, "segment_name")
    typed = "type_name" in members and members["type_name"].notna().any()
    types = campaign_results(members, "type_name").iloc[1:] if typed else pd.DataFrame()
    overall = results.iloc[0].to_dict()
    treated = members[members["group"] == "treated"]
    outcomes = {str(k): int(v) for k, v in treated["outcome"].fillna("no_answer").value_counts().items()}
    notes = []
    end = date.fromisoformat(meta["as_of"]) + timedelta(days=int(meta["horizon_days"]))
    # The history reaches the last transaction or product event (a channel's opens may come later).
    holdings = load_holdings(lake)
    opened = pd.to_datetime(holdings["ts"], utc=True).dt.tz_convert(config.timezone).max()
    last = max(data_window(lake, config.timezone)[1], opened.date() if pd.notna(opened) else date.min)
    if last < end:
        notes.append(
            f"the conversion window ends {end}; the lake's history reaches {last}: conversions are not final yet"
        )
    return CampaignReport(meta, overall, results.iloc[1:].reset_index(drop=True), types, outcomes, notes)
