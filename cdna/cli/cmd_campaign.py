"""`cdna campaign …`: campaigns with a held-out control group, their export, report and (synthetic) responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cdna.cli.state import parse_day, state

__all__ = ["campaign_app", "import_outcomes_file", "register"]

campaign_app = typer.Typer(
    help="Campaigns with a control group: pick targets, export them for CRM/SMS, measure the uplift.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

LakeOpt = Annotated[
    Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
]


def _mask() -> object:
    """The NLP stage's personal-data masker (reason text leaves the bank by SMS)."""
    from cdna.nlp.pii import mask_cached

    def mask(text: str) -> str:
        return mask_cached(text).text

    return mask


@campaign_app.command("create")
def create_cmd(
    ctx: typer.Context,
    product: Annotated[str, typer.Option("--product", help="Product id to offer (configs/products.yaml).")],
    size: Annotated[int, typer.Option("--size", help="Customers selected: treated + control.")],
    name: Annotated[str, typer.Option("--name", help="Campaign name (letters, digits, _ . -).")],
    control: Annotated[float, typer.Option("--control", help="Share held out as the control group.")] = 0.1,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this RFM segment (name or id).")
    ] = None,
    customer_type: Annotated[
        str | None, typer.Option("--type", help="Only this customer type (name or id).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Feature day of the scores (default: last transaction day).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random control split.")] = 7,
    lake: LakeOpt = None,
) -> None:
    """Pick the best-scored customers for a product after the policy rules, hold out a random control group,
    log the treated offers and export them (offer id, customer, product, masked reason) as CSV.

    Example: [bold]cdna campaign create --product fx_deposit --size 500 --control 0.1 --name travel-fx --lake ./demo[/]
    """
    from cdna.recommend.campaign_run import create_campaign
    from cdna.recommend.campaigns import CampaignSpec

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    spec = CampaignSpec(
        name,
        product,
        size,
        control,
        segment,
        customer_type,
        parse_day(as_of),
        st.config.recommend.horizon_days,
        seed,
    )
    res = create_campaign(lk, st.config, spec, _mask())  # type: ignore[arg-type]
    o.result(
        {
            "campaign": name,
            "product": product,
            "treated": res.treated,
            "control": res.control,
            "eligible": res.eligible,
            "policy": res.policy,
            "suppressed": res.suppressed,
            "model_version": res.model_version,
            "sent_at": res.sent_at.isoformat(),
            "export": str(res.export),
            "folder": str(res.folder),
        },
        f"campaign {name}: {res.treated:,} treated + {res.control:,} control of {res.eligible:,} eligible "
        f"({res.policy} rules) → {res.export}",
    )


