"""Benchmark one-shot lookups from the command line: wall time of each command vs the 3 s target.

Usage: python bench/lookups.py --lake LAKE [--customer C0000001] [--repeat 3]

Reference: issue 18's target — `cdna recommend CUSTOMER`, `cdna models list` and `cdna features show`
answer in under 3 s on 2 cores (before: 48 s, 15 s). Each command runs as its own process, as a teller or
an analyst would type it; the figure is the median wall time over --repeat runs after one warm-up (the
first run also pays the OS file cache). `cdna --help` is shown as the floor (interpreter + CLI import).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 3.0


def _time(argv: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    """Time each lookup and print median seconds and the ratio to the target."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--customer", default="C0000001")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cdna = shutil.which("cdna") or str(Path(sys.executable).parent / "cdna")
    lake = str(args.lake)
    commands = {
        "cdna --help (floor)": [cdna, "--help"],
        f"cdna recommend {args.customer}": [cdna, "recommend", args.customer, "--lake", lake],
        "cdna models list": [cdna, "models", "list", "--lake", lake],
        f"cdna features show {args.customer}": [cdna, "features", "show", args.customer, "--lake", lake],
    }
    print(f"lake {lake}; median of {args.repeat} runs after one warm-up; target {TARGET_S:.0f} s each")
    print(f"{'command':40s} {'median s':>9s} {'max s':>7s} {'vs target':>10s}  exit")
    worst = 0.0
    for name, argv in commands.items():
        _time(argv)
        runs = [_time(argv) for _ in range(args.repeat)]
        secs = [s for s, _ in runs]
        med = statistics.median(secs)
        codes = sorted({c for _, c in runs})
        if "floor" not in name:
            worst = max(worst, med)
        print(f"{name:40s} {med:9.2f} {max(secs):7.2f} {med / TARGET_S:9.2f}x  {codes}")
    verdict = "within" if worst < TARGET_S else "OVER"
    print(f"slowest lookup {worst:.2f} s: {verdict} the {TARGET_S:.0f} s target")


if __name__ == "__main__":
    main()
