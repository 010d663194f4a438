"""What the synthetic customers do: life events, product opens/closes, transactions and web visits.

Life events drive memos, calls and web visits first and product adoption later (lag of weeks), so that
what customers say and write genuinely predicts what they open; baseline hazards add the rest.
All functions are vectorised over one chunk of customers and return plain numpy columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdna.core.config import ProductCatalog
from cdna.ingest.world.population import HOUSEHOLDS, INCOME_MID, Population
from cdna.ingest.world.vocab import (
    DAILY_MEMOS,
    EVENTS,
    INSURANCE,
    MAINTENANCE,
    PENSION_IN,
    RENT,
    SALARY,
    SAVINGS_DEBIT,
    TELECOM,
    WEB_PAGES,
    MemoItem,
)

__all__ = [
    "DAY_US",
    "Events",
    "Opens",
    "draw_life_events",
    "draw_holdings",
    "draw_transactions",
    "draw_web_events",
    "PRODUCT_PAGES",
]

DAY_US = 86_400_000_000
KST_US = 9 * 3_600_000_000

# Transaction hour-of-day profile (Korea time): quiet nights, lunch and evening peaks.
_HOURS = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 4, 5, 5, 6, 9, 8, 6, 5, 5, 6, 8, 9, 8, 6, 4, 2], float)
_HOURS /= _HOURS.sum()

PRODUCT_PAGES: dict[str, str] = {
    "jeonse_loan": "전세대출",
    "mortgage": "주택담보대출",
    "credit_loan": "신용대출",
    "overdraft": "신용대출",
    "auto_loan": "자동차대출",
    "credit_card": "카드혜택",
    "check_card": "카드혜택",
    "term_deposit": "예적금상품",
    "installment_savings": "예적금상품",
    "youth_savings": "예적금상품",
    "kids_savings": "예적금상품",
    "fund": "펀드/ISA",
    "isa": "펀드/ISA",
    "pension_savings": "연금상품",
    "irp": "연금상품",
    "fx_deposit": "해외송금",
}

# Share holding each product when the history starts, and monthly open hazard afterwards (baseline).
_INITIAL = {
    "check_card": 0.62,
    "credit_card": 0.42,
    "installment_savings": 0.16,
    "term_deposit": 0.14,
    "fund": 0.07,
    "isa": 0.04,
    "pension_savings": 0.09,
    "irp": 0.05,
    "mortgage": 0.10,
    "jeonse_loan": 0.05,
    "credit_loan": 0.09,
    "overdraft": 0.07,
    "auto_loan": 0.03,
    "fx_deposit": 0.03,
    "youth_savings": 0.10,
    "kids_savings": 0.02,
}
_MONTHLY = {
    "check_card": 0.0035,
    "credit_card": 0.004,
    "installment_savings": 0.005,
    "term_deposit": 0.005,
    "fund": 0.0025,
    "isa": 0.002,
    "pension_savings": 0.0018,
    "irp": 0.0012,
    "mortgage": 0.0008,
    "jeonse_loan": 0.0008,
    "credit_loan": 0.0025,
    "overdraft": 0.0018,
    "auto_loan": 0.0006,
    "fx_deposit": 0.0012,
    "youth_savings": 0.006,
    "kids_savings": 0.0004,
}
# Monthly close hazard of a held product.
_CLOSE = {
    "term_deposit": 0.05,
    "installment_savings": 0.03,
    "credit_loan": 0.015,
    "overdraft": 0.01,
    "auto_loan": 0.012,
    "jeonse_loan": 0.015,
    "mortgage": 0.004,
    "fund": 0.012,
}


@dataclass
class Events:
    """Hidden life events of a chunk: customer index, event index into EVENTS, time (µs UTC)."""

    cust: np.ndarray
    kind: np.ndarray
    ts: np.ndarray


@dataclass
class Opens:
    """Product open/close events of a chunk plus the baseline opens that calls and visits precede."""

    cust: np.ndarray
    product: np.ndarray  # index into catalogue ids
    event: np.ndarray  # "open" | "close"
    ts: np.ndarray
    channel: np.ndarray
    baseline_open: np.ndarray  # bool: an open not caused by a life event (may get a preceding call)


def _age_at(pop: Population, ts_us: np.ndarray, cust: np.ndarray) -> np.ndarray:
    days = ts_us // DAY_US
    return ((days - pop.birth_days[cust]) / 365.25).astype(np.int64)


def draw_life_events(
    rng: np.random.Generator, pop: Population, noise_share: float, start_us: int, end_us: int
) -> Events:
    """Zero, one or two life events per customer; `noise_share` of customers get none."""
    n = len(pop)
    has = rng.random(n) >= noise_share
    second = has & (rng.random(n) < 0.25)
    w = np.zeros((n, len(EVENTS)))
    for j, ev in enumerate(EVENTS):
        ok = (pop.age >= ev.min_age) & (pop.age <= ev.max_age)
        if ev.households:
            ok &= np.isin(HOUSEHOLDS[pop.household], ev.households)
        w[:, j] = ok * ev.weight
    custs, kinds = [], []
    for mask in (has, second):
        idx = np.flatnonzero(mask & (w.sum(axis=1) > 0))
        if not len(idx):
            continue
        p = w[idx] / w[idx].sum(axis=1, keepdims=True)
        k = (rng.random(len(idx))[:, None] > p.cumsum(axis=1)).sum(axis=1)
        custs.append(idx)
        kinds.append(np.minimum(k, len(EVENTS) - 1))
    cust = np.concatenate(custs) if custs else np.zeros(0, np.int64)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, np.int64)
    # Keep one event of each kind per customer.
    key = cust * 16 + kind
    _, first = np.unique(key, return_index=True)
    cust, kind = cust[np.sort(first)], kind[np.sort(first)]
    join_us = pop.join_days[cust] * DAY_US
    lo = np.maximum(start_us + 45 * DAY_US, join_us + 20 * DAY_US)
    ts = lo + (rng.random(len(cust)) * np.maximum(end_us - 5 * DAY_US - lo, DAY_US)).astype(np.int64)
    return Events(cust, kind, ts)


def draw_holdings(
    rng: np.random.Generator,
    pop: Population,
    catalog: ProductCatalog,
    events: Events,
    start_us: int,
    end_us: int,
) -> Opens:
    """Holdings at the start of history, life-event and baseline opens during it, and closes."""
    pids = catalog.ids
    n, months = len(pop), (end_us - start_us) / (30.44 * DAY_US)
    age_mid = pop.age
    rows_c, rows_p, rows_t, rows_base = [], [], [], []
    income = pop.income
    inc_factor = np.where(income == 0, 0.4, 0.7 + 0.15 * income)
    for j, pid in enumerate(pids):
        product = catalog.products[j]
        elig = (age_mid >= product.min_age) & (age_mid <= product.max_age)
        if product.requires_income:
            elig &= income > 0
        p0 = _INITIAL.get(pid, 0.05) * inc_factor
        if product.family in ("retirement", "investment"):
            p0 = p0 * np.clip((age_mid - 20) / 25, 0.2, 1.6)
        if pid == "mortgage":
            p0 = p0 * np.clip((age_mid - 30) / 10, 0, 2.0)
        held0 = elig & (rng.random(n) < p0) & (pop.join_days * DAY_US < start_us)
        idx = np.flatnonzero(held0)
        join_us = pop.join_days[idx] * DAY_US
        t = join_us + (rng.random(len(idx)) * (start_us - join_us)).astype(np.int64)
        rows_c.append(idx)
        rows_p.append(np.full(len(idx), j))
        rows_t.append(t)
        rows_base.append(np.zeros(len(idx), bool))
        # Baseline opens during the history (at most one candidate per customer and product).
        hz = _MONTHLY.get(pid, 0.001) * inc_factor
        if pid == "youth_savings":
            hz = hz * (income > 0)
        p_open = 1 - np.exp(-hz * months)
        cand = np.flatnonzero(elig & (rng.random(n) < p_open))
        lo = np.maximum(start_us, pop.join_days[cand] * DAY_US)
        t = lo + (rng.random(len(cand)) * (end_us - lo)).astype(np.int64)
        rows_c.append(cand)
        rows_p.append(np.full(len(cand), j))
        rows_t.append(t)
        rows_base.append(np.ones(len(cand), bool))
    # Life-event adoptions: a lag of weeks after the event (calls and memos come first).
    pid_index = {p: i for i, p in enumerate(pids)}
    for k, ev in enumerate(EVENTS):
        sel = events.kind == k
        ec, et = events.cust[sel], events.ts[sel]
        for pid, prob in ev.products:
            if pid not in pid_index:
                continue
            product = catalog.get(pid)
            boost = np.where(pop.income[ec] >= 3, 1.15, 0.9)
            take = rng.random(len(ec)) < prob * boost
            c, t0 = ec[take], et[take]
            lag = (7 + rng.gamma(2.0, 11.0, size=len(c))) * DAY_US
            t = t0 + lag.astype(np.int64)
            age_t = _age_at(pop, t, c)
            ok = (age_t >= product.min_age) & (age_t <= product.max_age) & (t <= end_us)
            if product.requires_income:
                ok &= pop.income[c] > 0
            rows_c.append(c[ok])
            rows_p.append(np.full(ok.sum(), pid_index[pid]))
            rows_t.append(t[ok])
            rows_base.append(np.zeros(ok.sum(), bool))
    cust = np.concatenate(rows_c)
    prod = np.concatenate(rows_p)
    ts = np.concatenate(rows_t)
    base = np.concatenate(rows_base)
    # First open per (customer, product) wins; a later candidate for a held product is dropped.
    order = np.lexsort((ts, prod, cust))
    cust, prod, ts, base = cust[order], prod[order], ts[order], base[order]
    first = np.ones(len(cust), bool)
    first[1:] = (cust[1:] != cust[:-1]) | (prod[1:] != prod[:-1])
    cust, prod, ts, base = cust[first], prod[first], ts[first], base[first]
    # Mutually exclusive products (전세자금대출 vs 주택담보대출): the later one is dropped.
    keep = np.ones(len(cust), bool)
    for j, p in enumerate(catalog.products):
        for other in p.exclusive_with:
            o = pid_index[other]
            a = np.flatnonzero(prod == j)
            b = np.flatnonzero(prod == o)
            other_ts = dict(zip(cust[b].tolist(), ts[b].tolist(), strict=True))
            for i in a:
                ot = other_ts.get(int(cust[i]))
                if ot is not None and ot <= ts[i]:
                    keep[i] = False
    cust, prod, ts, base = cust[keep], prod[keep], ts[keep], base[keep]
    # Closes.
    close_rate = np.array([_CLOSE.get(p, 0.003) for p in pids])[prod]
    t_close = ts + (rng.exponential(1.0, len(ts)) / close_rate * 30.44 * DAY_US).astype(np.int64)
    closed = (t_close <= end_us) & (t_close > start_us)
    channels = np.array(["branch", "app", "web"])
    ch_open = channels[(rng.random(len(ts)) * np.where(pop.age[cust] > 60, 1.4, 3)).astype(int).clip(0, 2)]
    ch_close = channels[(rng.random(int(closed.sum())) * 3).astype(int)]
    return Opens(
        cust=np.concatenate([cust, cust[closed]]),
        product=np.concatenate([prod, prod[closed]]),
        event=np.concatenate([np.full(len(cust), "open"), np.full(int(closed.sum()), "close")]),
        ts=np.concatenate([ts, t_close[closed]]),
        channel=np.concatenate([ch_open, ch_close]),
        baseline_open=np.concatenate([base & (ts > start_us), np.zeros(int(closed.sum()), bool)]),
    )


def _time_of_day(rng: np.random.Generator, day_start_us: np.ndarray) -> np.ndarray:
    """Snap times to a Korea-time calendar day and draw an hour from the daily profile."""
    kst_day = (day_start_us + KST_US) // DAY_US
    hour = rng.choice(24, size=len(day_start_us), p=_HOURS)
    minute_us = (rng.random(len(day_start_us)) * 3_600_000_000).astype(np.int64)
    return kst_day * DAY_US - KST_US + hour * 3_600_000_000 + minute_us


def _amounts(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Log-uniform amounts rounded like real prices (to 100 won; 10 won for small ones)."""
    a = np.exp(np.log(low) + rng.random(len(low)) * (np.log(high) - np.log(low)))
    step = np.where(a < 10000, 10, 100)
    return np.round(a / step) * step