@campaign_app.command("report")
def report_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file (default: LAKE/reports/campaigns/NAME.html)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Response and conversion of treated vs control, the uplift with its 95% interval, overall and per
    segment, as an HTML page with plots (and JSON with --json).

    Example: [bold]cdna campaign report travel-fx --lake ./demo[/]
    """
    from cdna.core.lake import atomic_write_text
    from cdna.recommend.campaign_report import render_html, report_json
    from cdna.recommend.campaign_run import report_campaign

    st = state(ctx)
    if as_json:
        st.json = True
    o = st.output
    lk = st.lake(lake)
    rep = report_campaign(lk, st.config, name)
    path = out or lk.report_file("campaigns", f"{name}.html")
    atomic_write_text(path, render_html(rep))
    data = report_json(rep)
    data["report"] = str(path)
    ov = rep.overall
    table = Table(title=f"campaign {name} → {path}", show_edge=False, title_justify="left")
    for col in (
        "segment",
        "treated",
        "control",
        "response",
        "conv. treated",
        "conv. control",
        "uplift (95% CI)",
    ):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for r in [ov, *rep.by_segment.to_dict("records")]:
        table.add_row(
            str(r["segment"]),
            f"{r['treated']:,}",
            f"{r['control']:,}",
            f"{r['response_rate']:.1%}",
            f"{r['treated_conversion_rate']:.1%}",
            f"{r['control_conversion_rate']:.1%}",
            f"{r['uplift'] * 100:+.1f}pp [{r['uplift_low'] * 100:+.1f}, {r['uplift_high'] * 100:+.1f}]",
        )
    o.result(data, table)
    for note in rep.notes:
        o.error(note)


@campaign_app.command("simulate")
def simulate_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Response CSV (default: LAKE/campaigns/NAME/responses.csv)."),
    ] = None,
    lake: LakeOpt = None,
) -> None:
    """Synthetic bank only: let the world's customers answer a campaign (from their hidden life events).

    Writes the channel's response file (import it with `cdna validate offers_outcomes FILE`) and the
    product opens that follow, treated and control alike, as LAKE/raw/holdings/campaign-NAME.parquet.

    Example: [bold]cdna campaign simulate travel-fx --lake ./demo[/]
    """
    import pandas as pd
    import pyarrow as pa

    from cdna.contracts.schemas import HOLDINGS, conform
    from cdna.core.errors import LakeError
    from cdna.core.lake import atomic_write_bytes, atomic_write_parquet
    from cdna.ingest.world.responses import ResponseOptions, simulate_responses
    from cdna.recommend.campaign_run import load_campaign
    from cdna.recommend.dataset import load_holdings

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    truth = lk.truth_file("life_events")
    if not truth.exists():
        raise LakeError(
            f"{truth} not found: only a synthetic bank (`cdna world`, `cdna demo`) can simulate responses",
            hint="a real bank imports its channel's response file with `cdna validate offers_outcomes FILE`",
        )
    meta, members = load_campaign(lk, name)
    sent = pd.Timestamp(meta["sent_at"])
    members = members.assign(start_us=int(sent.value // 1000))
    own = lk.raw_named_part("holdings", f"campaign-{name}")
    own.unlink(missing_ok=True)  # a rerun replaces this campaign's opens instead of stacking them
    holdings = load_holdings(lk)
    res = simulate_responses(
        members,
        pd.read_parquet(truth),
        holdings,
        ResponseOptions(horizon_days=int(meta["horizon_days"]), seed=st.config.world.seed),
        tag=name,
    )
    path = out or lk.campaign_dir(name) / "responses.csv"
    outcomes = res.outcomes.assign(recorded_at=res.outcomes["recorded_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    atomic_write_bytes(path, outcomes.to_csv(index=False).encode("utf-8"))
    opens = conform(pa.Table.from_pandas(res.opens, preserve_index=False), HOLDINGS, "simulated opens")
    atomic_write_parquet(opens, own)
    o.result(
        {
            "campaign": name,
            "responses": len(res.outcomes),
            "responses_path": str(path),
            "opens": len(res.opens),
            "opens_path": str(own),
            "receptive_share": float(res.receptive.mean()),
            "planted_uplift": res.expected_uplift,
        },
        f"campaign {name}: {len(res.outcomes):,} channel responses → {path}; {len(res.opens):,} product opens "
        f"→ {own}; planted uplift {res.expected_uplift * 100:+.1f}pp",
    )
    o.say(f"next: cdna validate offers_outcomes {path} --lake {lk.root} && cdna campaign report {name}")


@campaign_app.command("list")
def list_cmd(ctx: typer.Context, lake: LakeOpt = None) -> None:
    """The campaigns of the lake.

    Example: [bold]cdna campaign list --lake ./demo[/]
    """
    import json

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    rows = [
        json.loads((p / "campaign.json").read_text(encoding="utf-8"))
        for p in sorted(lk.campaigns.glob("*"))
        if (p / "campaign.json").exists()
    ]
    table = Table(show_edge=False)
    for col in ("name", "product", "as of", "treated", "control"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["product_id"], r["as_of"], str(r["treated"]), str(r["control"]))
    o.result({"campaigns": rows}, table)


def _source_lines(file: Path, offer_ids: list[str]) -> dict[str, int]:
    """Line (CSV, header = line 1) or row number (Parquet) of each offer id's first row in the file."""
    import csv

    want = set(offer_ids)
    out: dict[str, int] = {}
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        for i, oid in enumerate(pq.read_table(file, columns=["offer_id"]).column(0).to_pylist(), start=1):
            if oid in want:
                out.setdefault(str(oid), i)
        return out
    with open(file, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            oid = (row.get("offer_id") or "").strip()
            if oid in want:
                out.setdefault(oid, reader.line_num)
    return out


def import_outcomes_file(
    ctx: typer.Context, file: Path, lake: Path | None, mapping: str | None, map_: list[str] | None
) -> None:
    """`cdna validate offers_outcomes FILE`: check a channel's response file, record its outcomes in the offer
    log (each once per offer id), reject bad rows and rows the log refuses (unknown offer, a different
    final outcome) into a rejects file naming each row, and exit 3 when any row was rejected."""
    import pyarrow as pa

    from cdna.contracts.schemas import OFFER_OUTCOMES
    from cdna.core.lake import RunRecord, atomic_write_text
    from cdna.ingest.importer import load_mapping, rejects_csv
    from cdna.ingest.validate import validate_file
    from cdna.nlp.pii import mask_cached
    from cdna.recommend.offer_log import OfferLog, import_outcomes

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    colmap = load_mapping(st.config, OFFER_OUTCOMES.name, mapping, map_ or [])
    result = validate_file(file, OFFER_OUTCOMES, colmap)
    log = OfferLog.of(lk)
    try:
        res = import_outcomes(log, result.valid.to_pandas(), "file")
    finally:
        log.close()
    lines = _source_lines(file, [oid for oid, _ in res.rejects])
    refused = pa.table(
        {
            "line": pa.array([lines.get(oid) for oid, _ in res.rejects], pa.int64()),
            "reason": pa.array([reason for _, reason in res.rejects], pa.string()),
            "raw": pa.array([oid for oid, _ in res.rejects], pa.string()),
        }
    )
    rejects = pa.concat_tables([result.rejects.cast(refused.schema), refused]).sort_by("line")
    rejects_path = lk.rejects / OFFER_OUTCOMES.name / f"{file.stem}.rejects.csv"
    if rejects.num_rows:
        atomic_write_text(rejects_path, rejects_csv(rejects, file, redact=lambda t: mask_cached(t).text))
    run = RunRecord("validate", inputs=[str(file)], outputs=[str(lk.offers_db)])
    run.counts = {
        "valid": result.valid.num_rows,
        "rejected": rejects.num_rows,
        "recorded": res.recorded,
        "unchanged": res.unchanged,
        "updated": res.updated,
    }
    for line, reason in zip(
        rejects.column("line").to_pylist(), rejects.column("reason").to_pylist(), strict=True
    ):
        run.fail(f"{file}:{line}", mask_cached(reason).text)  # never unmasked at rest (issue 14)
    run.finish(lk)
    o.result(
        {
            "file": str(file),
            "table": OFFER_OUTCOMES.name,
            "recorded": res.recorded,
            "unchanged": res.unchanged,
            "updated": res.updated,
            "rejected_rows": rejects.num_rows,
            "rejects_path": str(rejects_path) if rejects.num_rows else None,
        },
        f"{file}: {res.recorded:,} outcome(s) recorded, {res.unchanged:,} already there, {res.updated:,} call "
        f"back(s) answered → {lk.offers_db}",
    )
    if rejects.num_rows:
        o.error(f"{rejects.num_rows:,} row(s) rejected → {rejects_path}")
        for line, reason in list(
            zip(rejects.column("line").to_pylist(), rejects.column("reason").to_pylist(), strict=True)
        )[:10]:
            o.err.print(f"  line {line}: {reason}", highlight=False)
        raise typer.Exit(code=3)


def register(app: typer.Typer) -> None:
    """Add `cdna campaign …` to the CLI."""
    app.add_typer(campaign_app, name="campaign", rich_help_panel="Stages")
