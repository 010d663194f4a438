"""Staff-service load benchmark (issue #7): throughput and latency of `recommendations` over loopback.

Reference (shared/README, measured on these 2 cores): a bare FastAPI route reading one SQLite row, one uvicorn
worker, client on the same cores: ~1,500 req/s at most, p99 ~8 ms at 500 req/s — the floor under auth,
audit and reasons. Target of issue #7: >= 500 req/s with p99 < 20 ms and no errors.

The script starts `cdna serve` on 127.0.0.1 (or drives --url), issues a bench key into the lake, and runs
`wrk` (apt-get install wrk) with a Lua script cycling over real customer ids; without wrk it falls back to an
asyncio httpx load generator (which itself eats CPU on 2 cores: lower figures). Every request is audited as in
production. Bounded: --duration seconds (default 15), --connections (default 8).

  --retrain-during   POST /v1/retrain (ml key) a third of the way in; reports its state and /v1/models after.
  --swap-during      a third of the way in, promote: register a new champion version in LAKE/mlflow.db (when
                     there is one) and write its batch scores (a copy of the latest, next day) to Parquet and
                     the online top-k store, as retrain + recommend do; the service must hot-swap with no error.

Usage: python bench/serve.py --lake /tmp/serve/lake [--duration 15] [--connections 8] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdna.serve.keys import KeyStore, keys_path  # noqa: E402

REFERENCE = {
    "name": "bare FastAPI + SQLite row, 1 worker (shared/README)",
    "max_rps": 1500,
    "p99_ms_at_500": 8.0,
}
TARGET = {"rps": 500, "p99_ms": 20.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _customer_ids(lake: Path, n: int, seed: int = 7) -> list[str]:
    import duckdb

    recs = sorted((lake / "recommendations").glob("date=*/*.parquet"))
    con = duckdb.connect()
    try:
        if recs:
            part = recs[-1].parent
            ids = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT customer_id FROM read_parquet('{part}/*.parquet')"
                ).fetchall()
            ]
        else:
            import sqlite3

            db = sqlite3.connect(f"file:{lake / 'online' / 'features.sqlite'}?mode=ro", uri=True)
            ids = [r[0] for r in db.execute("SELECT customer_id FROM vectors")]
            db.close()
    finally:
        con.close()
    if not ids:
        raise SystemExit(f"no customers with batch scores or online vectors in {lake}")
    random.Random(seed).shuffle(ids)
    return ids[:n]


_REF_APP = """
import sqlite3
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()
con = sqlite3.connect("file:%(db)s?mode=ro", uri=True, check_same_thread=False)


@app.get("/v1/customers/{customer_id}/recommendations")
async def one_row(customer_id: str) -> Response:
    row = con.execute("SELECT v FROM vectors WHERE customer_id = ?", (customer_id,)).fetchone()
    return Response(row[0] if row else "{}", media_type="application/json")
