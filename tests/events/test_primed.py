"""Vectors computed ahead of the day (LiveFeatures.prime, and prime_later for a new day) change nothing: seeded
random event batches, with late events of the day before, leave the same online vectors with priming as with the
full recomputation (issue 16)."""

from __future__ import annotations

import random
import shutil
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.features.online import SqliteOnlineStore
from cdna.serve.events import EventProcessor
from tests.events.test_no_skew import _same

pytestmark = pytest.mark.slow

PAGES = ["전세대출", "주택담보대출", "예적금상품", "카드혜택", "펀드/ISA", "이체"]
INTENTS = ["jeonse_loan_inquiry", "mortgage_inquiry", "card_issue", "deposit_open", "complaint"]
MEMOS = ["급여", "카드결제", "월세", "관리비", "학원비", None]


def _events(rng: random.Random, customers: list[str], day: date, n: int) -> list[dict[str, Any]]:
    """`n` events of `customers` on `day` and, one in five, on the day before (late arrivals)."""
    out = []
    for _ in range(n):
        d = day - timedelta(days=1) if rng.random() < 0.2 else day
        base = {
            "event_id": f"P-{rng.random():.12f}",
            "customer_id": rng.choice(customers),
            "ts": f"{d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+09:00",
        }
        kind = rng.choice(["page_view", "transaction", "call", "product_open"])
        if kind == "page_view":
            out.append({**base, "type": kind, "channel": "app", "page_category": rng.choice(PAGES)})
        elif kind == "transaction":
            amount = float(rng.choice([1, 50, 3_000]) * 10_000)
            memo = rng.choice(MEMOS)
            out.append(
                {**base, "type": kind, "amount": amount, "direction": rng.choice(["in", "out"]), "memo": memo}
            )
        elif kind == "call":
            intents = [{"label": rng.choice(INTENTS), "score": round(rng.uniform(0.5, 1), 2)}]
            out.append({**base, "type": kind, "intents": intents, "duration_s": 120.0})
        else:
            out.append(
                {**base, "type": kind, "product_id": rng.choice(["term_deposit", "credit_card", "isa"])}
            )
    return out


def _copy(lake: Lake, to: Path) -> Lake:
    shutil.copytree(lake.root, to, ignore=shutil.ignore_patterns("audio", "reports"))
    return Lake.at(to)


class _Held:
    """A connection whose query results are handed back only once `release` is set (`queried` says when read)."""

    def __init__(self, con: Any, queried: threading.Event, release: threading.Event) -> None:
        self.con, self.queried, self.release = con, queried, release

    def sql(self, query: str) -> Any:
        return _HeldResult(self.con.sql(query), self.queried, self.release)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


class _HeldResult:
    def __init__(self, rel: Any, queried: threading.Event, release: threading.Event) -> None:
        self.rel, self.queried, self.release = rel, queried, release

    def to_arrow_table(self) -> Any:
        table = self.rel.to_arrow_table()
        self.queried.set()
        assert self.release.wait(60)
        return table


def _run(
    plain: EventProcessor, primed: EventProcessor, events: list[dict[str, Any]], rng: random.Random
) -> list[tuple[Any, ...]]:
    """Send `events` to both processors in the same small batches; the differences after every batch."""
    i, diffs = 0, []
    while i < len(events):
        step = rng.randint(1, 3)  # small batches: a table of a late event is often not in the next one
        a, b = plain.process(events[i : i + step]), primed.process(events[i : i + step])
        assert a.applied == b.applied and not a.problems and not b.problems
        i += step
        # after every batch: a later event may recompute a view a wrong merge left stale
        for cid in a.customers:
            va, vb = plain.features.get(cid), primed.features.get(cid)
            assert str(va["as_of"]) == str(vb["as_of"])
            diffs += [(i, cid, k, va[k], vb.get(k)) for k in va if not _same(va[k], vb.get(k))]
            ra, rb = plain.recs.get(cid), primed.recs.get(cid)
            assert [x["product_id"] for x in ra["recommendations"]] == [
                x["product_id"] for x in rb["recommendations"]
            ]
    return diffs


