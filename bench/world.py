"""Benchmark the synthetic bank generator: wall time, peak memory and rows for N customers.

Usage: python bench/world.py [--customers 1000000] [--out DIR] [--seed 7]

Reference: the foundation issue's budget — 1,000,000 customers with 50M+ transactions in under 4 GB of
peak memory (resident set of the `cdna world` process, measured by the kernel via getrusage).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        sys.exit(proc.returncode)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux
    result = json.loads(proc.stdout)
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
        f"peak memory (RSS)    {peak_gb:>14.2f} GB  (budget {BUDGET_GB} GB: ratio {peak_gb / BUDGET_GB:.2f})"
    )
    print(f"lake size on disk    {size:>14.2f} GB")
    if args.out is None:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
