"""`cdna train|evaluate|retrain|recommend` and `cdna models …`: the product recommender (issue #6)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cdna.cli.console import Output
from cdna.cli.state import parse_day, state
from cdna.contracts.results import RecommendResult, RetrainResult
from cdna.core.errors import ConfigError

if TYPE_CHECKING:
    pass

__all__ = ["models_app", "register"]

LakeOpt = Annotated[
    Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
]

models_app = typer.Typer(
    help="The model registry (MLflow): list versions, promote one to champion, roll back.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _metrics_table(table: dict[str, dict[str, float]], title: str) -> Table:
    scorers = list(next(iter(table.values())).keys()) if table else []
    human = Table(title=title, show_edge=False, title_justify="left")
    human.add_column("metric")
    for s in scorers:
        human.add_column(s, justify="right")
    for metric, row in table.items():
        if metric in ("lists", "lists_with_positive", "positives"):
            continue
        human.add_row(metric, *[f"{row.get(s, float('nan')):.4f}" if s in row else "" for s in scorers])
    return human


def _lifts(table: dict[str, dict[str, float]], key: str) -> dict[str, float]:
    row = table.get(key, {})
    out = {}
    if row.get("popularity"):
        out["model_vs_popularity"] = round(row["model"] / row["popularity"], 4)
    if row.get("structured_only"):
        out["all_vs_structured_only"] = round(row["model"] / row["structured_only"], 4)
    return out


def _recs_table(rows: list[dict[str, Any]], names: dict[str, str], title: str) -> Table:
    human = Table(title=title, show_edge=False, title_justify="left", show_lines=False)
    human.add_column("#", justify="right")
    human.add_column("product", max_width=14, overflow="fold")
    human.add_column("score", justify="right")
    human.add_column("why (근거)", min_width=30, overflow="fold")
    human.add_column("evidence", style="dim", max_width=16, overflow="fold")
    for r in rows:
        ev = r.get("evidence_ids") or []
        human.add_row(
            str(r["rank"]),
            names.get(r["product_id"], r["product_id"]),
            f"{r['score']:.4f}",
            "\n".join(r["reasons"]),
            ", ".join(ev[:4]) + (" …" if len(ev) > 4 else ""),
        )
    return human


def _product_names() -> dict[str, str]:
    from cdna.core.config import load_products

    return {p.id: p.name for p in load_products().products}


def print_customer(o: Output, table: Any, version: int, customer_id: str) -> None:
    """Print one customer's recommendations with reasons (or JSON)."""
    rows = [r for r in table.to_pylist() if r["customer_id"] == customer_id]
    for r in rows:
        r["as_of"] = str(r["as_of"])
    print_rows(o, rows, version, customer_id, rows[0]["as_of"] if rows else "")


def print_rows(o: Output, rows: list[dict[str, Any]], version: int, customer_id: str, day: str) -> None:
    """Print recommendation rows of one customer (scored now or read from the online store)."""
    o.result(
        {"customer_id": customer_id, "as_of": day, "model_version": version, "recommendations": rows},
        _recs_table(
            rows, _product_names(), f"{customer_id} — top {len(rows)} as of {day} (model v{version})"
        ),
    )


# the bar counts trees of both LightGBM models; it stays at 0 while the training set is built (elapsed shows)
_TREES = "training LightGBM (all features, then structured only)"

_RescoreOpt = Annotated[
    bool,
    typer.Option(
        "--rescore/--no-rescore",
        help="Score every customer with the new champion at once, so the service serves its scores.",
    ),
]


def rescore(st: Any, lk: Any, version: int | None) -> None:
    """Score everyone with the champion now (issue 18: a promotion left the service on the old scores)."""
    from cdna.recommend.runner import recommend_run

    st.output.say(f"rescoring every customer with champion version {version} (cdna recommend --all) …")
    table, used, day, paths = recommend_run(lk, st.config)
    n = len(set(table.column("customer_id").to_pylist()))
    st.output.say(f"{n:,} customers rescored with version {used} as of {day}; the service swaps them in")