@pytest.mark.parametrize("seed", [1, 2])
def test_primed_vectors_equal_the_full_recomputation(lake: Lake, tmp_path: Path, seed: int) -> None:
    plain = EventProcessor(lake, load_config())
    primed = EventProcessor(_copy(lake, tmp_path / "primed"), load_config())
    store = SqliteOnlineStore(lake.online_features_db)
    day = date.fromisoformat(str(store.info()["as_of"])) + timedelta(days=1)
    store.close()
    assert primed.live.prime(day) == len(primed.live.customers)
    full = []
    primed.live.vectors = lambda *a, _f=primed.live.vectors: full.append(a) or _f(*a)  # type: ignore[method-assign]
    rng = random.Random(seed)
    customers = rng.sample(sorted(plain.live.customers), 12)

    # the primed day, with late events of the day before
    assert not _run(plain, primed, _events(rng, customers, day, 120), rng)
    assert not full, "a primed customer's first event of the day recomputed the whole vector"
    assert {str(plain.features.get(c)["as_of"]) for c in customers} == {str(day)}

    # the next day arrives before a nightly run: it is primed beside the batches, which go on meanwhile.
    # Rows they add after the priming query read its rows must not be missed: the swap is held back until
    # late events of the primed day's eve have been applied for customers who had no event yet
    nxt = day + timedelta(days=1)
    queried, release = threading.Event(), threading.Event()
    cursor = primed.live._cursor
    primed.live._cursor = lambda: _Held(cursor(), queried, release)  # type: ignore[method-assign]
    first = [e for e in _events(rng, customers, nxt, 20) if e["ts"].startswith(str(nxt))][:1]
    assert not _run(plain, primed, first, rng)
    assert queried.wait(60)
    others = rng.sample(sorted(set(plain.live.customers) - set(customers)), 10)
    eve = [e for e in _events(rng, others, nxt, 120) if not e["ts"].startswith(str(nxt))][:20]
    assert not _run(plain, primed, eve, rng)
    release.set()
    primed.live.wait_primed()
    assert primed.live.primed_day == nxt
    full.clear()
    assert not _run(plain, primed, _events(rng, customers + others, nxt, 80), rng)
    # (late events of the eve, for customers without an event yet, still take the full query)
    assert not [a for a in full if a[1] == nxt], "a first event of the new day was not primed"
    plain.close()
    primed.close()


def test_a_nightly_reload_primes_the_next_day_beside_the_batches(lake: Lake) -> None:
    from cdna.cli.app import main

    proc = EventProcessor(lake, load_config())
    store = SqliteOnlineStore(lake.online_features_db)
    stored = date.fromisoformat(str(store.info()["as_of"]))
    store.close()
    rng = random.Random(5)
    customers = rng.sample(sorted(proc.live.customers), 6)
    nxt = stored + timedelta(days=1)
    events = [e for e in _events(rng, customers, nxt, 40) if e["ts"].startswith(str(nxt))]
    assert proc.process(events[:5]).applied == 5
    # the nightly run replaces the online store: the next batch reloads the rows and primes the next day
    assert main(["features", "materialize", "--lake", str(lake.root), "--as-of", str(stored)]) == 0
    old = proc.live
    assert proc.process(events[5:10]).applied == 5
    assert proc.live is not old
    proc.live.wait_primed()
    assert proc.live.primed_day == nxt
    rest = proc.process(events[10:])
    assert rest.applied == len(events) - 10
    full = {r["customer_id"]: r for r in proc.live.vectors(rest.customers, nxt).to_pylist()}
    for cid in rest.customers:
        vec = proc.features.get(cid)
        diffs = [
            (k, v, vec.get(k))
            for k, v in full[cid].items()
            if k != "customer_id" and not _same(v, vec.get(k))
        ]
        assert not diffs, (cid, diffs[:5])
    proc.close()
