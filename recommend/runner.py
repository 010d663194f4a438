"""The recommender's runs, as the CLI and the demo call them: train, evaluate, retrain, recommend, models.

This is the edge that touches the lake, the feature store and MLflow; every step it wires is a pure
function of `recommend.labels`, `dataset`, `models`, `metrics`, `retrain`, `reasons` and `scoring`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cdna.core.config import Config, PolicyConfig, load_policy
from cdna.core.errors import CdnaError, UnknownCustomerError
from cdna.core.lake import Lake, RunRecord
from cdna.recommend.dataset import data_window, load_customers, load_holdings, point_in_time_features
from cdna.recommend.labels import check_products
from cdna.recommend.offer_log import OfferLog
from cdna.recommend.offers import LoopOptions, acceptance_summary, outcome_labels
from cdna.recommend.pipeline import (
    Evaluation,
    ModelBundle,
    TrainingData,
    build_training_data,
    evaluate,
    fit_bundle,
)
from cdna.recommend.policy import check_policy
from cdna.recommend.reasons import ReasonContext
from cdna.recommend.registry import CHALLENGER, Registry
from cdna.recommend.report import write_report
from cdna.recommend.retrain import Decision, Trigger, drift, gate, live_hit_rate, triggers

if TYPE_CHECKING:
    from cdna.features.snapshot import FeatureSet
from cdna.recommend.scoring import (
    batch_recommend,
    load_evidence,
    suppression_counts,
    write_online,
    write_recommendations,
)

__all__ = [
    "RetrainResult",
    "TrainResult",
    "evaluate_run",
    "feature_set",
    "reason_context",
    "recommend_run",
    "registry",
    "retrain_run",
    "train_run",
]


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        bundle: the model bundle; evaluation: holdout comparison; report: HTML path;
        run_id / version: MLflow run and registered version (None when not logged); timings in seconds.
    """

    bundle: ModelBundle
    evaluation: Evaluation
    report: Path
    data: TrainingData
    run_id: str | None = None
    version: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RetrainResult:
    """What `cdna retrain` decided.

    Attributes:
        ran: whether a challenger was trained (False when --if-needed found no trigger).
        triggers: the checks of --if-needed.
        decision: the gate's verdict; train: the challenger's training result.
        champion_version: the champion after the run.
    """

    ran: bool
    triggers: list[Trigger]
    decision: Decision | None = None
    train: TrainResult | None = None
    champion_version: int | None = None


def feature_set(config: Config) -> FeatureSet:
    """The feature store's FeatureSet for this configuration."""
    from cdna.features.snapshot import FeatureSet

    return FeatureSet.from_config(config)


def registry(lake: Lake, config: Config) -> Registry:
    """The MLflow registry of this lake (or of recommend.tracking_uri)."""
    return Registry(lake, config.recommend.model_name, config.recommend.tracking_uri)


def reason_context(config: Config, fs: Any, policy: PolicyConfig | None = None) -> ReasonContext:
    """Names and feature descriptions that word the reasons, and what they may never cite (configs/policy.yaml)."""
    desc = {f.name: f.description for v in fs.views for f in v.features}
    hygiene = (policy or load_policy()).reason_hygiene
    return ReasonContext(
        fs.catalog,
        fs.intents,
        fs.memo,
        dict(config.features.web_page_categories),
        dict(config.recommend.web_page_products),
        dict(config.recommend.memo_category_products),
        desc,
        never_cite_intents=frozenset(hygiene.never_cite_intents),
        never_cite_features=frozenset(hygiene.never_cite_features),
        intent_must_support_product=hygiene.intent_must_support_product,
    )


def _workdir(lake: Lake) -> Path:
    return lake.tmp_dir("recommend")