@models_app.command("list")
def models_list(ctx: typer.Context, lake: LakeOpt = None) -> None:
    """Registered model versions with aliases and holdout metrics, newest first.

    Example: [bold]cdna models list --lake ./lake[/]
    """
    from cdna.recommend.registry_sql import read_versions

    st = state(ctx)
    lk = st.lake(lake)
    cfg = st.config.recommend
    # read straight from mlflow.db (no MLflow import): a one-line question answers in about a second
    versions = read_versions(lk.mlflow_db, cfg.model_name)
    key = cfg.primary_metric
    human = Table(title=f"registered model {cfg.model_name}", show_edge=False, title_justify="left")
    for c in ("version", "aliases", key, "created (UTC)", "gate"):
        human.add_column(c)
    from datetime import UTC, datetime

    rows = []
    for v in versions:
        created = datetime.fromtimestamp(v.created / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        gate = v.tags.get("gate.reason", "") or (
            "trained by `cdna train`" if v.tags.get("kind") == "train" else ""
        )
        rows.append(
            {
                "version": v.version,
                "aliases": list(v.aliases),
                key: v.metrics.get(key),
                "created": created,
                "run_id": v.run_id,
                "gate": gate,
                "shuffled_labels": v.tags.get("shuffled_labels"),
            }
        )
        human.add_row(
            str(v.version),
            ", ".join(v.aliases),
            f"{v.metrics.get(key, float('nan')):.4f}",
            created,
            gate[-120:],
        )
    if not versions:
        st.output.say(f"[yellow]no model versions yet[/] — run `cdna retrain --lake {lk.root}`")
    st.output.result({"model": cfg.model_name, "versions": rows}, human)


@models_app.command("promote")
def models_promote(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(help="Version number to promote.")],
    lake: LakeOpt = None,
    rescore_: _RescoreOpt = True,
) -> None:
    """Make VERSION the champion by hand (the previous champion is kept for rollback).

    Example: [bold]cdna models promote 3 --lake ./lake[/]
    """
    from cdna.recommend.runner import registry

    st = state(ctx)
    lk = st.lake(lake)
    reg = registry(lk, st.config)
    previous = reg.promote(version)
    if rescore_:
        rescore(st, lk, version)
    else:
        st.output.say(
            f"[yellow]the service keeps serving the old scores until `cdna recommend --all --lake {lk.root}`[/]"
        )
    st.output.result(
        {"champion": version, "previous": previous},
        f"version {version} is now the champion (was {previous if previous is not None else 'none'})",
    )


@models_app.command("rollback")
def models_rollback(ctx: typer.Context, lake: LakeOpt = None, rescore_: _RescoreOpt = True) -> None:
    """Restore the previous champion.

    Example: [bold]cdna models rollback --lake ./lake[/]
    """
    from cdna.recommend.runner import registry

    st = state(ctx)
    lk = st.lake(lake)
    reg = registry(lk, st.config)
    demoted, restored = reg.rollback()
    if rescore_:
        rescore(st, lk, restored)
    st.output.result(
        {"champion": restored, "demoted": demoted},
        f"rolled back: version {restored} is the champion again (version {demoted} demoted)",
    )


