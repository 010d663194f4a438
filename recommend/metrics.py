"""Ranking metrics over candidate frames: MAP@k, NDCG@k, Recall@k, HitRate@k, coverage, calibration.

A list is one (customer_id, as_of) group ranked by score. As in Kaggle's Santander product recommendation,
AP@k of a list is sum(P@i * rel_i, i <= k) / min(positives, k); MAP, NDCG, Recall and HitRate average over
lists with at least one positive (lists without any cannot be ranked right or wrong).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "calibration",
    "gain_curve",
    "per_product",
    "per_segment",
    "rank_lists",
    "ranking_metrics",
]

GROUP = ["customer_id", "as_of"]


def rank_lists(frame: pd.DataFrame, score: np.ndarray | pd.Series) -> pd.DataFrame:
    """Frame sorted by group and descending score with a 1-based `rank` (ties broken by product id).

    `row` keeps each row's position in `frame`, to align other columns with the ranked order.
    """
    df = frame[[*GROUP, "product_id", "label"]].copy()
    df["score"] = np.asarray(score, dtype=float)
    df["row"] = np.arange(len(df))
    df = df.sort_values(
        [*GROUP, "score", "product_id"], ascending=[True, True, False, True], kind="mergesort"
    )
    df["rank"] = df.groupby(GROUP, sort=False).cumcount() + 1
    return df.reset_index(drop=True)


def _per_list(ranked: pd.DataFrame, k: int) -> pd.DataFrame:
    rel = ranked["label"].to_numpy(dtype=float)
    rank = ranked["rank"].to_numpy()
    top = rank <= k
    # rank_lists sorts by group, so a new list starts wherever rank restarts at 1
    gid = np.cumsum(rank == 1) - 1
    hits_cum = ranked.assign(_r=rel * top, _g=gid).groupby("_g")["_r"].cumsum().to_numpy()
    prec = np.where(top, hits_cum / rank, 0.0)
    n = gid.max() + 1 if len(gid) else 0
    npos = np.bincount(gid, weights=rel, minlength=n)
    ap_num = np.bincount(gid, weights=prec * rel * top, minlength=n)
    hits = np.bincount(gid, weights=rel * top, minlength=n)
    dcg = np.bincount(gid, weights=rel * top / np.log2(rank + 1), minlength=n)
    ideal_disc = np.concatenate([[0.0], np.cumsum(1 / np.log2(np.arange(2, k + 2)))])
    idcg = ideal_disc[np.minimum(npos, k).astype(int)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "positives": npos,
                "ap": np.where(npos > 0, ap_num / np.minimum(npos, k), np.nan),
                "ndcg": np.where(idcg > 0, dcg / idcg, np.nan),
                "recall": np.where(npos > 0, hits / npos, np.nan),
                "hit": np.where(npos > 0, (hits > 0).astype(float), np.nan),
            }
        )
    first = np.unique(gid, return_index=True)[1]
    for c in GROUP:
        out[c] = ranked[c].to_numpy()[first]
    return out


def ranking_metrics(ranked: pd.DataFrame, k: int, catalogue_size: int | None = None) -> dict[str, float]:
    """MAP@k, NDCG@k, Recall@k, HitRate@k (lists with a positive), catalogue coverage and counts."""
    lists = _per_list(ranked, k)
    pos = lists[lists["positives"] > 0]
    top = ranked.loc[ranked["rank"] <= k, "product_id"]
    n_products = catalogue_size or ranked["product_id"].nunique() or 1
    return {
        f"map@{k}": float(pos["ap"].mean()) if len(pos) else 0.0,
        f"ndcg@{k}": float(pos["ndcg"].mean()) if len(pos) else 0.0,
        f"recall@{k}": float(pos["recall"].mean()) if len(pos) else 0.0,
        f"hitrate@{k}": float(pos["hit"].mean()) if len(pos) else 0.0,
        "coverage": float(top.nunique() / n_products),
        "lists": float(len(lists)),
        "lists_with_positive": float(len(pos)),
        "positives": float(ranked["label"].sum()),
    }


def per_segment(ranked: pd.DataFrame, segments: pd.Series, k: int) -> pd.DataFrame:
    """MAP@k, HitRate@k and positives per segment; `segments` is aligned with `ranked` rows."""
    lists = _per_list(ranked, k)
    seg = ranked.assign(_s=np.asarray(segments)).groupby(GROUP, sort=False)["_s"].first()
    lists = lists.merge(seg.rename("segment").reset_index(), on=GROUP, how="left")
    pos = lists[lists["positives"] > 0]
    out = pos.groupby("segment", dropna=False).agg(
        map=("ap", "mean"), hitrate=("hit", "mean"), lists=("ap", "size"), positives=("positives", "sum")
    )
    return out.reset_index().rename(columns={"map": f"map@{k}", "hitrate": f"hitrate@{k}"})


def per_product(ranked: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per product: positives, share of them ranked in the top-k (recall), times recommended, precision."""
    top = ranked["rank"] <= k
    g = ranked.assign(_top=top, _hit=top & (ranked["label"] > 0)).groupby("product_id")
    out = g.agg(positives=("label", "sum"), recommended=("_top", "sum"), hits=("_hit", "sum"))
    out[f"recall@{k}"] = out["hits"] / out["positives"].replace(0, np.nan)
    out[f"precision@{k}"] = out["hits"] / out["recommended"].replace(0, np.nan)
    return out.reset_index()


def calibration(label: np.ndarray, prob: np.ndarray, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """Reliability table over score quantile bins and the expected calibration error."""
    prob = np.asarray(prob, dtype=float)
    label = np.asarray(label, dtype=float)
    edges = np.unique(np.quantile(prob, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, max(len(edges) - 2, 0))
    df = (
        pd.DataFrame({"bin": idx, "p": prob, "y": label})
        .groupby("bin")
        .agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
        .reset_index()
    )
    ece = float((df["n"] * (df["predicted"] - df["observed"]).abs()).sum() / max(len(prob), 1))
    return df, ece


def gain_curve(label: np.ndarray, score: np.ndarray, points: int = 20) -> pd.DataFrame:
    """Cumulative gain: share of positives captured in the top x% of candidates by score, and the lift."""
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    y = np.asarray(label, dtype=float)[order]
    total = max(y.sum(), 1.0)
    cut = np.unique(np.linspace(1, len(y), points).astype(int))
    captured = np.cumsum(y)[cut - 1] / total
    share = cut / len(y)
    return pd.DataFrame({"share": share, "gain": captured, "lift": captured / share})
