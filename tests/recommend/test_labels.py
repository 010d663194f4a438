"""Training entities: as-of dates, time split, eligibility and labels on tiny real-shaped frames."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cdna.core.config import load_products
from cdna.recommend.labels import (
    UnknownProductError,
    attach_labels,
    candidates,
    check_products,
    eligibility_matrix,
    entities,
    monthly_as_of_dates,
    split_dates,
)

CATALOG = load_products()


def test_monthly_dates_leave_a_full_label_window() -> None:
    dates = monthly_as_of_dates(date(2024, 6, 30), date(2025, 6, 30), 30, 10)
    assert dates[-1] == date(2025, 5, 31)
    assert all(d.day >= 28 for d in dates) and dates == sorted(dates)
    assert dates[0] >= date(2024, 8, 29)  # 60-day warm-up of features
    assert len(monthly_as_of_dates(date(2024, 6, 30), date(2025, 6, 30), 30, 3)) == 3


def test_split_never_lets_train_labels_reach_the_holdout() -> None:
    dates = monthly_as_of_dates(date(2024, 1, 1), date(2025, 6, 30), 45, 8)
    train, hold = split_dates(dates, 2, 45)
    assert max(train) < min(hold)
    assert all((hold[0] - d).days >= 45 for d in train)
    with pytest.raises(Exception, match="holdout_months"):
        split_dates(dates[:2], 2, 30)


def test_vectorised_eligibility_agrees_with_product_eligible() -> None:
    rng = np.random.default_rng(3)
    n = 400
    age = rng.integers(10, 90, n)
    bands = np.array(["none", "under_30m", "50_70m"], dtype=object)[rng.integers(0, 3, n)]
    held = rng.random((n, len(CATALOG.ids))) < 0.2
    got = eligibility_matrix(age, bands, held, CATALOG)
    for i in range(n):
        held_ids = {p for j, p in enumerate(CATALOG.ids) if held[i, j]}
        for j, p in enumerate(CATALOG.products):
            want = p.eligible(int(age[i]), str(bands[i]), held_ids) and p.id not in held_ids
            assert got[i, j] == want, (i, p.id)


def _frame(**held: bool) -> pd.DataFrame:
    row = {"customer_id": "C0000001", "as_of": date(2025, 5, 31), "age": 33, "income_band": "30_50m"}
    row |= {f"held_{p}": held.get(p, False) for p in CATALOG.ids}
    return pd.DataFrame([row])


def test_candidates_drop_held_exclusive_and_ineligible_products() -> None:
    got = set(candidates(_frame(mortgage=True), CATALOG)["product_id"])
    assert "mortgage" not in got and "jeonse_loan" not in got  # held / exclusive_with mortgage
    assert "youth_savings" in got and "credit_card" in got
    young = _frame().assign(age=16, income_band="none")
    got = set(candidates(young, CATALOG)["product_id"])
    assert got == {"term_deposit", "installment_savings", "check_card", "fx_deposit"}
    with pytest.raises(Exception, match="held_"):
        candidates(_frame().drop(columns=["held_irp"]), CATALOG)


def test_labels_use_korea_days_and_the_horizon() -> None:
    pairs = pd.DataFrame(
        {
            "customer_id": ["C1"] * 4,
            "as_of": [date(2025, 5, 31)] * 4,
            "product_id": ["fund", "isa", "irp", "mortgage"],
        }
    )
    hold = pd.DataFrame(
        {
            "customer_id": ["C1"] * 5,
            "product_id": ["fund", "isa", "irp", "mortgage", "fund"],
            "event": ["open", "open", "open", "close", "close"],
            "ts": pd.to_datetime(
                [
                    "2025-05-31T15:30:00Z",  # 2025-06-01 00:30 KST: inside the window
                    "2025-05-31T14:30:00Z",  # 2025-05-31 23:30 KST: the as-of day itself, not a label
                    "2025-06-30T14:00:00Z",  # 2025-06-30 23:00 KST: the window's last day
                    "2025-06-10T00:00:00Z",  # a close is never a label
                    "2025-06-02T00:00:00Z",
                ]
            ),
        }
    )
    assert attach_labels(pairs, hold, 30).tolist() == [1, 0, 1, 0]
    assert attach_labels(pairs, hold, 29).tolist() == [1, 0, 0, 0]


def test_entities_skip_customers_who_had_not_joined() -> None:
    cust = pd.DataFrame({"customer_id": ["C1", "C2"], "join_date": [date(2024, 1, 1), date(2025, 3, 1)]})
    ents = entities(cust, [date(2025, 1, 31), date(2025, 4, 30)])
    assert ents.values.tolist() == [
        ["C1", date(2025, 1, 31)],
        ["C1", date(2025, 4, 30)],
        ["C2", date(2025, 4, 30)],
    ]


def test_product_not_in_catalogue_is_a_clear_error() -> None:
    hold = pd.DataFrame(
        {
            "event_id": ["H1", "H9"],
            "customer_id": ["C0000001", "C0000002"],
            "product_id": ["fund", "gold_bar"],
        }
    )
    with pytest.raises(UnknownProductError) as err:
        check_products(hold, CATALOG)
    assert "gold_bar" in str(err.value) and "H9" in str(err.value) and "products.yaml" in str(err.value)