@dataclass
class TxnColumns:
    """Transaction columns of a chunk before they become a table (memo/merchant as vocab indices)."""

    cust: np.ndarray
    ts: np.ndarray
    amount: np.ndarray
    direction: np.ndarray
    memo: np.ndarray
    merchant: np.ndarray
    channel: np.ndarray


class MemoVocab:
    """Interns memo/merchant/channel strings so 50M rows stay as integer arrays until written."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def id(self, value: str) -> int:
        """The index of `value`, adding it on first use."""
        i = self._index.get(value)
        if i is None:
            i = self._index[value] = len(self.values)
            self.values.append(value)
        return i

    def ids(self, values: list[str]) -> np.ndarray:
        """Indices of many values."""
        return np.array([self.id(v) for v in values], dtype=np.int32)


def _items_block(
    rng: np.random.Generator,
    vocab: MemoVocab,
    items: list[MemoItem],
    which: np.ndarray,
    cust: np.ndarray,
    ts: np.ndarray,
) -> TxnColumns:
    low = np.array([it.low for it in items])[which]
    high = np.array([it.high for it in items])[which]
    return TxnColumns(
        cust=cust,
        ts=ts,
        amount=_amounts(rng, low, high),
        direction=np.array([it.direction == "in" for it in items])[which],
        memo=vocab.ids([it.memo for it in items])[which],
        merchant=vocab.ids([it.merchant for it in items])[which],
        channel=vocab.ids([it.channel for it in items])[which],
    )


def _monthly(
    rng: np.random.Generator,
    cust: np.ndarray,
    start_us: int,
    end_us: int,
    from_us: np.ndarray,
    to_us: np.ndarray,
    day_of_month: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One event per month per customer on (about) a fixed day of month, within [from, to]."""
    months = int((end_us - start_us) / (30.44 * DAY_US)) + 2
    c = np.repeat(cust, months)
    m = np.tile(np.arange(months), len(cust))
    base = start_us - (start_us % DAY_US) + (m * 30.44 * DAY_US).astype(np.int64)
    jitter = rng.integers(-1, 2, size=len(c)) * DAY_US
    t = base + np.repeat(day_of_month, months) * DAY_US + jitter + 2 * 3_600_000_000
    lo, hi = np.repeat(from_us, months), np.repeat(to_us, months)
    ok = (t >= np.maximum(lo, start_us)) & (t <= np.minimum(hi, end_us))
    return c[ok], t[ok]


