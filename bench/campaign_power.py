"""Benchmark: how often a 500-customer campaign with a 10% control group finds a planted uplift (issue 17).

Reference: the issue's acceptance — on the demo bank the uplift interval excludes 0 for a product tied to a
planted life event and includes 0 for a product with none. One campaign is one draw; this repeats the
campaign with other control splits and other world responses and prints, per product, the share of
intervals that exclude 0 (power for a life-event product, false positives for one without a signal), the
mean measured uplift and the planted one. Targets come from the champion's scores (eligibility only, no
policy), as `cdna campaign create` would rank them.

    python bench/campaign_power.py --lake LAKE                   # a lake with a champion (e.g. `cdna demo`)
    python bench/campaign_power.py --lake LAKE --repeats 50 --products fx_deposit check_card
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# keep this folder off the import path (bench files are named like packages)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--products", nargs="+", default=["fx_deposit", "check_card"])
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--control", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()

    from cdna.core.config import load_config
    from cdna.core.lake import Lake
    from cdna.features.snapshot import snapshot
    from cdna.ingest.world.responses import ResponseOptions, simulate_responses
    from cdna.recommend.campaigns import CampaignSpec, campaign_results, select_targets
    from cdna.recommend.dataset import data_window, load_holdings
    from cdna.recommend.offers import join_conversions
    from cdna.recommend.runner import feature_set, reason_context, registry
    from cdna.recommend.scoring import batch_recommend

    lake = Lake.at(args.lake)
    cfg = load_config(environ={})
    fs = feature_set(cfg)
    version, bundle = registry(lake, cfg).champion()
    as_of = data_window(lake, cfg.timezone)[1]
    out = snapshot(fs, lake.root, as_of, lake.tmp_dir("bench") / "campaign-snapshot.parquet").path
    feats = pd.read_parquet(out)
    feats["as_of"] = pd.to_datetime(feats["as_of"]).dt.date
    all_k = cfg.recommend.model_copy(update={"k": len(fs.catalog.ids)})
    scores = batch_recommend(
        bundle, feats, fs.catalog, fs.intents, all_k, reason_context(cfg, fs), str(version), None, False
    ).to_pandas()
    life = pd.read_parquet(lake.truth_file("life_events"))
    # the world's own history only: opens a previous campaign simulation added would count twice
    hold = load_holdings(lake)
    hold = hold[~hold["event_id"].astype(str).str.startswith("HR")]
    start = pd.Timestamp(f"{as_of} 09:00", tz=cfg.timezone) + pd.Timedelta(days=1)
    print(
        f"lake {lake.root}: champion v{version}, as of {as_of}; {args.repeats} repeats of a "
        f"{args.size}-customer campaign with a {args.control:.0%} control group"
    )
    print(
        f"{'product':<14}{'excl. 0':>9}{'mean uplift':>13}{'planted':>9}{'treated conv':>14}{'control conv':>14}"
    )
    for product in args.products:
        scored = scores[scores["product_id"] == product]
        excl, ups, planted, tc, cc = [], [], [], [], []
        for r in range(args.repeats):
            m = select_targets(scored, CampaignSpec(f"bench-{r}", product, args.size, args.control, seed=r))
            m["offer_id"] = np.where(m["group"] == "treated", [f"B{r}-{i}" for i in range(len(m))], None)
            m["start_us"] = int(start.value // 1000)
            res = simulate_responses(
                m, life, hold, ResponseOptions(horizon_days=cfg.recommend.horizon_days), f"bench-{r}"
            )
            both = pd.concat([hold, res.opens], ignore_index=True)
            m["day"] = as_of
            m["converted"] = (
                join_conversions(m, both, cfg.recommend.horizon_days, cfg.timezone).notna().to_numpy()
            )
            m["outcome"] = m["offer_id"].map(res.outcomes.set_index("offer_id")["outcome"])
            row = campaign_results(m, None).iloc[0]
            excl.append(row["uplift_low"] > 0 or row["uplift_high"] < 0)
            ups.append(row["uplift"])
            planted.append(res.expected_uplift)
            tc.append(row["treated_conversion_rate"])
            cc.append(row["control_conversion_rate"])
        print(
            f"{product:<14}{np.mean(excl):>8.0%} {np.mean(ups) * 100:>+11.1f}pp{np.mean(planted) * 100:>+8.1f}pp"
            f"{np.mean(tc):>14.1%}{np.mean(cc):>14.1%}"
        )


if __name__ == "__main__":
    main()