def _fit_and_evaluate(
    lake: Lake,
    config: Config,
    fs: Any,
    shuffle_labels: bool = False,
    champion: ModelBundle | None = None,
    on_tree: Callable[[], Any] | None = None,
) -> tuple[TrainingData, ModelBundle, Evaluation, Any, list[str]]:
    cfg = config.recommend
    t0 = time.perf_counter()
    data = build_training_data(lake, fs, cfg, _workdir(lake), outcome_rows(lake, config))
    views = {v.name: v.version for v in fs.views}
    bundle = fit_bundle(data, cfg, False, shuffle_labels, views, fs.catalog.ids, on_tree)
    structured = fit_bundle(data, cfg, True, shuffle_labels, views, fs.catalog.ids, on_tree)
    scorers: dict[str, Any] = {
        "model": bundle.model,
        "structured_only": structured.model,
        "popularity": bundle.popularity,
    }
    notes = []
    if champion is not None:
        missing = [c for c in champion.model.feature_names_ if c not in data.holdout.columns]
        if missing:
            notes.append(
                f"the champion needs feature(s) {missing[:3]} the current feature store lacks; "
                "it cannot be evaluated on this holdout"
            )
        else:
            scorers["champion"] = champion.model
    ev = evaluate(scorers, data.holdout, cfg.k, cfg.segment_column, len(fs.catalog.ids))
    bundle.metrics = dict(ev.metrics["model"])
    data.timings["train_evaluate_s"] = round(time.perf_counter() - t0, 2)
    return data, bundle, ev, structured, notes


def _offer_tables(lake: Lake) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The offer log's offers and outcomes (None when nothing was ever offered)."""
    if not lake.offers_db.exists():
        return None
    log = OfferLog.of(lake)
    try:
        return log.offers_table().to_pandas(), log.outcomes_table().to_pandas()
    finally:
        log.close()


def outcome_rows(lake: Lake, config: Config) -> pd.DataFrame | None:
    """Training rows from the offer log: accepted offers and conversions positive, declines negative (issue 17)."""
    tables = _offer_tables(lake)
    if tables is None or tables[0].empty:
        return None
    cfg = config.recommend
    opts = LoopOptions(cfg.horizon_days, tuple(cfg.outcome_positives), tuple(cfg.outcome_negatives))
    return outcome_labels(tables[0], tables[1], load_holdings(lake), opts, config.timezone)


def champion_live(lake: Lake, version: int | None) -> dict[str, float] | None:
    """The champion's live offers: offers, answered, acceptance rate and counts per outcome."""
    tables = _offer_tables(lake)
    if tables is None or version is None:
        return None
    return acceptance_summary(tables[0], tables[1], str(version))


def _live_note(
    live: dict[str, float] | None, version: int | None, metrics: dict[str, float] | None, k: int
) -> str:
    """One line: the champion's live acceptance next to its offline MAP@k."""
    offline = (metrics or {}).get(f"map@{k}")
    off = f"offline MAP@{k} {offline:.4f}" if offline is not None else f"offline MAP@{k} n/a"
    if live is None or not live["answered"]:
        return f"champion v{version}: no answered offers yet (live acceptance n/a); {off}"
    return (
        f"champion v{version}: live acceptance {live['acceptance_rate']:.1%} of {int(live['answered'])} answered "
        f"offers (accepted {int(live['accepted'])}, declined {int(live['declined'])}, not interested "
        f"{int(live['not_interested'])}; {int(live['offers'])} shown); {off}"
    )


def _summary_notes(data: TrainingData, ev: Evaluation, k: int) -> list[str]:
    m = ev.metrics
    key = f"map@{k}"
    lift_pop = m["model"][key] / m["popularity"][key] if m["popularity"][key] else float("inf")
    lift_struct = m["model"][key] / m["structured_only"][key] if m["structured_only"][key] else float("inf")
    rows = data.outcome_rows
    loop = (
        [
            f"offer outcomes in training: {len(rows):,} rows ({int(rows['label'].sum()):,} positive, "
            f"{int((rows['label'] == 0).sum()):,} negative; "
            + ", ".join(f"{s} {n}" for s, n in rows["source"].value_counts().items())
            + ")"
        ]
        if rows is not None and len(rows)
        else ["offer outcomes in training: none"]
    )
    return loop + [
        f"train as-of dates {', '.join(map(str, data.train_dates))}; holdout {', '.join(map(str, data.holdout_dates))}",
        f"{len(data.train):,} training and {len(data.holdout):,} holdout candidate rows; "
        f"{int(data.train['label'].sum()):,} / {int(data.holdout['label'].sum()):,} opens",
        f"{key}: LightGBM / popularity = {lift_pop:.2f}x; all features / structured only = {lift_struct:.2f}x",
        f"feature groups: {len(data.groups.structured)} structured, {len(data.groups.signal)} from calls and memos",
    ]