def draw_transactions(
    rng: np.random.Generator,
    pop: Population,
    events: Events,
    opens: Opens,
    catalog: ProductCatalog,
    vocab: MemoVocab,
    names: list[str],
    txn_per_month: float,
    start_us: int,
    end_us: int,
) -> TxnColumns:
    """Everyday spending, monthly regulars (급여, 월세, 관리비 …) and life-event memos of a chunk."""
    n = len(pop)
    months = (end_us - start_us) / (30.44 * DAY_US)
    join_us = np.maximum(pop.join_days * DAY_US, start_us)
    blocks: list[TxnColumns] = []
    # Everyday spending: heavy-tailed activity, some near-dormant accounts.
    rate = txn_per_month * rng.lognormal(-0.18, 0.6, n) * np.where(rng.random(n) < 0.07, 0.05, 1.0)
    span = (end_us - join_us) / (end_us - start_us)
    counts = rng.poisson(rate * months * span)
    cust = np.repeat(np.arange(n), counts)
    t = join_us[cust] + (rng.random(len(cust)) * (end_us - join_us[cust])).astype(np.int64)
    t = np.clip(_time_of_day(rng, t), start_us, end_us)
    items = [it for it, _ in DAILY_MEMOS]
    w = np.array([p for _, p in DAILY_MEMOS])
    which = rng.choice(len(items), size=len(cust), p=w / w.sum())
    blocks.append(_items_block(rng, vocab, items, which, cust, t))
    # Person-to-person transfers with the other party's name in the memo (PII for the NLP stage).
    k = rng.poisson(0.35 * months, n) * (rate > 0.5)
    cust = np.repeat(np.arange(n), k)
    t = np.clip(
        _time_of_day(
            rng, join_us[cust] + (rng.random(len(cust)) * (end_us - join_us[cust])).astype(np.int64)
        ),
        start_us,
        end_us,
    )
    suffix = np.array(["", " 용돈", " 회비", " 더치페이", " 생일선물"])
    memo = [
        names[a] + suffix[b]
        for a, b in zip(
            rng.integers(0, len(names), len(cust)),
            rng.choice(len(suffix), len(cust), p=[0.5, 0.15, 0.1, 0.15, 0.1]),
            strict=True,
        )
    ]
    blocks.append(
        TxnColumns(
            cust,
            t,
            _amounts(rng, np.full(len(cust), 10000.0), np.full(len(cust), 500000.0)),
            rng.random(len(cust)) < 0.45,
            vocab.ids(memo),
            np.full(len(cust), vocab.id("")),
            np.full(len(cust), vocab.id("transfer")),
        )
    )

    # Monthly regulars.
    def regular(who: np.ndarray, day_of_month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A monthly payment of each customer in `who` from joining to the end of the window."""
        return _monthly(rng, who, start_us, end_us, join_us[who], np.full(len(who), end_us), day_of_month)

    earners = np.flatnonzero(pop.income > 0)
    c, t = regular(earners, np.where(rng.random(len(earners)) < 0.7, 24, 9))
    salary = np.round(INCOME_MID[pop.income[c]] / 12 * rng.normal(0.82, 0.06, len(c)), -3)
    blocks.append(
        TxnColumns(
            c,
            t,
            salary,
            np.ones(len(c), bool),
            np.full(len(c), vocab.id(SALARY.memo)),
            np.full(len(c), vocab.id("")),
            np.full(len(c), vocab.id(SALARY.channel)),
        )
    )
    renter_p = np.where(np.isin(pop.household, [0, 4]) & (pop.age < 40), 0.35, 0.06)
    for item, share, dom in ((RENT, renter_p, 3), (MAINTENANCE, np.full(n, 0.5), 25)):
        who = np.flatnonzero(rng.random(n) < share)
        c, t = regular(who, np.full(len(who), dom) + rng.integers(0, 5, len(who)))
        level = rng.random(n)  # each customer pays about the same every month
        amt = np.round((item.low + level[c] * (item.high - item.low)) * rng.normal(1, 0.03, len(c)), -2)
        blocks.append(
            TxnColumns(
                c,
                t,
                amt,
                np.zeros(len(c), bool),
                np.full(len(c), vocab.id(item.memo)),
                np.full(len(c), vocab.id(item.merchant)),
                np.full(len(c), vocab.id(item.channel)),
            )
        )
    for group, share_p in ((INSURANCE, 0.45), (TELECOM, 0.85)):
        who = np.flatnonzero(rng.random(n) < share_p)
        pick = rng.integers(0, len(group), n)
        c, t = regular(who, rng.integers(10, 20, len(who)))
        items = list(group)
        blocks.append(_items_block(rng, vocab, items, pick[c], c, t))
    retirees = np.flatnonzero(pop.age >= 63)
    c, t = regular(retirees, np.full(len(retirees), 25))
    blocks.append(_items_block(rng, vocab, [PENSION_IN], np.zeros(len(c), int), c, t))
    # 적금자동이체 while a savings product is held.
    savings = [
        catalog.ids.index(p)
        for p in ("installment_savings", "youth_savings", "kids_savings")
        if p in catalog.ids
    ]
    op = np.isin(opens.product, savings) & (opens.event == "open")
    oc, ot, opid = opens.cust[op], opens.ts[op], opens.product[op]
    cl = np.isin(opens.product, savings) & (opens.event == "close")
    close_at = {
        (int(a), int(b)): int(t)
        for a, b, t in zip(opens.cust[cl], opens.product[cl], opens.ts[cl], strict=True)
    }
    until = np.array(
        [close_at.get((int(a), int(b)), end_us) for a, b in zip(oc, opid, strict=True)], dtype=np.int64
    )
    dom = ((ot + KST_US) // DAY_US) % 28
    c, t = _monthly(rng, np.arange(len(oc)), start_us, end_us, ot + DAY_US, until, dom)
    blocks.append(
        TxnColumns(
            oc[c],
            t,
            np.round(np.full(len(c), 1.0) * (rng.integers(1, 11, len(oc)) * 100000)[c], -4),
            np.zeros(len(c), bool),
            np.full(len(c), vocab.id(SAVINGS_DEBIT.memo)),
            np.full(len(c), vocab.id("")),
            np.full(len(c), vocab.id(SAVINGS_DEBIT.channel)),
        )
    )
    # Life-event memos: from two months before the event to six weeks after.
    for ek, ev in enumerate(EVENTS):
        sel = events.kind == ek
        ec, et = events.cust[sel], events.ts[sel]
        items = [it for it, _ in ev.memos]
        for i, (_item, mean) in enumerate(ev.memos):
            cnt = rng.poisson(mean, len(ec))
            c = np.repeat(ec, cnt)
            t = np.repeat(et, cnt) + (rng.uniform(-60, 45, len(c)) * DAY_US).astype(np.int64)
            ok = (t >= join_us[c]) & (t <= end_us)
            c, t = c[ok], _time_of_day(rng, t[ok])
            t = np.clip(t, start_us, end_us)
            blocks.append(_items_block(rng, vocab, items, np.full(len(c), i), c, t))
    out = TxnColumns(
        *(
            np.concatenate([getattr(b, f) for b in blocks])
            for f in ("cust", "ts", "amount", "direction", "memo", "merchant", "channel")
        )
    )
    order = np.lexsort((out.ts, out.cust))
    return TxnColumns(
        *(
            getattr(out, f)[order]
            for f in ("cust", "ts", "amount", "direction", "memo", "merchant", "channel")
        )
    )


def draw_web_events(
    rng: np.random.Generator,
    pop: Population,
    events: Events,
    opens: Opens,
    catalog: ProductCatalog,
    start_us: int,
    end_us: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Web/app page views: background browsing plus visits about life events and upcoming opens."""
    n = len(pop)
    months = (end_us - start_us) / (30.44 * DAY_US)
    pages = [p for p, _ in WEB_PAGES]
    page_idx = {p: i for i, p in enumerate(pages)}
    w = np.array([s for _, s in WEB_PAGES])
    digital = rng.random(n) < np.clip(1.1 - pop.age / 80, 0.15, 0.9)
    join_us = np.maximum(pop.join_days * DAY_US, start_us)
    rate = np.where(digital, rng.lognormal(0.3, 0.7, n), 0.0)
    cnt = rng.poisson(rate * months * (end_us - join_us) / (end_us - start_us))
    cust = [np.repeat(np.arange(n), cnt)]
    ts = [join_us[cust[0]] + (rng.random(len(cust[0])) * (end_us - join_us[cust[0]])).astype(np.int64)]
    page = [rng.choice(len(pages), size=len(cust[0]), p=w / w.sum())]
    for k, ev in enumerate(EVENTS):
        sel = (events.kind == k) & (rng.random(len(events.kind)) < ev.web_prob)
        ec, et = events.cust[sel], events.ts[sel]
        m = rng.poisson(2.5, len(ec)) + 1
        c = np.repeat(ec, m)
        cust.append(c)
        ts.append(np.repeat(et, m) + (rng.uniform(-40, 5, len(c)) * DAY_US).astype(np.int64))
        page.append(np.array([page_idx[p] for p in ev.web_pages])[rng.integers(0, len(ev.web_pages), len(c))])
    bo = opens.baseline_open & (rng.random(len(opens.cust)) < 0.2)
    c = np.repeat(opens.cust[bo], 2)
    cust.append(c)
    ts.append(np.repeat(opens.ts[bo], 2) - (rng.uniform(1, 20, len(c)) * DAY_US).astype(np.int64))
    page.append(
        np.array(
            [page_idx[PRODUCT_PAGES.get(catalog.ids[p], "이벤트")] for p in opens.product[bo]], dtype=np.int64
        ).repeat(2)
    )
    c_all, t_all, p_all = np.concatenate(cust), np.concatenate(ts), np.concatenate(page)
    ok = (t_all >= join_us[c_all]) & (t_all <= end_us) & (t_all >= start_us)
    c_all, t_all, p_all = c_all[ok], _time_of_day(rng, t_all[ok]), p_all[ok]
    t_all = np.clip(t_all, start_us, end_us)
    order = np.lexsort((t_all, c_all))
    return c_all[order], t_all[order], np.array(pages)[p_all[order]]
