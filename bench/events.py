"""Event path benchmark (issue 16): events/s through POST /v1/events and through the Redis consumer, and the
latency from an event to the updated recommendation.

Target of issue 16 (2 cores, service on the same machine): >= 2,000 events/s and p99 event -> recommendation
<= 100 ms with the SQLite online store; the Redis online store is reported beside it.

What is measured, on a copy of --lake (a `cdna demo` lake: champion, online stores):
  http throughput   closed loop, one client, batches of --batch events (page views, transactions, calls over
                    --customers customers), `cdna serve` started on loopback: events applied / wall second.
  http latency      single events, one at a time: POST (which returns once the touched customer's vector,
                    scores, policy and recommendations are stored) then GET of that customer's
                    recommendations; p50 / p99 of the POST and of POST + GET.
  redis             the same events XADDed to a stream, then consumed in-process by the `cdna stream` loop
                    (batches of --batch): events / second, and p50 / p99 of each batch's processing time.
  --online-store redis   runs the http part with `serve.online_store: redis` as well.

Usage: python bench/events.py --lake /tmp/demo/lake [--events 4000] [--batch 1000] [--latency-events 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdna.serve.keys import KeyStore, keys_path  # noqa: E402

TARGET = {"events_per_s": 2000, "p99_ms": 100.0}
PAGES = ["전세대출", "주택담보대출", "예적금상품", "카드혜택", "펀드/ISA", "이체", "계좌조회"]
INTENTS = ["jeonse_loan_inquiry", "mortgage_inquiry", "card_issue", "deposit_open", "invest_pension"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _customers(lake: Path, n: int) -> list[str]:
    import duckdb

    rows = (
        duckdb.connect()
        .execute(
            f"SELECT customer_id FROM read_parquet('{lake}/raw/customers/*.parquet') ORDER BY customer_id"
        )
        .fetchall()
    )
    ids = [r[0] for r in rows]
    random.Random(7).shuffle(ids)
    return ids[:n]


def make_events(customers: list[str], n: int, prefix: str, seed: int = 7) -> list[dict[str, Any]]:
    """A realistic mix: 70% page views, 25% transactions, 5% calls, on the day after the demo's history."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cid = rng.choice(customers)
        ts = f"2025-07-01T{9 + (i * 7) % 12:02d}:{(i * 13) % 60:02d}:{i % 60:02d}+09:00"
        u = rng.random()
        base: dict[str, Any] = {"event_id": f"{prefix}-{i}", "customer_id": cid, "ts": ts}
        if u < 0.70:
            out.append(
                {
                    **base,
                    "type": "page_view",
                    "channel": rng.choice(["web", "app"]),
                    "page_category": rng.choice(PAGES),
                }
            )
        elif u < 0.95:
            out.append(
                {
                    **base,
                    "type": "transaction",
                    "amount": float(rng.randint(1, 500) * 1000),
                    "direction": rng.choice(["in", "out"]),
                    "memo": rng.choice(["급여", "카드결제", "월세", "이체"]),
                }
            )
        else:
            out.append(
                {
                    **base,
                    "type": "call",
                    "intents": [{"label": rng.choice(INTENTS), "score": 0.9}],
                    "duration_s": 180.0,
                }
            )
    return out