def _log(
    reg: Registry,
    bundle: ModelBundle,
    ev: Evaluation,
    report: Path,
    data: TrainingData,
    config: Config,
    tags: dict[str, str],
) -> tuple[str, int]:
    cfg = config.recommend
    params = {
        **cfg.model_dump(exclude={"web_page_products"}),
        "train_dates": ",".join(bundle.train_dates),
        "holdout_dates": ",".join(bundle.holdout_dates),
        "n_features": len(bundle.model.feature_names_),
        "train_rows": len(data.train),
    }
    metrics = {
        **{k: v for k, v in ev.metrics["model"].items()},
        **{f"{k}_structured_only": v for k, v in ev.metrics["structured_only"].items() if "@" in k},
        **{f"{k}_popularity": v for k, v in ev.metrics["popularity"].items() if "@" in k},
    }
    files = {"report": report}
    run_id = reg.log_run(bundle, params, metrics, tags, files, scoring=scoring_context(config, bundle))
    version = reg.register(run_id)
    return run_id, version


def scoring_context(config: Config, bundle: ModelBundle, version: str = "mlflow") -> Any:
    """What the MLflow pyfunc model needs to score a snapshot frame on its own (issue 18)."""
    from cdna.recommend.mlflow_model import ScoringContext

    fs = feature_set(config)
    return ScoringContext(fs.catalog, fs.intents, config.recommend, reason_context(config, fs), version)


def base_rates(bundle: ModelBundle) -> dict[str, float]:
    """Each product's open rate in the training rows: what "평균 대비 3.2배" divides by."""
    rates = getattr(bundle.popularity, "global_", None) or {}
    return {str(p): round(float(r), 6) for p, r in rates.items()}


def train_run(
    lake: Lake,
    config: Config,
    shuffle_labels: bool = False,
    log: bool = True,
    on_tree: Callable[[], Any] | None = None,
) -> TrainResult:
    """Train on the earlier months, evaluate on the holdout, log to MLflow and register a challenger version."""
    fs = feature_set(config)
    run = RunRecord("train", inputs=[str(lake.raw("holdings")), str(lake.raw("customers"))])
    data, bundle, ev, structured, notes = _fit_and_evaluate(lake, config, fs, shuffle_labels, on_tree=on_tree)
    k = config.recommend.k
    report = lake.report_file("recommend", f"train-{run.run_id}.html")
    write_report(
        report,
        "추천 모델 학습 보고서",
        ev,
        k,
        bundle.model.importance(),
        _summary_notes(data, ev, k) + notes,
    )
    res = TrainResult(bundle, ev, report, data, timings=dict(data.timings))
    if log:
        reg = registry(lake, config)
        res.run_id, res.version = _log(
            reg, bundle, ev, report, data, config, {"kind": "train", "shuffled_labels": str(shuffle_labels)}
        )
        reg.set_alias(CHALLENGER, res.version)
    run.outputs = [str(report)]
    run.counts = {"train_rows": len(data.train), "holdout_rows": len(data.holdout)}
    run.extra = {"metrics": ev.table(), "version": res.version, "run_id": res.run_id}
    run.finish(lake)
    return res