def register(app: typer.Typer) -> None:
    """Add the recommender commands to the CLI."""

    @app.command(rich_help_panel="Stages")
    def train(
        ctx: typer.Context,
        lake: LakeOpt = None,
        shuffle_labels: Annotated[
            bool, typer.Option("--shuffle-labels", help="Corrupt the labels (to test the gate).")
        ] = False,
    ) -> None:
        """Train the recommender on point-in-time training sets, log it to MLflow and register a challenger.

        Example: [bold]cdna train --lake ./lake[/]
        """
        from cdna.recommend.runner import train_run

        st = state(ctx)
        o = st.output
        lk = st.lake(lake)
        o.say(
            "building the point-in-time training set and training (LightGBM, structured-only, popularity) …"
        )
        with o.progress(_TREES, 2 * st.config.recommend.n_estimators, "trees") as advance:
            res = train_run(lk, st.config, shuffle_labels, on_tree=lambda: advance(1))
        table = res.evaluation.table()
        o.result(
            {
                **table,
                "lift": _lifts(table, f"map@{st.config.recommend.k}"),
                "version": res.version,
                "run_id": res.run_id,
                "report": str(res.report),
                "timings": res.timings,
            },
            _metrics_table(table, f"holdout metrics — registered version {res.version} as challenger"),
        )
        o.say(
            f"report → {res.report}\npromote it with `cdna models promote {res.version}` or let `cdna retrain` decide"
        )

    @app.command(rich_help_panel="Stages")
    def evaluate(
        ctx: typer.Context,
        lake: LakeOpt = None,
        json_: Annotated[
            bool, typer.Option("--json", help="Print the metrics as JSON (also `cdna --json evaluate`).")
        ] = False,
    ) -> None:
        """Compare LightGBM (all features), structured-only, popularity and the champion on the same holdout.

        Example: [bold]cdna evaluate --lake ./lake --json[/]
        """
        from cdna.recommend.runner import evaluate_run

        st = state(ctx)
        o = Output(quiet=st.quiet, json=True) if json_ else st.output
        lk = st.lake(lake)
        o.say(
            "evaluate trains three models (LightGBM, structured-only, popularity) on the earlier months "
            "and scores them and the champion on the holdout months; this takes minutes on a large bank. "
            "The run is logged to MLflow as an `evaluate` run."
        )
        with o.progress(_TREES, 2 * st.config.recommend.n_estimators, "trees") as advance:
            ev, report, notes = evaluate_run(lk, st.config, on_tree=lambda: advance(1))
        table = ev.table()
        key = f"map@{st.config.recommend.k}"
        o.result(
            {**table, "lift": _lifts(table, key), "report": str(report), "notes": notes},
            _metrics_table(table, "holdout metrics (same rows for every model)"),
        )
        for n in notes:
            o.say(f"[dim]{n}[/]")
        o.say(f"report → {report}")

    @app.command(rich_help_panel="Stages")
    def retrain(
        ctx: typer.Context,
        lake: LakeOpt = None,
        if_needed: Annotated[
            bool,
            typer.Option("--if-needed", help="Only when the age, drift or live-performance trigger fires."),
        ] = False,
        shuffle_labels: Annotated[
            bool, typer.Option("--shuffle-labels", help="Corrupt the labels (to prove the gate refuses).")
        ] = False,
        rescore_: _RescoreOpt = True,
    ) -> None:
        """Train a challenger, evaluate it and the champion on the same holdout, promote only through the gate.

        Example: [bold]cdna retrain --lake ./lake[/]   ·   [bold]cdna retrain --if-needed --lake ./lake[/]
        """
        from cdna.recommend.runner import retrain_run

        st = state(ctx)
        o = st.output
        lk = st.lake(lake)
        with o.progress(_TREES, 2 * st.config.recommend.n_estimators, "trees") as advance:
            res = retrain_run(lk, st.config, if_needed, shuffle_labels, on_tree=lambda: advance(1))
        trig = [{"name": t.name, "fired": t.fired, "detail": t.detail} for t in res.triggers]
        for t in res.triggers:
            o.say(f"trigger {t.name}: {'[bold]fired[/]' if t.fired else 'quiet'} — {t.detail}")
        if not res.ran:
            o.result(
                {"ran": False, "triggers": trig, "champion": res.champion_version},
                f"no trigger fired: champion version {res.champion_version} kept, nothing trained",
                schema=RetrainResult,
            )
            return
        assert res.decision is not None and res.train is not None
        d = res.decision
        if d.promote and rescore_:
            rescore(st, lk, res.champion_version)
        table = res.train.evaluation.table()
        verdict = "[bold green]PROMOTED[/]" if d.promote else "[bold yellow]NOT PROMOTED[/]"
        o.say(
            _metrics_table(table, f"challenger version {res.train.version} vs champion on the same holdout")
        )
        o.result(
            {
                "ran": True,
                "promoted": d.promote,
                "reasons": d.reasons,
                "challenger_version": res.train.version,
                "champion": res.champion_version,
                "metrics": table,
                "triggers": trig,
                "run_id": res.train.run_id,
                "report": str(res.train.report),
                "timings": res.train.timings,
            },
            f"{verdict}: " + "; ".join(d.reasons) + f"\nchampion: version {res.champion_version}",
            schema=RetrainResult,
        )
        o.say(f"report → {res.train.report}  (the reason is recorded in MLflow run {res.train.run_id})")

    @app.command(rich_help_panel="Stages")
    def recommend(
        ctx: typer.Context,
        customer_id: Annotated[str | None, typer.Argument(help="One customer id (e.g. C0000001).")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Score every customer.")] = False,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                help="Also copy --all results to this Parquet file (they always go to LAKE/recommendations/date=D/).",
            ),
        ] = None,
        lake: LakeOpt = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Korea-time day (default: the last day of data).")
        ] = None,
        reasons: Annotated[
            bool, typer.Option("--reasons/--no-reasons", help="Explain each pick (about 0.6 ms per row).")
        ] = True,
        fresh: Annotated[
            bool,
            typer.Option(
                "--fresh", help="Score one customer now instead of reading the champion's stored top-k."
            ),
        ] = False,
    ) -> None:
        """Top-k products with Korean reasons for one customer, or for all (Parquet + online store).

        Example: [bold]cdna recommend C0000001 --lake ./lake[/]   ·   [bold]cdna recommend --all --out recs.parquet --lake ./lake[/]
        """
        st = state(ctx)
        o = st.output
        lk = st.lake(lake)
        if (customer_id is None) == (not all_):
            raise ConfigError(
                "give either one CUSTOMER_ID or --all", hint="e.g. `cdna recommend C0000001 --lake LAKE`"
            )
        if customer_id is not None and not fresh and as_of is None and reasons:
            from cdna.recommend.lookup import online_recommendations

            # the nightly batch already wrote this customer's top-k with the champion: read it (issue 18)
            stored = online_recommendations(lk, st.config.recommend.model_name, customer_id)
            if stored is not None:
                print_rows(o, stored.rows, stored.version, customer_id, stored.as_of)
                return
        from cdna.recommend.runner import recommend_run

        table, version, day, paths = recommend_run(lk, st.config, customer_id, out, parse_day(as_of), reasons)
        if customer_id is not None:
            print_customer(o, table, version, customer_id)
            return
        from cdna.recommend.scoring import suppression_counts

        n = len(set(table.column("customer_id").to_pylist()))
        suppressed = suppression_counts(table) or {}
        held_back = ", ".join(f"{r} {v:,}" for r, v in suppressed.items() if v) or "none"
        o.result(
            {
                "customers": n,
                "rows": table.num_rows,
                "as_of": str(day),
                "model_version": version,
                "outputs": [str(p) for p in paths],
                "suppressed": suppressed,
            },
            f"{n:,} customers × top {st.config.recommend.k} as of {day} (model v{version}) → "
            + ", ".join(str(p) for p in paths)
            + f"\noffers held back by the decision policy (configs/policy.yaml): {held_back}",
            schema=RecommendResult,
        )

    app.add_typer(models_app, name="models", rich_help_panel="Stages")
