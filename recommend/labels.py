"""Training entities: monthly as-of dates, eligible candidates and open-event labels (issue #6).

An entity row is (customer_id, as_of); a candidate row adds a product the customer may open (eligible by the
catalogue rules and not held at the as-of); its label is 1 when the product was opened in
(as_of, as_of + horizon], both ends in Korea-time calendar days.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from cdna.core.config import ProductCatalog
from cdna.core.errors import CdnaError, SchemaError
from cdna.recommend.policy import eligibility_matrix

__all__ = [
    "UnknownProductError",
    "attach_labels",
    "candidates",
    "check_products",
    "eligibility_matrix",
    "entities",
    "monthly_as_of_dates",
    "split_dates",
]


class UnknownProductError(CdnaError):
    """A product id in the data that the catalogue does not know."""

    exit_code = 2


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def monthly_as_of_dates(
    first_day: date, last_day: date, horizon_days: int, months: int, warmup_days: int = 60
) -> list[date]:
    """The last `months` month-end days whose label window ends by `last_day`, after a feature warm-up."""
    end = last_day - timedelta(days=horizon_days)
    day = (
        _month_end(end)
        if _month_end(end) == end
        else _month_end(date(end.year, end.month, 1) - timedelta(days=1))
    )
    out: list[date] = []
    earliest = first_day + timedelta(days=warmup_days)
    while len(out) < months and day >= earliest:
        out.append(day)
        day = _month_end(date(day.year, day.month, 1) - timedelta(days=1))
    return sorted(out)


def split_dates(dates: list[date], holdout_months: int, horizon_days: int) -> tuple[list[date], list[date]]:
    """Train on earlier as-of dates, hold out the last ones; train labels never reach into the holdout."""
    if len(dates) <= holdout_months:
        raise CdnaError(
            f"only {len(dates)} monthly as-of date(s) with a full {horizon_days}-day label window; "
            f"need more than holdout_months={holdout_months}",
            hint="generate a longer history (`cdna world --months 12`) or lower recommend.holdout_months",
        )
    hold = dates[-holdout_months:]
    train = [d for d in dates[:-holdout_months] if d + timedelta(days=horizon_days) <= hold[0]]
    return train, hold


def check_products(holdings: pd.DataFrame, catalog: ProductCatalog, source: str = "holdings") -> None:
    """Raise UnknownProductError naming the first event of a product the catalogue does not have."""
    known = set(catalog.ids)
    bad = holdings.loc[~holdings["product_id"].isin(known)]
    if len(bad):
        row = bad.iloc[0]
        ids = sorted(bad["product_id"].unique().tolist())
        raise UnknownProductError(
            f"{source}: product(s) {ids} are not in the catalogue ({len(bad)} event(s); first: event "
            f"{row.get('event_id', '?')} of customer {row['customer_id']})",
            hint="add them to configs/products.yaml, or map them to catalogue ids on import",
        )


def entities(customers: pd.DataFrame, as_of_dates: list[date]) -> pd.DataFrame:
    """(customer_id, as_of) for every customer who had joined by each as-of day."""
    frames = []
    join = pd.to_datetime(customers["join_date"]).dt.date if "join_date" in customers else None
    for day in as_of_dates:
        ids = customers["customer_id"] if join is None else customers.loc[join <= day, "customer_id"]
        frames.append(pd.DataFrame({"customer_id": ids.astype(str).to_numpy(), "as_of": day}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer_id", "as_of"])
    return out.sort_values(["as_of", "customer_id"], ignore_index=True)


def candidates(frame: pd.DataFrame, catalog: ProductCatalog) -> pd.DataFrame:
    """Long (row, product_id) pairs of eligible, not-held products for each row of a feature frame.

    `frame` needs `age`, `income_band` and one `held_<product>` column per catalogue product (the feature
    store's holdings view). Returns columns `row` (position in `frame`) and `product_id`.
    """
    need = ["age", "income_band", *[f"held_{p}" for p in catalog.ids]]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"feature snapshot is missing column(s) {missing[:5]}{' …' if len(missing) > 5 else ''}",
            hint="rebuild the snapshot with `cdna features snapshot`; the catalogue and feature views must match",
        )
    held = np.column_stack([frame[f"held_{p}"].fillna(False).to_numpy(dtype=bool) for p in catalog.ids])
    age = frame["age"].to_numpy(dtype=float, na_value=np.nan)
    band = frame["income_band"].fillna("none").to_numpy(dtype=object)
    ok = eligibility_matrix(age, band, held, catalog)
    rows, cols = np.nonzero(ok)
    return pd.DataFrame({"row": rows, "product_id": np.asarray(catalog.ids, dtype=object)[cols]})


def attach_labels(
    pairs: pd.DataFrame, holdings: pd.DataFrame, horizon_days: int, timezone: str = "Asia/Seoul"
) -> pd.Series:
    """1 when `customer_id` opened `product_id` in (as_of, as_of + horizon] (Korea-time days), else 0.

    `pairs` has customer_id, as_of (date) and product_id; `holdings` has customer_id, product_id, event, ts.
    """
    opens = holdings.loc[holdings["event"] == "open", ["customer_id", "product_id", "ts"]].copy()
    opens["day"] = pd.to_datetime(opens["ts"], utc=True).dt.tz_convert(timezone).dt.date
    left = pairs[["customer_id", "as_of", "product_id"]].reset_index()
    merged = left.merge(
        opens[["customer_id", "product_id", "day"]], on=["customer_id", "product_id"], how="inner"
    )
    as_of = pd.to_datetime(merged["as_of"])
    day = pd.to_datetime(merged["day"])
    hit = (day > as_of) & (day <= as_of + pd.Timedelta(days=horizon_days))
    positive = set(merged.loc[hit.to_numpy(), "index"].tolist())
    return pd.Series(pairs.index.isin(list(positive)).astype(np.int8), index=pairs.index, name="label")
