"""The demo's steps: each calls one stage's runner on the demo lake and notes what it made (issue 12).

Commands carry no demo code; `cdna demo` runs these in pipeline order after building the synthetic bank.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from cdna.cli.cmd_features import _feature_set, show_table
from cdna.cli.cmd_recommend import _lifts, _metrics_table, _product_names, _recs_table
from cdna.cli.cmd_transcribe import run_transcribe
from cdna.cli.state import state
from cdna.core.duck import scan
from cdna.core.lake import Lake

if TYPE_CHECKING:
    from cdna.cli.demo import DemoContext

__all__ = ["features_step", "nlp_step", "recommend_step", "serve_step", "transcribe_step"]


def _demo_customer(root: Path) -> str:
    """A customer id the demo lake can answer for (batch scores first, then the online store, then raw)."""
    recs = sorted(Lake(root).recommendations.glob("date=*/*.parquet"))
    if recs:
        return str(pq.read_table(recs[-1], columns=["customer_id"]).column(0)[0])
    online = Lake(root).online_features_db
    if online.is_file():
        import sqlite3

        con = sqlite3.connect(f"file:{online}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT customer_id FROM vectors ORDER BY customer_id LIMIT 1").fetchone()
        finally:
            con.close()
        if row:
            return str(row[0])
    return str(pq.read_table(Lake(root).raw("customers"), columns=["customer_id"]).column(0)[0])


def transcribe_step(d: DemoContext) -> None:
    """Demo step: transcribe last night's rendered calls (when the world step made recordings)."""
    from cdna.ingest.asr.runner import check_lake

    if not d.audio:
        d.notes.append(("transcription", "skipped (--no-audio)"))
        return
    check_lake(d.lake)
    summary = run_transcribe(d.ctx, d.lake)
    if summary.seen == 0:
        d.notes.append(("transcription", "no recordings in the calls manifest"))
        return
    d.notes.append(
        (
            "transcription",
            f"{summary.done} call(s) → {summary.segments} segments with speaker roles, "
            f"{summary.audio_s:.0f} s audio, RTF {summary.rtf:.3f}"
            + (f", {len(summary.no_speech)} without speech" if summary.no_speech else "")
            + f" → {d.lake.transcripts}",
        )
    )
    if summary.failures:
        d.failed.append("transcribe")


def nlp_step(d: Any) -> None:
    """Demo: mine signals from the demo lake and show a few masked evidence snippets."""
    from cdna.nlp.store import read_signals, run_mine

    cfg = state(d.ctx).config.nlp
    with d.out.progress("mining signals", None, "days") as advance:
        summary = run_mine(
            d.lake, cfg, progress=lambda day: advance(1, info=day), on_total=lambda n: advance(0, total=n)
        )
    signals = read_signals(d.lake)
    calls = signals.filter(signals.column("source").to_numpy(zero_copy_only=False) == "call").to_pylist()
    masked = [r for r in calls if "[" in (r["evidence"] or "")] or calls
    for r in masked[:5]:
        d.out.say(f"  {r['source_id']} {r['kind']}={r['label']} ({r['score']:.2f}): [dim]{r['evidence']}[/]")
    pii = ", ".join(f"{k} {v:,}" for k, v in summary.pii.most_common())
    d.notes.append(
        (
            "signals",
            f"{sum(summary.signals.values()):,} signals "
            f"({', '.join(f'{k} {v:,}' for k, v in summary.signals.items())}); "
            f"masked PII: {pii or 'none'}; not mined: "
            f"{summary.counts['segments_low_confidence']:,} low-confidence and "
            f"{summary.counts['segments_term_echo']:,} prompt-echo segment(s) → {d.lake.signals}",
        )
    )


def features_step(d: DemoContext) -> None:
    """Demo: materialise the feature store on the demo bank and print one customer's DNA."""
    import duckdb

    from cdna.features.online import SqliteOnlineStore
    from cdna.features.store import latest_event_day, materialize

    fs = _feature_set(state(d.ctx).config)
    day = latest_event_day(fs, d.lake)
    res = materialize(fs, d.lake, day)
    assert res.online_path is not None
    # show a customer with a full DNA: many products and recent activity
    cid = (
        duckdb.connect()
        .execute(
            f"SELECT customer_id FROM {scan(res.snapshot.path)} "
            "ORDER BY product_count DESC, txn_count_90d DESC, customer_id LIMIT 1"
        )
        .fetchall()[0][0]
    )
    store = SqliteOnlineStore(res.online_path)
    try:
        vector = store.get(cid)
    finally:
        store.close()
    d.out.say(show_table(fs, vector, cid))
    seg = res.segmentation
    d.notes.append(
        (
            "feature store",
            f"{res.snapshot.rows:,} customers × {len(res.snapshot.columns)} features as of "
            f"{day}; {seg.k_ if seg else 0} RFM segments; online store → {res.online_path}",
        )
    )


def recommend_step(d: DemoContext) -> None:
    """Demo: retrain (registers a champion), score every customer, print three customers' top-5 with reasons."""
    import pyarrow.compute as pc

    from cdna.recommend.runner import recommend_run, retrain_run

    st = state(d.ctx)
    res = retrain_run(d.lake, st.config)
    assert res.decision is not None and res.train is not None
    table = res.train.evaluation.table()
    d.out.say(_metrics_table(table, f"recommender v{res.train.version}: holdout metrics"))
    recs, version, day, paths = recommend_run(d.lake, st.config)
    # three customers whose lists cite evidence (calls, memos or web visits) make the best example
    has_ev = pc.greater(pc.list_value_length(recs.column("evidence_ids")), 0)
    ids = list(dict.fromkeys(recs.filter(has_ev).column("customer_id").to_pylist()))[:3]
    ids += [c for c in dict.fromkeys(recs.column("customer_id").to_pylist()) if c not in ids][: 3 - len(ids)]
    names = _product_names()
    for cid in ids:  # said, not returned as results, so `cdna --json demo` stays one JSON document
        rows = [r for r in recs.to_pylist() if r["customer_id"] == cid]
        d.out.say(_recs_table(rows, names, f"{cid} — top {len(rows)} as of {day} (model v{version})"))
    key = f"map@{st.config.recommend.k}"
    lifts = _lifts(table, key)
    d.notes.append(
        (
            "recommender",
            f"champion v{res.champion_version} ({'promoted' if res.decision.promote else 'kept'}); "
            f"{key} {table[key]['model']:.3f} = {lifts.get('model_vs_popularity', 0):.2f}x "
            f"popularity, {lifts.get('all_vs_structured_only', 0):.2f}x structured-only; "
            f"{recs.num_rows:,} recommendations as of {day} → {paths[0]}",
        )
    )


def serve_step(d: DemoContext) -> None:
    """Issue a staff key into the demo lake and print how to start the service and query it with curl."""
    from cdna.serve.keys import KeyStore, keys_path

    store = KeyStore(keys_path(d.lake.root))
    if any(r.name == "demo-staff" and r.revoked_at is None for r in store.list()):
        store.revoke("demo-staff")
    key = store.create("demo-staff", "staff")
    cid = _demo_customer(d.lake.root)
    serve_cmd = f"cdna serve --lake {d.lake.root} --port 8080"
    curl = (
        f"curl -s -H 'Authorization: Bearer {key}' -H 'X-Purpose: counseling' "
        f"'http://127.0.0.1:8080/v1/customers/{cid}/recommendations?k=3'"
    )
    d.notes.append(("service", serve_cmd))
    d.notes.append(("curl", curl))