def evaluate_run(
    lake: Lake, config: Config, on_tree: Callable[[], Any] | None = None
) -> tuple[Evaluation, Path, list[str]]:
    """Train model, structured-only and popularity on the training months and compare them (and the champion)."""
    fs = feature_set(config)
    reg = registry(lake, config)
    champion = None
    version: int | None = None
    notes: list[str] = []
    try:
        version, champion = reg.champion()
        notes.append(f"champion = version {version}")
    except CdnaError:
        notes.append("no champion model yet: evaluating freshly trained models only")
    data, bundle, ev, _, more = _fit_and_evaluate(lake, config, fs, champion=champion, on_tree=on_tree)
    k = config.recommend.k
    report = lake.report_file("recommend", "evaluate.html")
    notes = _summary_notes(data, ev, k) + notes + more
    write_report(report, "추천 모델 평가 보고서", ev, k, bundle.model.importance(), notes)
    # the evaluation is a run of its own in MLflow (issue 18: it trained for minutes and logged nothing)
    metrics = {
        f"{k_}_{scorer}" if scorer != "model" else k_: float(v)
        for scorer, table in ev.metrics.items()
        for k_, v in table.items()
        if isinstance(v, int | float)
    }
    params = {"train_dates": ",".join(bundle.train_dates), "holdout_dates": ",".join(bundle.holdout_dates)}
    tags = {"kind": "evaluate", "champion_version": str(version)}
    reg.log_run(None, params, metrics, tags, {"report": report})
    return ev, report, notes


def _current_snapshot(lake: Lake, fs: Any, day: date) -> pd.DataFrame:
    from cdna.features.snapshot import snapshot

    out = _workdir(lake) / f"snapshot-{day}.parquet"
    snapshot(fs, lake.root, day, out)
    df = pd.read_parquet(out)
    df["as_of"] = pd.to_datetime(df["as_of"]).dt.date
    return df


def _live(lake: Lake, config: Config, last_day: date) -> tuple[float, int] | None:
    parts = sorted(p for p in lake.recommendations.glob("date=*") if p.name[5:] < str(last_day))
    if not parts:
        return None
    latest = parts[-1]
    day = date.fromisoformat(latest.name[5:])
    recs = pd.read_parquet(latest)
    hold = load_holdings(lake)
    opens = hold[hold["event"] == "open"].copy()
    opens["day"] = pd.to_datetime(opens["ts"], utc=True).dt.tz_convert(config.timezone).dt.date
    end = min(last_day, day + pd.Timedelta(days=config.recommend.horizon_days).to_pytimedelta())
    opens = opens[(opens["day"] > day) & (opens["day"] <= end)]
    return live_hit_rate(recs, opens, config.recommend.k)


def check_triggers(lake: Lake, config: Config) -> list[Trigger]:
    """The --if-needed checks: champion age, feature drift against its training reference, live hit rate."""
    reg = registry(lake, config)
    try:
        _, champ = reg.champion()
    except CdnaError:
        return triggers(None, None, None, None, config.recommend)
    fs = feature_set(config)
    _, last = data_window(lake, config.timezone)
    snap = _current_snapshot(lake, fs, last)
    table = drift(champ.reference, snap, config.recommend)
    live = _live(lake, config, last)
    hit = champ.metrics.get(f"hitrate@{champ.k}")
    acc = champion_live(lake, reg.alias("champion"))
    acceptance = (acc["acceptance_rate"], int(acc["answered"])) if acc and acc["answered"] else None
    return triggers(champ.trained_at, table, live, hit, config.recommend, acceptance=acceptance)


