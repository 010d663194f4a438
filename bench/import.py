"""Benchmark an import with one huge line: rows kept, rows rejected, exit code, wall time, peak memory.

Usage: python bench/import.py [--line-mb 100] [--rows 1000] [--max-line-bytes 1048576]

Reference: issue 15's target — a transactions CSV with one 100 MB line among 1,000 good rows imports the
1,000 rows, rejects the long line, exits 3, and stays under 300 MB peak memory (before: exit 2, 101 s,
400 MB, nothing imported). Memory is the kernel's peak resident set of the `cdna validate` process
(getrusage of the child), so it counts the interpreter and every library it loads.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 300.0
HEADER = "txn_id,customer_id,ts,amount,direction,memo\n"


def write_file(path: Path, rows: int, line_mb: float) -> int:
    """Write `rows` good transactions with one `line_mb` MB line in the middle; returns the file size."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            if i == rows // 2:
                memo = "가" * int(line_mb * (1 << 20) / 3)  # 3 bytes per Hangul syllable in UTF-8
                fh.write(f"LONG{i},C{i % 97},2025-01-03 10:00:00,1000,out,{memo}\n")
            fh.write(f"T{i:06d},C{i % 97:04d},2025-01-03 10:{i % 60:02d}:00,{1000 + i},out,스타벅스\n")
    return path.stat().st_size


def main() -> None:
    """Build the file in a temporary folder, import it with `cdna validate` and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--line-mb", type=float, default=100.0)
    parser.add_argument("--max-line-bytes", type=int, default=None, help="default: the config's (1 MB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdna-import-bench-") as tmp:
        src = Path(tmp) / "transactions.csv"
        size = write_file(src, args.rows, args.line_mb)
        cmd = [sys.executable, "-m", "cdna", "--json", "validate", "transactions", str(src)]
        cmd += ["--lake", str(Path(tmp) / "lake")]
        env = None
        if args.max_line_bytes is not None:
            import os

            env = {**os.environ, "CDNA_INGEST__MAX_LINE_BYTES": str(args.max_line_bytes)}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            result = {}
            print(proc.stderr[-2000:], file=sys.stderr)
    print(f"file: {size / (1 << 20):,.1f} MB, {args.rows:,} good rows + one {args.line_mb:g} MB line")
    print(
        f"imported rows:  {result.get('rows_added')}   (expected {args.rows:,}; valid {result.get('valid_rows')})"
    )
    print(f"rejected rows:  {result.get('rejected_rows')}   (expected 1)")
    print(f"exit code:      {proc.returncode}   (expected 3)")
    print(f"wall time:      {wall:.2f} s")
    print(
        f"peak RSS:       {peak_mb:,.0f} MB   (target < {TARGET_MB:.0f} MB: ratio {peak_mb / TARGET_MB:.2f})"
    )
    ok = (
        proc.returncode == 3
        and result.get("rows_added") == args.rows
        and result.get("rejected_rows") == 1
        and peak_mb < TARGET_MB
    )
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