"""


def _start_reference(lake: Path, port: int) -> subprocess.Popen[bytes]:
    """The shared/README reference: a bare FastAPI route reading one SQLite row (no auth, audit or reasons)."""
    db = lake / "online" / "recommendations.sqlite"
    if not db.is_file():
        db = lake / "online" / "features.sqlite"
    folder = Path(tempfile.mkdtemp(prefix="cdna-ref-"))
    (folder / "refapp.py").write_text(_REF_APP % {"db": db})
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "refapp:app",
        "--app-dir",
        str(folder),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return _wait_ready(subprocess.Popen(cmd), f"http://127.0.0.1:{port}", "/docs", cmd)


def _wait_ready(
    proc: subprocess.Popen[bytes], base: str, probe: str, cmd: list[str]
) -> subprocess.Popen[bytes]:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}: {' '.join(cmd)}")
        try:
            if httpx.get(f"{base}{probe}", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the server did not become ready on {base}")


def _start_server(lake: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CDNA_SERVE__RATE_LIMIT_PER_MINUTE": "100000000",
        "CDNA_SERVE__RATE_LIMIT_BURST": "100000",
        "CDNA_SERVE__RELOAD_INTERVAL_S": "1",
    }
    cmd = [
        sys.executable,
        "-c",
        "import sys; from cdna.cli.app import main; sys.exit(main())",
        "--quiet",
        "serve",
        "--lake",
        str(lake),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = _wait_ready(subprocess.Popen(cmd, env=env), f"http://127.0.0.1:{port}", "/readyz", cmd)
    _wait_settled(f"http://127.0.0.1:{port}")
    return proc


def _wait_settled(base: str) -> None:
    """Wait until the service has finished its background start-up (the event processor loads the lake's rows).

    Measured before that, lookups share the CPU with the loading and the figures describe the start-up.
    """
    deadline = time.time() + 120
    while time.time() < deadline:
        body = httpx.get(f"{base}/readyz", timeout=5).json()
        if body.get("events_ready") or body.get("events_error"):
            return
        time.sleep(0.3)


_LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "Bearer %(key)s", ["X-Purpose"] = "review"})
end
%(delay)s
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non2xx\\": %%d, \\"errors\\": %%d, "
    .. "\\"p50\\": %%d, \\"p90\\": %%d, \\"p99\\": %%d, \\"p999\\": %%d, \\"max\\": %%d, \\"mean\\": %%f}\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def _run_wrk(
    base: str,
    key: str,
    ids: list[str],
    k: int,
    duration: float,
    connections: int,
    threads: int,
    rate: float = 0,
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="cdna-bench-"))
    paths = tmp / "paths.txt"
    paths.write_text("".join(f"/v1/customers/{c}/recommendations?k={k}\n" for c in ids))
    script = tmp / "bench.lua"
    # --rate: each connection waits between requests, so the offered load is about `rate` req/s
    # (wrk's delay() pacing; latency is measured from send, as in production at that load).
    pace = f"delay = function() return {max(0, round(1000 * connections / rate) - 1)} end" if rate else ""
    script.write_text(_LUA % {"paths": paths, "key": key, "delay": pace})
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{int(duration)}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    shutil.rmtree(tmp, ignore_errors=True)
    m = re.search(r"^JSON (\{.*\})$", out, re.M)
    if not m:
        raise SystemExit(f"could not parse wrk output:\n{out}")
    d = json.loads(m.group(1))
    secs = d["duration_us"] / 1e6
    return {
        "tool": "wrk "
        + " ".join(cmd[1:-3])
        + " (Lua: cycling customer ids"
        + (f", paced to ~{rate:.0f} req/s)" if rate else ", closed loop: as fast as it answers)"),
        "requests": d["requests"],
        "rps": d["requests"] / secs,
        "errors": d["non2xx"] + d["errors"],
        "p50_ms": d["p50"] / 1000,
        "p90_ms": d["p90"] / 1000,
        "p99_ms": d["p99"] / 1000,
        "p999_ms": d["p999"] / 1000,
        "max_ms": d["max"] / 1000,
    }


async def _httpx_load(
    base: str, key: str, ids: list[str], k: int, duration: float, connections: int
) -> dict[str, Any]:
    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "review"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=5) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    r = await client.get(
                        f"/v1/customers/{ids[i % len(ids)]}/recommendations", params={"k": k}
                    )
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                lat.append(time.perf_counter() - t0)
                i += connections

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(j) for j in range(connections)))
        wall = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=1000)
    return {
        "tool": f"asyncio httpx, {connections} connections",
        "requests": len(lat),
        "rps": len(lat) / wall,
        "errors": errors,
        "p50_ms": q[499] * 1000,
        "p90_ms": q[899] * 1000,
        "p99_ms": q[989] * 1000,
        "p999_ms": q[998] * 1000,
        "max_ms": max(lat) * 1000,
    }


def _audit_rows(lake: Path) -> int:
    from cdna.serve.audit import AuditLog, audit_path

    return AuditLog(audit_path(lake)).count() if audit_path(lake).is_file() else 0


def _register_promotion(lake: Path) -> str | None:
    """Register a new version of the champion's model and move the `champion` alias to it (what a promoting
    retrain does, without the training time); None when the lake has no registry."""
    if not (lake / "mlflow.db").is_file():
        return None
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{lake / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for rm in client.search_registered_models():
        champ = (rm.aliases or {}).get("champion")
        if champ is None:
            continue
        old = client.get_model_version(rm.name, str(champ))
        new = client.create_model_version(rm.name, source=old.source, run_id=old.run_id)
        client.set_registered_model_alias(rm.name, "champion", str(new.version))
        return str(new.version)
    return None


def _swap(lake: Path) -> str:
    """A promotion under load: new champion in the registry (if any), then its batch scores under the next day,
    in Parquet and in the recommender's online top-k store (as `cdna retrain` + `cdna recommend` write them)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from cdna.core.lake import Lake, atomic_write_parquet

    parts = sorted(p for p in (lake / "recommendations").glob("date=*") if p.is_dir())
    if not parts:
        raise SystemExit("--swap-during needs batch scores under LAKE/recommendations/")
    table = pq.read_table(parts[-1])
    table = table.drop_columns([c for c in table.column_names if c == "date"])
    version = _register_promotion(lake) or str(table.column("model_version")[0]) + "+swap"
    day = date.fromisoformat(parts[-1].name.split("=", 1)[1]) + timedelta(days=1)
    table = table.set_column(
        table.column_names.index("model_version"), "model_version", pa.array([version] * table.num_rows)
    )
    table = table.set_column(
        table.column_names.index("as_of"),
        "as_of",
        pc.cast(pa.array([day] * table.num_rows), table.schema.field("as_of").type),
    )
    atomic_write_parquet(table, lake / "recommendations" / f"date={day}" / "recommendations.parquet")
    if (lake / "online" / "recommendations.sqlite").is_file():
        from cdna.recommend.scoring import write_online

        write_online(
            Lake.at(lake), table, {"as_of": str(day), "model_version": version, "kind": "recommendations"}
        )
    return version


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--url", help="drive a server that is already running (default: start one)")
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of load before each measured run (wrk only; 0: none)",
    )
    ap.add_argument(
        "--rate", type=float, default=0, help="offered load in req/s (wrk only; default: saturate)"
    )
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of the started server")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--ids", type=int, default=1000, help="distinct customer ids to cycle over")
    ap.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    ap.add_argument("--retrain-during", action="store_true")
    ap.add_argument("--swap-during", action="store_true")
    ap.add_argument(
        "--reference", action="store_true", help="then run the bare-FastAPI reference, same client"
    )
    args = ap.parse_args()
    if args.duration > 300:
        raise SystemExit("--duration is capped at 300 s")

    lake = args.lake.resolve()
    store = KeyStore(keys_path(lake))
    tag = f"{os.getpid()}-{int(time.time())}"
    key = store.create(f"bench-{tag}", "staff")
    ml_key = store.create(f"bench-ml-{tag}", "ml") if args.retrain_during else None
    ids = _customer_ids(lake, args.ids)
    proc = None
    base = args.url
    if base is None:
        base = f"http://127.0.0.1:{_free_port()}"
        proc = _start_server(lake, int(base.rsplit(":", 1)[1]), args.workers)
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    side: dict[str, Any] = {}

    def during() -> None:
        # A real retrain takes minutes: start it early so that its promotion lands while the load runs.
        time.sleep(min(args.duration / 3, 10) if args.retrain_during else args.duration / 3)
        if args.retrain_during:
            r = httpx.post(f"{base}/v1/retrain", headers={"Authorization": f"Bearer {ml_key}"}, timeout=10)
            side["retrain"] = {"status": r.status_code, "run_id": r.json().get("run_id")}
        if args.swap_during:
            side["swapped_to"] = _swap(lake)

    helper = threading.Thread(target=during, daemon=True)
    try:
        if tool == "wrk" and args.warmup:  # the first requests pay for imports and caches
            _run_wrk(base, key, ids, args.k, args.warmup, args.connections, args.threads, args.rate)
        audit_before = _audit_rows(lake)
        before = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        helper.start()
        if tool == "wrk":
            res = _run_wrk(base, key, ids, args.k, args.duration, args.connections, args.threads, args.rate)
        else:
            res = asyncio.run(_httpx_load(base, key, ids, args.k, args.duration, args.connections))
        helper.join()
        time.sleep(2.5 if args.swap_during else 0)
        after = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        if "retrain" in side and side["retrain"].get("run_id"):
            for _ in range(900):
                run = httpx.get(
                    f"{base}/v1/runs/{side['retrain']['run_id']}",
                    headers={"Authorization": f"Bearer {ml_key}"},
                    timeout=10,
                ).json()
                if run.get("state") in ("succeeded", "failed"):
                    break
                time.sleep(1)
            side["retrain"]["final"] = {k: run.get(k) for k in ("state", "error", "metrics")}
            after = httpx.get(
                f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10
            ).json()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        store.revoke(f"bench-{tag}")
        if ml_key:
            store.revoke(f"bench-ml-{tag}")

    audit_added = _audit_rows(lake) - audit_before
    ref = None
    if args.reference:
        ref_port = _free_port()
        ref_proc = _start_reference(lake, ref_port)
        try:
            ref_base = f"http://127.0.0.1:{ref_port}"
            if tool == "wrk":
                if args.warmup:
                    _run_wrk(
                        ref_base, key, ids, args.k, args.warmup, args.connections, args.threads, args.rate
                    )
                ref = _run_wrk(
                    ref_base, key, ids, args.k, args.duration, args.connections, args.threads, args.rate
                )
            else:
                ref = asyncio.run(_httpx_load(ref_base, key, ids, args.k, args.duration, args.connections))
        finally:
            ref_proc.terminate()
            ref_proc.wait(timeout=20)
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(f"command : {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine : {cores} cores, load average {load:.1f} before the run ended (other work shares the cores)"
    )
    print(
        f"server  : cdna serve, {args.workers} uvicorn worker(s), audit on, {len(ids)} customer ids, k={args.k}"
    )
    print(
        f"client  : {res['tool']}, {args.connections} connections, {args.duration:.0f} s, loopback 127.0.0.1"
    )
    print(f"result  : {res['requests']:,} requests, {res['rps']:,.0f} req/s, errors {res['errors']}")
    print(
        f"latency : p50 {res['p50_ms']:.2f} ms · p90 {res['p90_ms']:.2f} ms · p99 {res['p99_ms']:.2f} ms · "
        f"p99.9 {res['p999_ms']:.2f} ms · max {res['max_ms']:.2f} ms"
    )
    print(
        f"audit   : {audit_added:,} rows appended for {res['requests']:,} completed lookups "
        "(+ lookups in flight when the client stopped)"
    )
    print(
        f"target  : >= {TARGET['rps']} req/s with p99 < {TARGET['p99_ms']:.0f} ms, no errors → "
        f"{'MET' if res['rps'] >= TARGET['rps'] and res['p99_ms'] < TARGET['p99_ms'] and res['errors'] == 0 else 'NOT MET'}"
    )
    print(
        f"vs ref  : {REFERENCE['name']}: {res['rps'] / REFERENCE['max_rps']:.2f}× its max throughput "
        f"({REFERENCE['max_rps']:,} req/s)"
    )
    if ref is not None:
        print(
            f"ref now : same client and cores, right after: {ref['rps']:,.0f} req/s, p50 {ref['p50_ms']:.2f} ms, "
            f"p99 {ref['p99_ms']:.2f} ms, errors {ref['errors']} → cdna serve = {res['rps'] / ref['rps']:.2f}× its "
            f"throughput, {res['p99_ms'] / max(ref['p99_ms'], 1e-9):.2f}× its p99"
        )
    print(
        f"models  : before {before.get('serving', {}).get('model_version')} → after "
        f"{after.get('serving', {}).get('model_version')} (champion {((after.get('champion') or {}).get('version'))})"
    )
    if side:
        print(f"during  : {json.dumps(side, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