def retrain_run(
    lake: Lake,
    config: Config,
    if_needed: bool = False,
    shuffle_labels: bool = False,
    on_tree: Callable[[], Any] | None = None,
) -> RetrainResult:
    """Train a challenger, evaluate it and the champion on the same holdout, and promote only through the gate."""
    run = RunRecord("retrain")
    trig: list[Trigger] = []
    if if_needed:
        trig = check_triggers(lake, config)
        if not any(t.fired for t in trig):
            run.extra = {"triggers": [t.__dict__ for t in trig], "ran": False}
            run.finish(lake)
            return RetrainResult(False, trig, champion_version=registry(lake, config).alias("champion"))
    reg = registry(lake, config)
    champion_version, champion = None, None
    with contextlib.suppress(CdnaError):
        champion_version, champion = reg.champion()
    fs = feature_set(config)
    data, bundle, ev, _, notes = _fit_and_evaluate(lake, config, fs, shuffle_labels, champion, on_tree)
    cfg = config.recommend
    metric = cfg.primary_metric
    champ_metrics = ev.metrics.get("champion")
    decision = gate(
        metric,
        ev.metrics["model"],
        champ_metrics,
        ev.metrics["popularity"],
        ev.segments["model"],
        ev.segments.get("champion"),
        cfg,
    )
    reasons = notes + decision.reasons
    report = lake.report_file("recommend", f"retrain-{run.run_id}.html")
    write_report(
        report,
        "추천 모델 재학습·승격 판단 보고서",
        ev,
        cfg.k,
        bundle.model.importance(),
        [
            _live_note(
                champion_live(lake, champion_version),
                champion_version,
                champion.metrics if champion else None,
                cfg.k,
            ),
            *(f"trigger {t.name}: {'FIRED' if t.fired else 'quiet'} — {t.detail}" for t in trig),
            *_summary_notes(data, ev, cfg.k),
        ],
        reasons,
    )
    tags = {
        "kind": "retrain",
        "shuffled_labels": str(shuffle_labels),
        "gate.promoted": str(decision.promote),
        "gate.reason": " | ".join(reasons),
        "gate.champion_version": str(champion_version),
        "triggers": json.dumps([t.__dict__ for t in trig], ensure_ascii=False),
    }
    run_id, version = _log(reg, bundle, ev, report, data, config, tags)
    reg.client.set_model_version_tag(reg.name, str(version), "gate.promoted", str(decision.promote))
    reg.client.set_model_version_tag(reg.name, str(version), "gate.reason", " | ".join(reasons)[:5000])
    if decision.promote:
        reg.promote(version)
        champion_version = version
    else:
        reg.set_alias(CHALLENGER, version)
    tr = TrainResult(bundle, ev, report, data, run_id, version, dict(data.timings))
    run.outputs = [str(report)]
    run.extra = {
        "version": version,
        "run_id": run_id,
        "promoted": decision.promote,
        "reasons": reasons,
        "champion": champion_version,
        "metrics": ev.table(),
    }
    run.finish(lake)
    return RetrainResult(True, trig, decision, tr, champion_version)


def recommend_run(
    lake: Lake,
    config: Config,
    customer_id: str | None = None,
    out: Path | None = None,
    as_of: date | None = None,
    reasons: bool = True,
) -> tuple[Any, int, date, list[Path]]:
    """Score one customer (printed) or all (Parquet + online store) with the champion model."""
    reg = registry(lake, config)
    version, bundle = reg.champion()
    fs = feature_set(config)
    day = as_of or data_window(lake, config.timezone)[1]
    customers = load_customers(lake)
    check_products(load_holdings(lake), fs.catalog, str(lake.raw("holdings")))
    if customer_id is not None:
        if customer_id not in set(customers["customer_id"]):
            raise UnknownCustomerError(
                f"customer {customer_id!r} is not in {lake.raw('customers')}",
                hint="check the id (e.g. C0000001)",
            )
        ents = pd.DataFrame({"customer_id": [customer_id], "as_of": [day]})
        feats, _ = point_in_time_features(fs, lake, ents, _workdir(lake) / "one")
    else:
        feats = _current_snapshot(lake, fs, day)
    evidence = load_evidence(lake, day, config.timezone) if reasons else None
    policy = load_policy()
    check_policy(policy, fs.catalog, fs.intents.ids)
    table = batch_recommend(
        bundle,
        feats,
        fs.catalog,
        fs.intents,
        config.recommend,
        reason_context(config, fs, policy),
        str(version),
        evidence,
        reasons,
        policy=policy,
    )
    paths: list[Path] = []
    if customer_id is None:
        run = RunRecord("recommend")
        paths = write_recommendations(lake, table, day, out)
        online, n = write_online(
            lake,
            table,
            {
                "as_of": str(day),
                "model_version": version,
                "kind": "recommendations",
                "base_rates": base_rates(bundle),  # the console's "가입 가능성" bands divide by these
            },
        )
        paths.append(online)
        run.outputs = [str(p) for p in paths]
        suppressed = suppression_counts(table) or {}
        run.counts = {
            "customers": n,
            "rows": table.num_rows,
            **{f"suppressed_{r}": v for r, v in suppressed.items()},
        }
        run.extra = {"model_version": version, "as_of": str(day), "policy_suppressed": suppressed}
        run.finish(lake)
    return table, version, day, paths
