"""The world's answers to offers: receptive customers (recent life event, product not held) respond."""

from __future__ import annotations

import pandas as pd

from cdna.ingest.world.responses import ResponseOptions, simulate_responses

START = pd.Timestamp("2025-07-01 00:00", tz="UTC")
START_US = int(START.value // 1000)


def _frames(n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ids = [f"C{i:07d}" for i in range(n)]
    members = pd.DataFrame(
        {
            "customer_id": ids * 2,
            "product_id": ["fx_deposit"] * n + ["fund"] * n,
            "start_us": START_US,
            "offer_id": [f"O{i}" if i % 5 else None for i in range(2 * n)],
        }
    )
    # Half of them travelled abroad two months ago (a life event that leads to fx_deposit, not to funds).
    life = pd.DataFrame(
        {
            "customer_id": ids[: n // 2],
            "event": "travel_abroad",
            "ts": START - pd.Timedelta(days=60),
        }
    )
    # A tenth already hold fx_deposit: not receptive to it.
    holdings = pd.DataFrame(
        {
            "customer_id": ids[: n // 10],
            "product_id": "fx_deposit",
            "event": "open",
            "ts": START - pd.Timedelta(days=400),
        }
    )
    return members, life, holdings


def test_receptive_customers_accept_and_open_others_do_not_move() -> None:
    members, life, holdings = _frames()
    r = simulate_responses(members, life, holdings, ResponseOptions(), tag="t")
    n = len(members) // 2
    fx = r.receptive[:n]
    assert fx[: n // 10].sum() == 0 and fx[n // 10 : n // 2].all() and not fx[n // 2 :].any()
    assert not r.receptive[n:].any()  # no life event leads to funds
    opened = set(zip(r.opens["customer_id"], r.opens["product_id"], strict=True))
    treated = members["offer_id"].notna().to_numpy()
    conv = [((c, p) in opened) for c, p in zip(members["customer_id"], members["product_id"], strict=True)]
    conv_s = pd.Series(conv)
    rec_t = conv_s[(r.receptive) & treated].mean()
    rec_c = conv_s[(r.receptive) & ~treated].mean()
    assert rec_t > 0.5 and rec_c < 0.25  # the offer causes opens among receptive customers only
    assert conv_s[n:].mean() < 0.05  # funds: baseline opens only
    assert 0.08 < r.expected_uplift < 0.2  # a fifth of offered rows receptive x 0.85 x 0.9
    # answers come only for offered rows, and every open lies in the horizon after the offer
    assert set(r.outcomes["offer_id"]) <= set(members["offer_id"].dropna())
    assert set(r.outcomes["outcome"]) <= {"accepted", "declined", "not_interested", "call_back"}
    days = (r.opens["ts"] - START).dt.total_seconds() / 86400
    assert days.between(0, 30).all()


def test_same_tag_same_answers_other_tag_other_draws() -> None:
    members, life, holdings = _frames(100)
    a = simulate_responses(members, life, holdings, ResponseOptions(), tag="a")
    b = simulate_responses(members, life, holdings, ResponseOptions(), tag="a")
    c = simulate_responses(members, life, holdings, ResponseOptions(), tag="c")
    assert a.outcomes.equals(b.outcomes) and a.opens.equals(b.opens)
    assert not a.outcomes["outcome"].equals(c.outcomes["outcome"])