def _start_server(lake: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CDNA_SERVE__RATE_LIMIT_PER_MINUTE": "100000000",
        "CDNA_SERVE__RATE_LIMIT_BURST": "100000",
        **extra_env,
    }
    cmd = [
        sys.executable,
        "-m",
        "cdna",
        "--quiet",
        "serve",
        "--lake",
        str(lake),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc


def _wait_events_ready(base: str, key: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Until POST /v1/events answers (the processor loads the lake's rows and the champion in the background)."""
    deadline = time.time() + timeout
    probe = {
        "events": [
            {
                "event_id": "BENCH-PROBE",
                "type": "page_view",
                "customer_id": "C0000001",
                "ts": "2025-07-01T08:00:00+09:00",
                "channel": "web",
                "page_category": "이체",
            }
        ]
    }
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            r = httpx.post(
                f"{base}/v1/events", json=probe, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the event path did not become ready")


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else float("nan")


def bench_http(lake: Path, args: argparse.Namespace, label: str, extra_env: dict[str, str]) -> dict[str, Any]:
    store = KeyStore(keys_path(lake))
    system = store.create(f"bench-system-{label}-{os.getpid()}", "system")
    staff = store.create(f"bench-staff-{label}-{os.getpid()}", "staff")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_server(lake, port, extra_env)
    try:
        _wait_events_ready(base, system, proc)
        customers = _customers(lake, args.customers)
        events = make_events(customers, args.events, f"H{label}")
        hs = {"Authorization": f"Bearer {system}"}
        with httpx.Client(timeout=120) as c:
            t0 = time.perf_counter()
            applied = 0
            for i in range(0, len(events), args.batch):
                r = c.post(f"{base}/v1/events", json={"events": events[i : i + args.batch]}, headers=hs)
                r.raise_for_status()
                applied += r.json()["applied"]
            wall = time.perf_counter() - t0
            singles = make_events(customers, args.latency_events, f"L{label}", seed=11)
            post_ms, total_ms = [], []
            gh = {"Authorization": f"Bearer {staff}", "X-Purpose": "review"}
            for ev in singles:
                t1 = time.perf_counter()
                r = c.post(f"{base}/v1/events", json={"events": [ev]}, headers=hs)
                t2 = time.perf_counter()
                g = c.get(f"{base}/v1/customers/{ev['customer_id']}/recommendations", headers=gh)
                t3 = time.perf_counter()
                if r.status_code != 200 or g.status_code != 200:
                    raise SystemExit(f"single event failed: {r.status_code} {g.status_code}")
                post_ms.append((t2 - t1) * 1000)
                total_ms.append((t3 - t1) * 1000)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "path": f"http ({label} online store)",
        "events": applied,
        "events_per_s": round(applied / wall, 1),
        "batch": args.batch,
        "post_p50_ms": round(_pct(post_ms, 50), 1),
        "post_p99_ms": round(_pct(post_ms, 99), 1),
        "event_to_rec_p50_ms": round(_pct(total_ms, 50), 1),
        "event_to_rec_p99_ms": round(_pct(total_ms, 99), 1),
    }


def _redis_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    exe = shutil.which("redis-server")
    if exe is None:
        return None
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.terminate()
    return None


def bench_redis_consumer(lake: Path, args: argparse.Namespace, url: str) -> dict[str, Any]:
    import redis

    from cdna.core.config import load_config
    from cdna.core.heap import freeze_heap
    from cdna.core.lake import Lake
    from cdna.serve.events import EventProcessor
    from cdna.serve.stream import StreamOptions, consume

    r = redis.Redis.from_url(url)
    customers = _customers(lake, args.customers)
    events = make_events(customers, args.events, "R")
    pipe = r.pipeline(transaction=False)
    for ev in events:
        pipe.xadd("cdna:bench", {"event": json.dumps(ev, ensure_ascii=False)})
    pipe.execute()
    proc = EventProcessor(Lake.at(lake), load_config())
    proc.warm()  # as `cdna stream` does before it reads
    freeze_heap()
    opts = StreamOptions(
        url,
        stream="cdna:bench",
        group="bench",
        consumer="bench-1",
        batch=args.batch,
        exit_when_idle=True,
        block_ms=200,
    )
    done = [0.0]

    def batch_done(_res: Any, _seconds: float) -> None:
        done[0] = time.perf_counter()

    t0 = time.perf_counter()
    stats = consume(opts, proc.process, on_batch=batch_done)
    # up to the last batch handled: the final empty read that ends the loop waits block_ms for nothing
    wall = (done[0] or time.perf_counter()) - t0
    proc.close()
    per_event = [ms / max(1, args.batch) for ms in stats.latencies_ms]
    return {
        "path": "redis stream consumer (sqlite online store)",
        "events": stats.applied,
        "events_per_s": round(stats.applied / wall, 1),
        "batch": args.batch,
        "batch_p50_ms": round(_pct(stats.latencies_ms, 50), 1),
        "batch_p99_ms": round(_pct(stats.latencies_ms, 99), 1),
        "ms_per_event_p50": round(statistics.median(per_event), 2) if per_event else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, required=True, help="a `cdna demo` lake (copied; never changed)")
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument(
        "--batch", type=int, default=1000, help="events per POST / stream read (the API takes up to 1,000)"
    )
    ap.add_argument("--latency-events", type=int, default=200)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--online-store", choices=["sqlite", "redis", "both"], default="both")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="cdna-bench-events-") as tmp:
        t = Path(tmp)
        ignore = shutil.ignore_patterns("audio", "reports", "events", "mlartifacts-tmp")

        def fresh(name: str) -> Path:
            dst = t / name
            shutil.copytree(args.lake, dst, ignore=ignore)
            (dst / "online" / "leads.sqlite").unlink(missing_ok=True)
            return dst

        results.append(bench_http(fresh("http-sqlite"), args, "sqlite", {}))
        rs = _redis_server(t)
        if rs is not None:
            proc, url = rs
            try:
                results.append(bench_redis_consumer(fresh("redis-consumer"), args, url))
                if args.online_store in ("redis", "both"):
                    env = {"CDNA_SERVE__ONLINE_STORE": "redis", "CDNA_SERVE__REDIS_URL": url}
                    results.append(bench_http(fresh("http-redis"), args, "redis", env))
            finally:
                proc.terminate()
        else:
            print("redis-server not installed: the Redis figures are skipped", file=sys.stderr)
    out = {"target": TARGET, "cores": os.cpu_count(), "results": results}
    for res in results:
        res["vs_target_throughput"] = round(res["events_per_s"] / TARGET["events_per_s"], 2)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print(
        f"target: >= {TARGET['events_per_s']:,} events/s, p99 event->recommendation <= {TARGET['p99_ms']:.0f} ms "
        f"({os.cpu_count()} cores, service and client on this machine)"
    )
    for res in results:
        print("  " + ", ".join(f"{k}={v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
