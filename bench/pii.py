"""Masking measured on a generated corpus: recall per type and form, look-alikes kept, speed (issue #14).

Usage: python bench/pii.py [--items 100000] [--lookalikes 50000] [--seed 14] [--show 50]

The corpus comes from tests/nlp/pii_corpus.py (seeded, so a run is repeatable): every core type written and
read out in every form inside call-centre carrier sentences, and look-alikes (amounts, rates, dates, times,
counts, codes, branch numbers, transaction references) that must stay. Targets: core recall 100%, look-alikes
kept ≥ 99.5%. Every miss is printed. Speed is items/s through `cdna.nlp.pii.mask` on one core; the reference is
the same masker on the same items, so compare runs of this script, not against other machines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nlp"))

from pii_corpus import FORMS, Score, core_items, lookalike_items  # noqa: E402

from cdna.nlp.pii import mask  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000, help="core items (default 100,000)")
    ap.add_argument("--lookalikes", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--show", type=int, default=0, help="print at most this many misses (0: all)")
    args = ap.parse_args()

    items = list(core_items(args.items, args.seed)) + list(lookalike_items(args.lookalikes, args.seed))
    score = Score()
    t0 = time.perf_counter()
    results = [mask(item.text) for item in items]
    elapsed = time.perf_counter() - t0
    for item, result in zip(items, results, strict=True):
        score.add(item, [(s.type, s.start, s.end) for s in result.spans], result.text)

    print(f"corpus: {args.items:,} core items + {args.lookalikes:,} look-alikes, seed {args.seed}")
    print(f"speed: {len(items) / elapsed:,.0f} items/s ({elapsed:.1f} s, one process, no cache)")
    print(f"core recall: {score.recall:.4%}  (target 100%)")
    print(f"look-alikes kept: {score.kept:.4%}  (target ≥ 99.5%)")
    types = sorted({t for t, _ in score.seen})
    print("\nrecall by type")
    for t in types:
        seen = sum(n for (tt, _), n in score.seen.items() if tt == t)
        missed = sum(n for (tt, _), n in score.missed.items() if tt == t)
        typed = seen - missed - sum(n for (tt, _), n in score.mistyped.items() if tt == t)
        print(f"  {t:9s} {1 - missed / seen:8.4%} of {seen:6,}   typed right {typed / seen:7.2%}")
    print("\nrecall by form")
    for f in FORMS:
        seen = sum(n for (_, ff), n in score.seen.items() if ff == f)
        if seen:
            missed = sum(n for (_, ff), n in score.missed.items() if ff == f)
            print(f"  {f:17s} {1 - missed / seen:8.4%} of {seen:6,}")
    print("\nlook-alikes masked by kind:", dict(score.masked_lookalikes) or "none")
    if score.mistyped:
        print("masked under another type (type -> given):", dict(score.mistyped.most_common()))
    shown = score.misses if not args.show else score.misses[: args.show]
    print(f"\n{len(score.misses)} misses" + (":" if shown else ""))
    for line in shown:
        print(" ", line)


if __name__ == "__main__":
    main()
