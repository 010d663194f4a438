"""Benchmark the synthetic bank generator: wall time, peak memory and rows for N customers.

Usage: python bench/world.py [--customers 1000000] [--out DIR] [--seed 7]

Reference: the foundation issue's budget — 1,000,000 customers with 50M+ transactions in under 4 GB of
peak memory. Memory is the peak of the summed resident set of `cdna world` and its worker processes,
sampled every 0.2 s (the largest single process, from the kernel's getrusage, is printed too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

BUDGET_GB = 4.0


def main() -> None:
    """Run `cdna world` in a child process and print its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--out", type=Path, default=None, help="lake folder (default: a temporary one, removed)"
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="cdna-world-bench-")) / "lake"
    cmd = [
        sys.executable,
        "-m",
        "cdna",
        "--quiet",
        "--json",
        "world",
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
    ]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out_fh, tempfile.TemporaryFile(mode="w+") as err_fh:
        child = subprocess.Popen(cmd, stdout=out_fh, stderr=err_fh, text=True)
        peak_total = 0.0
        parent = psutil.Process(child.pid)
        while child.poll() is None:
            peak_total = max(peak_total, _tree_rss(parent))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        out_fh.seek(0)
        err_fh.seek(0)
        stdout, stderr = out_fh.read(), err_fh.read()
    if child.returncode != 0:
        print(stderr, file=sys.stderr)
        sys.exit(child.returncode)
    peak_gb = peak_total / 2**30
    largest_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux
    result = json.loads(stdout)
    counts = result["counts"]
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**30
    txn_groups = pq.ParquetFile(out / "raw" / "transactions" / "transactions.parquet").num_row_groups
    print(f"customers            {counts['customers']:>14,}")
    print(f"transactions         {counts['transactions']:>14,}  ({txn_groups} row groups)")
    print(f"web events           {counts['web_events']:>14,}")
    print(f"holdings events      {counts['holdings']:>14,}")
    print(f"calls                {counts['calls']:>14,}  ({counts['transcripts']:,} transcript segments)")
    print(f"wall time            {wall:>14.1f} s   ({counts['transactions'] / wall:,.0f} transactions/s)")
    print(
        f"peak memory (RSS)    {peak_gb:>14.2f} GB  all processes (budget {BUDGET_GB} GB: ratio {peak_gb / BUDGET_GB:.2f})"
    )
    print(f"largest process      {largest_gb:>14.2f} GB")
    print(f"lake size on disk    {size:>14.2f} GB")
    if args.out is None:
        shutil.rmtree(out.parent, ignore_errors=True)


def _tree_rss(proc: psutil.Process) -> float:
    """Resident bytes of a process and all its descendants."""
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


if __name__ == "__main__":
    main()
