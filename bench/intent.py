"""Intent classifier quality: held-out split of the seed set, and synthetic transcripts (issue #4).

Usage: python bench/intent.py [--lake LAKE] [--seed 0]

1. Seed set: a grouped 75/25 split (an utterance and its ASR-style variant stay on the same side);
   per-intent precision/recall/F1, macro-F1 and the confusion matrix.
2. Synthetic transcripts: the model trained on the whole seed set classifies each call's masked customer
   turns from `cdna world`; the truth is _truth/call_reasons.parquet (read here only, never by the stage).
   Reports top-1 accuracy (best intent among the true ones), macro-F1 of top-1 against the first true
   intent, and multi-label recall/precision of the thresholded intents.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--lake", help="a lake from `cdna world` (default: generate 2,000 customers in a temp dir)"
    )
    ap.add_argument("--seed", type=int, default=0, help="random state of the held-out split")
    ap.add_argument("--backend", default="sklearn")
    ap.add_argument("--model", default=None, help="local model folder for --backend transformers")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    from sklearn.metrics import classification_report, confusion_matrix, f1_score
    from sklearn.model_selection import GroupShuffleSplit

    from cdna.core.config import load_config
    from cdna.core.lake import Lake
    from cdna.nlp.intents import load_seed, make_intent_model
    from cdna.nlp.mine import mine_calls
    from cdna.nlp.store import fit_models

    texts, labels, groups = load_seed()
    X, y, g = np.array(texts, dtype=object), np.array(labels), np.array(groups)
    train, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=args.seed).split(X, y, g))
    t0 = time.perf_counter()
    model = make_intent_model(args.backend, args.model).fit(list(X[train]), list(y[train]))
    fit_s = time.perf_counter() - t0
    pred = np.array([row[0] for row in model.predict(list(X[test]))])
    print(
        f"== seed set: {len(train)} train / {len(test)} held-out utterances ({len(set(g[test]))} groups), "
        f"backend {args.backend}, fit {fit_s:.1f} s"
    )
    print(classification_report(y[test], pred, digits=3, zero_division=0))
    print(
        f"macro-F1 (held-out seed split): {f1_score(y[test], pred, average='macro'):.3f}  (target ≥ 0.85)\n"
    )
    classes = sorted(set(y))
    cm = pd.DataFrame(
        confusion_matrix(y[test], pred, labels=classes),
        index=[f"{i:>2} {c}" for i, c in enumerate(classes)],
        columns=[str(i) for i in range(len(classes))],
    )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("confusion matrix (rows = true, columns = predicted, by row number):")
        print(cm.to_string())

    lake_path = Path(args.lake) if args.lake else Path(tempfile.mkdtemp()) / "lake"
    if not args.lake:
        from cdna.ingest.world.generator import synthetic_bank

        synthetic_bank(lake_path, customers=2000, seed=7)
    lake = Lake.at(lake_path)
    cfg = load_config().nlp
    models = fit_models(cfg, model=args.model, backend=args.backend)
    transcripts = pq.read_table(lake.transcripts)
    truth = {
        r["call_id"]: r["intents"] for r in pq.read_table(lake.truth / "call_reasons.parquet").to_pylist()
    }
    t0 = time.perf_counter()
    signals = mine_calls(transcripts, models).signals.to_pandas()
    mine_s = time.perf_counter() - t0
    intents = signals[signals.kind == "intent"]
    calls = intents.groupby("source_id")
    top1 = calls.apply(lambda d: d.sort_values("score").label.iloc[-1])
    picked = calls.label.apply(set)
    ids = [c for c in top1.index if c in truth]
    acc = np.mean([top1[c] in truth[c] for c in ids])
    f1 = f1_score([truth[c][0] for c in ids], [top1[c] for c in ids], average="macro")
    tp = sum(len(picked[c] & set(truth[c])) for c in ids)
    recall = tp / sum(len(truth[c]) for c in ids)
    precision = tp / sum(len(picked[c]) for c in ids)
    two = [c for c in ids if len(truth[c]) > 1]
    print(
        f"\n== synthetic transcripts ({len(ids):,} calls with ASR-like errors, {mine_s:.1f} s incl. masking):"
    )
    print(f"top-1 accuracy (best intent is a true reason): {acc:.3f}")
    print(f"macro-F1 of top-1 vs first true intent:        {f1:.3f}")
    print(
        f"multi-label: recall {recall:.3f}, precision {precision:.3f} "
        f"({len(two)} calls with two true reasons; both found in "
        f"{np.mean([set(truth[c]) <= picked[c] for c in two]) if two else float('nan'):.3f})"
    )


if __name__ == "__main__":
    main()
