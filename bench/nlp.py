"""Throughput of the NLP stage against konlpy Okt on the same text (issue #4 acceptance).

Usage: python bench/nlp.py [--lake LAKE] [--sentences 3000] [--memos 200000]

Prints, for the same inputs:
  * text: sentences/s tokenising real Korean (../shared/data/nsmc_10k.tsv) — kiwi (ours) vs Okt;
  * transcripts: customer turns/s through our whole per-turn path (mask + tokenise) vs Okt tokenising;
  * memos: memos/s through our memo path (interest classification + masking, cached) vs Okt tokenising
    the same stream, and the absolute rate against the 50,000 memos/s target.
Okt is run on a sample and its rate extrapolated (it is ~100 sentences/s, so a full run takes minutes).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rate(n: int, fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--lake", help="a lake from `cdna world` (default: generate 2,000 customers in a temp dir)"
    )
    ap.add_argument("--sentences", type=int, default=3000)
    ap.add_argument("--memos", type=int, default=200_000)
    ap.add_argument("--okt-sample", type=int, default=1000)
    args = ap.parse_args()

    import pandas as pd
    import pyarrow.parquet as pq
    from konlpy.tag import Okt

    from cdna.nlp.interests import InterestClassifier
    from cdna.nlp.mine import mask_memo
    from cdna.nlp.pii import mask
    from cdna.nlp.tokenize import Tokenizer

    lake = Path(args.lake) if args.lake else Path(tempfile.mkdtemp()) / "lake"
    if not args.lake:
        from cdna.ingest.world.generator import synthetic_bank

        synthetic_bank(lake, customers=2000, seed=7)
    print(f"machine: {os.cpu_count()} CPU(s); reference: konlpy Okt on the same inputs")
    okt = Okt()
    for s in ("워밍업 문장입니다", "자바 가상머신이 데워질 때까지 몇 번 돌립니다") * 200:
        okt.pos(s)  # the JVM needs a warm-up, or Okt looks slower than it is

    # 1. text: real sentences
    nsmc = ROOT.parent / "shared" / "data" / "nsmc_10k.tsv"
    sents = pd.read_csv(nsmc, sep="\t").document.dropna().astype(str).tolist()[: args.sentences]
    kiwi = Tokenizer("kiwi", cache_size=0)
    kiwi.pos("워밍업")
    r_kiwi = _rate(len(sents), lambda: [kiwi.pos(s) for s in sents])
    kiwi2 = Tokenizer("kiwi", cache_size=0, num_workers=2)
    kiwi2.pos_many(sents[:100])
    r_kiwi2 = _rate(len(sents), lambda: kiwi2.pos_many(sents))
    sample = sents[: args.okt_sample]
    r_okt = _rate(len(sample), lambda: [okt.pos(s) for s in sample])
    print(
        f"\ntext ({len(sents):,} NSMC sentences): kiwi {r_kiwi:,.0f}/s (1 thread), {r_kiwi2:,.0f}/s (2 threads); "
        f"Okt {r_okt:,.0f}/s → {r_kiwi / r_okt:.1f}x / {r_kiwi2 / r_okt:.1f}x Okt"
    )

    # 2. transcripts: customer turns; tokenise only, and our full per-turn path (mask + tokenise)
    t = pq.read_table(lake / "transcripts").to_pandas()
    turns = t[t.speaker == "customer"].text.tolist()
    tsample = turns[: args.okt_sample]
    r_okt_t = _rate(len(tsample), lambda: [okt.pos(x) for x in tsample])
    results = {}
    for label, cache in (("no cache", 0), ("LRU cache", 100_000)):
        tok = Tokenizer("kiwi", cache_size=cache, num_workers=2)
        tok.pos("워밍업")
        results[f"tokenise, {label}"] = _rate(len(turns), lambda tok=tok: tok.pos_many(turns))
        tok = Tokenizer("kiwi", cache_size=cache, num_workers=2)
        tok.pos("워밍업")
        results[f"mask+tokenise, {label}"] = _rate(
            len(turns), lambda tok=tok: tok.pos_many([mask(x).text for x in turns])
        )
    print(
        f"transcripts ({len(turns):,} customer turns, {len(set(turns)):,} distinct); Okt tokenise {r_okt_t:,.0f}/s:"
    )
    for label, r in results.items():
        print(f"  {label:<26} {r:>9,.0f}/s → {r / r_okt_t:5.1f}x Okt (target ≥ 5x)")

    # 3. memos: a realistic stream (repeats included), cached classification + masking
    x = pq.read_table(lake / "raw" / "transactions", columns=["memo", "merchant"]).to_pandas()
    memos = (x.memo.fillna("").tolist() * (args.memos // len(x) + 1))[: args.memos]
    merchants = (x.merchant.tolist() * (args.memos // len(x) + 1))[: args.memos]
    clf = InterestClassifier().fit()
    cache: dict[str, str] = {}

    def memo_path() -> None:
        found = clf.classify_pair(memos, merchants)
        for m, f in zip(memos, found, strict=True):
            if f.label is not None and m not in cache:
                cache[m] = mask_memo(m)[0]

    r_memo = _rate(len(memos), memo_path)
    r_memo_warm = _rate(len(memos), memo_path)
    msample = memos[: args.okt_sample * 5]
    r_okt_m = _rate(len(msample), lambda: [okt.pos(m) for m in msample if m])
    print(
        f"memos ({len(memos):,}, {len(set(memos)):,} distinct): ours {r_memo:,.0f}/s cold, {r_memo_warm:,.0f}/s warm; "
        f"Okt tokenise {r_okt_m:,.0f}/s → {r_memo / r_okt_m:.0f}x Okt (targets ≥ 20x and ≥ 50,000/s)"
    )


if __name__ == "__main__":
    main()
