"""Why a product was recommended: LightGBM `pred_contrib` → short Korean sentences with evidence ids.

For each recommended row the features that pushed its score up most (positive SHAP contribution) and hold
real evidence (a non-zero, non-null value) become sentences a branch employee reads, such as
"최근 30일 주택담보대출 문의 통화 2회". Signal-based reasons point back to the call or memo ids they came
from; web reasons to the page-view event ids (issue #6, item 6).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cdna.contracts.labels import value_label
from cdna.core.config import IntentTaxonomy, MemoTaxonomy, ProductCatalog

__all__ = [
    "Evidence",
    "Explainer",
    "ReasonContext",
    "evidence_atoms",
    "evidence_window",
    "explain",
    "sentence",
]


@dataclass(frozen=True)
class ReasonContext:
    """Names needed to word reasons.

    Attributes:
        catalog / intents / memo: the taxonomies (Korean names of products, intents, memo categories).
        web_pages: web column id -> Korean page category (features.web_page_categories).
        web_page_products: web column id -> products it is evidence for.
        memo_category_products: memo category id -> products its spending is evidence for.
        descriptions: feature column -> description from the feature view definitions (fallback wording).
        never_cite_intents: intents whose calls are never a reason (complaints, outages …; configs/policy.yaml).
        never_cite_features: feature columns that are never a reason (they may still inform the score).
        intent_must_support_product: a call intent is cited only for the products it is evidence for.
    """

    catalog: ProductCatalog
    intents: IntentTaxonomy
    memo: MemoTaxonomy
    web_pages: dict[str, str] = field(default_factory=dict)
    web_page_products: dict[str, list[str]] = field(default_factory=dict)
    memo_category_products: dict[str, list[str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    never_cite_intents: frozenset[str] = frozenset()
    never_cite_features: frozenset[str] = frozenset()
    intent_must_support_product: bool = True

    @cached_property
    def intent_names(self) -> dict[str, str]:
        """Intent id -> Korean name."""
        return {i.id: i.name for i in self.intents.intents}

    @cached_property
    def memo_names(self) -> dict[str, str]:
        """Memo category id -> Korean name."""
        return {c.id: c.name for c in self.memo.categories}

    @cached_property
    def _product_names(self) -> dict[str, str]:
        return {p.id: p.name for p in self.catalog.products}

    def intent_of(self, column: str) -> str | None:
        """The intent id of an `intent_<id>_<window>` feature column (None when it names none)."""
        known = self._intent_of
        if column not in known:
            rest = column[len("intent_") :]
            known[column] = next(
                (i for i in sorted(self.intent_names, key=len, reverse=True) if rest.startswith(i + "_")),
                None,
            )
        return known[column]

    @cached_property
    def _intent_of(self) -> dict[str, str | None]:
        return {}

    def product_name(self, pid: str) -> str:
        """Korean product name (the id when unknown)."""
        return self._product_names.get(pid, pid)

    @cached_property
    def _intent_products(self) -> dict[str, frozenset[str]]:
        return {i.id: frozenset(i.products) for i in self.intents.intents}

    def citable(self, name: str) -> bool:
        """Whether a feature column may ever be worded as a reason (issue #16: reason hygiene)."""
        if name in self.never_cite_features:
            return False
        if name.startswith("intent_"):
            return self.intent_of(name) not in self.never_cite_intents
        return True

    def supports(self, intent_id: str, product_id: str) -> bool:
        """Whether a call with this intent is evidence for buying the product."""
        if intent_id in self.never_cite_intents:
            return False
        return not self.intent_must_support_product or product_id in self._intent_products.get(intent_id, ())

    def intents_for(self, pid: str) -> list[str]:
        """Intent ids that are evidence for the product."""
        return list(self._intents_for.get(pid, []))

    @cached_property
    def _intents_for(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i in self.intents.intents:
            for pid in dict.fromkeys(i.products):
                out.setdefault(pid, []).append(i.id)
        return out

    def pages_for(self, pid: str) -> list[str]:
        """Korean page categories that are evidence for the product."""
        known = self._pages_for
        if pid not in known:
            known[pid] = [
                self.web_pages[w]
                for w, ps in self.web_page_products.items()
                if pid in ps and w in self.web_pages
            ]
        return list(known[pid])

    @cached_property
    def _pages_for(self) -> dict[str, list[str]]:
        return {}


@dataclass
class Evidence:
    """Source rows reasons cite: masked signals and web page views, up to the as-of cutoff.

    Attributes:
        signals: customer_id, ts, source, source_id, kind, label (LAKE/signals).
        web: customer_id, ts, event_id, page_category (raw web_events).
        memos: customer_id, ts, txn_id, category (outgoing transactions whose memo/merchant names a category).
        cutoff: first instant after the as-of day (UTC); rows at or after it are never cited.
    """

    signals: pd.DataFrame
    web: pd.DataFrame
    cutoff: pd.Timestamp
    memos: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["customer_id", "ts", "txn_id", "category"])
    )
    _index: dict[str, Any] = field(default_factory=dict, repr=False)
    _found: dict[tuple[str, tuple[str, ...]], list[tuple[float, str]]] = field(
        default_factory=dict, repr=False
    )

    def _lookup(self, table: str, key: tuple[str, ...]) -> list[tuple[float, str]]:
        """(age in days, id) of the rows of `table` whose key columns equal `key`, in row order.

        Rows are grouped by customer once (the first key column) and filtered by the rest on lookup: a
        dict of every row's key built in Python cost 0.1 s for an event batch's 30k rows (issue 16).
        """
        hit = self._found.get((table, key))
        if hit is not None:
            return hit
        if table not in self._index:
            self._build_index(table)
        got = self._index[table]
        pos = None if got is None else got[0].get(key[0])
        if pos is None:
            hit = []
        else:
            _, keys, age, ids = got
            keep = age[pos] > 0
            for col, want in zip(keys[1:], key[1:], strict=True):
                keep &= col[pos] == want
            hit = [(float(age[p]), str(ids[p])) for p in pos[keep]]
        self._found[(table, key)] = hit
        return hit

    def index(self) -> Evidence:
        """Group every table's rows by customer now (the event path does it on its reader thread)."""
        for table in ("signals", "web", "memos"):
            if table not in self._index:
                self._build_index(table)
        return self

    def _build_index(self, table: str) -> None:
        """Rows of `table` grouped by customer, with their keys, ages in days and ids (None when empty)."""
        frame = {"signals": self.signals, "web": self.web, "memos": self.memos}[table]
        if len(frame):
            cut = self.cutoff.value / 1e9
            ts = pd.to_datetime(frame["ts"], utc=True).astype("int64").to_numpy() / 1e6
            cols = {
                "signals": ["customer_id", "kind", "label"],
                "web": ["customer_id", "page_category"],
                "memos": ["customer_id", "category"],
            }[table]
            id_col = {"signals": "source_id", "web": "event_id", "memos": "txn_id"}[table]
            keys = [frame[c].astype(str).to_numpy(dtype=object) for c in cols]
            groups = pd.Series(np.arange(len(frame))).groupby(keys[0], sort=False).indices
            self._index[table] = (
                groups,
                keys,
                (cut - ts) / 86400.0,
                frame[id_col].astype(str).to_numpy(),
            )
        else:
            self._index[table] = None

    def signal_ids(self, customer_id: str, kind: str, labels: list[str], days: int) -> list[str]:
        """Distinct source ids of the customer's signals of `kind` with one of `labels` in the last `days`."""
        found = [
            (a, i)
            for lab in labels
            for a, i in self._lookup("signals", (customer_id, kind, lab))
            if a <= days
        ]
        return sorted({i for _, i in found})

    def signal_labels(self, customer_id: str, kind: str, labels: list[str], days: int) -> list[str]:
        """Which of `labels` the customer's signals of `kind` carry in the last `days`, most frequent first."""
        hits = {
            lab: sum(a <= days for a, _ in self._lookup("signals", (customer_id, kind, lab)))
            for lab in labels
        }
        return [lab for lab, n in sorted(hits.items(), key=lambda x: -x[1]) if n > 0]

    def web_ids(self, customer_id: str, pages: list[str], days: int) -> list[str]:
        """Event ids of the customer's views of `pages` in the last `days`."""
        return [i for p in pages for a, i in self._lookup("web", (customer_id, p)) if a <= days]

    def memo_ids(self, customer_id: str, categories: list[str], days: int, limit: int = 5) -> list[str]:
        """Ids of the customer's latest transactions whose memo or merchant falls in `categories`."""
        found = sorted(
            (a, i) for c in categories for a, i in self._lookup("memos", (customer_id, c)) if a <= days
        )
        return [i for _, i in found[:limit]]


def _present(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, int | float | np.number) and float(value) == 0.0)


def _n(value: Any) -> int:
    return int(round(float(value)))


def sentence(
    name: str,
    value: Any,
    product_id: str,
    ctx: ReasonContext,
    customer_id: str = "",
    evidence: Evidence | None = None,
) -> tuple[str | None, list[str]]:
    """One Korean sentence (or None when the feature is no evidence) and the ids it cites."""
    if name == "product_id" or not _present(value):
        return None, []
    pname = ctx.product_name(product_id)
    intent_names = ctx.intent_names
    memo_names = ctx.memo_names
    ids: list[str] = []
    if name.startswith("cand_intent_") or name.startswith("intent_"):
        if name.startswith("cand_intent_"):
            labels, label_text = ctx.intents_for(product_id), f"{pname} 관련 문의"
            suffix = name[len("cand_intent_") :]
        else:
            iid = ctx.intent_of(name)
            # a call about something unrelated (a lost card, an outage, "기타") is no reason to offer this product
            if iid is None or not ctx.supports(iid, product_id):
                return None, []
            labels, label_text, suffix = [iid], f"{intent_names[iid]}", name[len(f"intent_{iid}_") :]
        days = {"30d": 30, "90d": 90}.get(suffix, 90)
        if evidence is not None:
            window = days if suffix != "days_since" else 90
            ids = evidence.signal_ids(customer_id, "intent", labels, window)
            if name.startswith("cand_intent_"):
                # name what the calls were about, not the product they are evidence for (issue 18)
                found = evidence.signal_labels(customer_id, "intent", labels, window)
                if found:
                    label_text = "·".join(intent_names.get(i, i) for i in found[:2])
        if suffix in ("30d", "90d"):
            return f"최근 {days}일 동안 {label_text} 통화가 {_n(value)}회 있었습니다", ids
        if suffix == "days_since":
            if float(value) > 90:
                return None, []  # a call from most of a year ago is no reason a teller can use
            return f"{_n(value)}일 전 {label_text} 통화가 있었습니다", ids[-1:]
        if float(value) < 0.05:
            return None, []  # a decayed score that rounds to 0.0 is no evidence a person can read
        return f"최근 {label_text} 통화가 있었습니다", ids
    if name.startswith("interest_"):
        cid = name[len("interest_") :]
        if float(value) < 0.05:
            return None, []
        if ctx.memo_category_products and product_id not in ctx.memo_category_products.get(cid, []):
            return None, []  # phone bills are no reason to offer a pension: only related interests count
        if evidence is not None:
            ids = evidence.signal_ids(customer_id, "interest", [cid], 90)
        return f"최근 거래 적요·가맹점에 {memo_names.get(cid, cid)} 관련 거래가 있습니다", ids
    if name == "cand_memo_share":
        cat_ids = [c for c, ps in ctx.memo_category_products.items() if product_id in ps]
        cats = [memo_names.get(c, c) for c in cat_ids]
        if evidence is not None:
            ids = evidence.memo_ids(customer_id, cat_ids, 90)
        return f"최근 90일 지출의 {float(value):.0%}가 {'·'.join(cats[:3]) or pname} 관련입니다", ids
    if name.startswith("spend_share_"):
        cid = name[len("spend_share_") :]
        if ctx.memo_category_products and product_id not in ctx.memo_category_products.get(cid, []):
            return None, []  # spending unrelated to this product is no reason to offer it
        if evidence is not None:
            ids = evidence.memo_ids(customer_id, [cid], 90)
        return f"최근 90일 지출의 {float(value):.0%}가 {memo_names.get(cid, cid)} 관련입니다", ids
    if name == "cand_web_decay" or (
        name.startswith("web_") and name.endswith("_decay") and name != "web_other_decay"
    ):
        if name == "cand_web_decay":
            pages = ctx.pages_for(product_id)
        else:
            wid = name[len("web_") : -len("_decay")]
            if ctx.web_page_products and product_id not in ctx.web_page_products.get(wid, []):
                return None, []  # a visit to an unrelated page is no reason to offer this product
            pages = [ctx.web_pages.get(wid, wid)]
        if not pages:
            return None, []
        label = "·".join(pages[:2])
        if evidence is not None:
            for days in (30, 90):
                ids = evidence.web_ids(customer_id, pages, days)
                if ids:
                    return f"최근 {days}일 동안 {label} 페이지를 {len(ids)}회 방문했습니다", ids
        return f"최근 {label} 페이지를 방문했습니다", ids
    if name.startswith("held_"):
        return (
            f"{ctx.product_name(name[len('held_') :])} 보유 중입니다" if value is True or value == 1 else None
        ), []
    if name in _SIMPLE:
        return _SIMPLE[name](value), ids
    return None, []


# Age is never a reason (issue 18: "만 52세" told a teller nothing and reads as profiling).
_SIMPLE: dict[str, Callable[[Any], str | None]] = {
    "cand_family_held": lambda v: f"같은 계열 상품을 {_n(v)}개 보유하고 있습니다",
    "salary_detected": lambda v: "최근 3개월 중 2개월 이상 급여가 들어왔습니다" if v else None,
    "salary_months_90d": lambda v: f"최근 3개월 중 {_n(v)}개월 급여가 들어왔습니다",
    "household": lambda v: f"{value_label('household', v)}입니다",
    "income_band": lambda v: f"소득 구간이 {value_label('income_band', v)}입니다",
    "tenure_days": lambda v: (
        f"{float(v) / 365.25:.0f}년째 거래하고 있습니다"
        if float(v) >= 365
        else f"거래를 시작한 지 {max(float(v) / 30.44, 1):.0f}개월 된 신규 고객입니다"
    ),
    "opened_90d": lambda v: f"최근 90일 동안 {_n(v)}개 상품에 새로 가입했습니다",
    "closed_90d": lambda v: f"최근 90일 동안 {_n(v)}개 상품을 해지했습니다",
    "call_count_90d": lambda v: f"최근 90일 동안 상담 전화를 {_n(v)}회 했습니다",
    "product_count": lambda v: f"상품을 {_n(v)}개 보유하고 있습니다",
    "txn_count_30d": lambda v: f"최근 30일 동안 {_n(v)}건 거래했습니다",
    "web_visits_30d": lambda v: f"최근 30일 동안 웹·앱을 {_n(v)}회 방문했습니다",
    "income_amount_90d": lambda v: f"최근 90일 입금액이 {float(v) / 1e4:,.0f}만 원입니다",
    "spend_amount_30d": lambda v: f"최근 30일 지출액이 {float(v) / 1e4:,.0f}만 원입니다",
    "complaint_count_90d": lambda v: f"최근 90일 동안 불만을 {_n(v)}건 접수했습니다",
}


_PLAIN = {
    "salary_detected",
    "salary_months_90d",
    "household",
    "income_band",
    "opened_90d",
    "call_count_90d",
    "product_count",
    "web_visits_30d",
    "cand_family_held",
    "txn_count_30d",
    "income_amount_90d",
    "spend_amount_30d",
    "tenure_days",
    "closed_90d",
}


def _explainable(name: str) -> bool:
    """Features a branch employee can act on (evidence or life stage), not raw totals or the product id."""
    if name in _PLAIN or name.startswith(("cand_", "intent_", "interest_", "spend_share_", "held_")):
        return True
    return name.startswith("web_") and name.endswith("_decay") and name != "web_other_decay"


def evidence_atoms(name: str, product_id: str, ctx: ReasonContext) -> frozenset[str]:
    """The evidence a feature's sentence rests on ("intent:<id>", "memo:<category>", "web:<page>"…).

    A later sentence that rests only on evidence an earlier one already cites is left out, so the three
    reasons are three different facts (not the same calls counted over 30 and over 90 days).
    """
    if name.startswith("cand_intent_"):
        return frozenset(f"intent:{i}" for i in ctx.intents_for(product_id))
    if name.startswith("intent_"):
        iid = ctx.intent_of(name)
        return frozenset({f"intent:{iid}"}) if iid else frozenset()
    if name.startswith("interest_"):
        return frozenset({f"interest:{name[len('interest_') :]}"})
    if name == "cand_memo_share":
        return frozenset(f"memo:{c}" for c, ps in ctx.memo_category_products.items() if product_id in ps)
    if name.startswith("spend_share_"):
        return frozenset({f"memo:{name[len('spend_share_') :]}"})
    if name == "cand_web_decay":
        return frozenset(f"web:{p}" for p in ctx.pages_for(product_id))
    if name.startswith("web_") and name.endswith("_decay"):
        wid = name[len("web_") : -len("_decay")]
        return frozenset({f"web:{ctx.web_pages.get(wid, wid)}"})
    return frozenset()


def display_values(name: str, values: np.ndarray) -> np.ndarray:
    """Values rounded to what their sentence shows (만 원, %, one decimal, whole counts, years or months).

    Equal sentences then share one wording call, and a count of 0.4 is no "0회" evidence.
    """
    v = np.asarray(values, dtype=np.float64)
    if name.endswith(("_amount_90d", "_amount_30d")):
        return np.round(v / 1e4) * 1e4
    if name == "tenure_days":
        months = np.minimum(np.maximum(np.round(v / 30.44), 1) * 30.44, 364.9)
        return np.where(v >= 365, np.round(v / 365.25) * 365.25, np.where(v > 0, months, v))
    if name.startswith("spend_share_") or name == "cand_memo_share":
        return np.round(v, 2)
    if name.endswith("_decay") or name.startswith("interest_"):
        return np.round(v, 1)
    if name.endswith(("_30d", "_90d", "_days_since")) or name in ("age", "cand_family_held", "product_count"):
        return np.round(v)
    return v


def _values(M: Any, r: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Model-matrix values at (row, feature) positions, from a matrix or lazy rows with `values`."""
    return np.asarray(M[r, f] if isinstance(M, np.ndarray) else M.values(r, f), dtype=np.float64)


# features whose sentence may cite the customer's own events (calls, memos, page views)
_CITING = ("cand_", "intent_", "interest_", "spend_share_", "web_")
_SMALL = 2_000  # rows below this are explained by LightGBM pred_contrib directly (no tables to build)


@dataclass
class Explainer:
    """Korean reasons for many recommended rows at once; build one per batch and reuse it across chunks.

    Attributions are exact LightGBM `pred_contrib` values: asked directly for few rows, through
    `recommend.attribution.ShapTable` (each tree's SHAP vectors tabled by decision pattern) for many. A
    sentence is worded once per distinct (feature, product, value) and reused, so the per-row work is a
    few array operations.

    Attributes:
        model: a fitted LightGBMRecommender.
        ctx: names for the wording.
        n: reasons per row.
        table_from: rows from which the SHAP table answers instead of `pred_contrib` (an explainer kept
            across the event path's batches has its table warm, so it pays from fewer rows).
    """

    model: Any
    ctx: ReasonContext
    n: int = 3
    table_from: int = _SMALL
    names: list[str] = field(init=False)
    allowed: np.ndarray = field(init=False)
    _table: Any = field(default=None, init=False, repr=False)
    _texts: list[str] = field(default_factory=list, init=False, repr=False)
    _text_code: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _words: dict[int, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)
    _atoms: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _masks: list[int] = field(default_factory=lambda: [0], init=False, repr=False)
    _mask_cache: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 1), dtype=np.uint64), init=False, repr=False
    )
    _products: list[str] = field(default_factory=list, init=False, repr=False)
    _product_code: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.names = list(self.model.feature_names_)
        self.allowed = np.asarray([_explainable(c) and self.ctx.citable(c) for c in self.names], dtype=bool)

    @property
    def memo_size(self) -> int:
        """Worded (feature, product, value) keys held (a long-lived explainer renews itself past a bound)."""
        return len(self._words)

    def _code(self, text: str) -> int:
        code = self._text_code.get(text)
        if code is None:
            code = self._text_code[text] = len(self._texts)
            self._texts.append(text)
        return code

    def _value(self, j: int, raw: float) -> Any:
        """A model-matrix value back as the feature's value (categories for categorical columns)."""
        cats = self.model.categories_.get(self.names[j])
        if cats is None:
            return raw
        return None if np.isnan(raw) or int(raw) >= len(cats) else cats[int(raw)]

    def _word(self, key: int, j: int, product: str, raw: float) -> tuple[int, int]:
        """(text code or -1, evidence-mask index) of feature j at value `raw` for `product`, memoised."""
        got = self._words.get(key)
        if got is None:
            text, _ = sentence(self.names[j], self._value(j, raw), product, self.ctx)
            atoms = evidence_atoms(self.names[j], product, self.ctx)
            mask = 0
            for a in atoms:
                mask |= 1 << self._atoms.setdefault(a, len(self._atoms))
            self._masks.append(mask)
            got = self._words[key] = (self._code(text) if text else -1, len(self._masks) - 1)
        return got

    def _mask_array(self) -> np.ndarray:
        """The evidence masks as [masks, words] uint64, extended by the masks added since the last call.

        An explainer kept across batches holds thousands of masks: rebuilding the array bit by bit
        each call cost more than the call (issue 16, item 6).
        """
        width = max(1, (len(self._atoms) + 63) // 64)
        have = self._mask_cache
        done = 0 if have.shape[1] != width else len(have)
        if done == len(self._masks):
            return have
        add = np.zeros((len(self._masks) - done, width), dtype=np.uint64)
        for i, bitset in enumerate(self._masks[done:]):
            for w in range(width):
                add[i, w] = (bitset >> (64 * w)) & 0xFFFFFFFFFFFFFFFF
        self._mask_cache = np.concatenate([have[:done], add]) if done else add
        return self._mask_cache

    def top(self, M: Any) -> np.ndarray:
        """Per row, up to 3n explainable features with the largest positive SHAP value [rows, 3n] (-1 pad).

        Lazy rows from scoring (recommend.models.PairRows) bring the decision codes scoring computed.
        """
        from cdna.recommend.forest import ShapTable, top_contributions

        k = self.n * 3
        if len(M) >= self.table_from and self._table is None:
            compiled = self.model.compiled()
            self._table = ShapTable(compiled, self.model.n_jobs) if compiled is not None else False
        if len(M) >= self.table_from and self._table:
            return self._table.top(M, self.allowed, k, getattr(M, "codes", None))[0]
        X = M if isinstance(M, np.ndarray) else M.take(np.arange(len(M)))
        contrib = self.model.booster_.predict(X, pred_contrib=True, num_threads=self.model.n_jobs)
        return top_contributions(contrib, self.allowed, k)[0]

    def texts(self, M: Any, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chosen reasons for rows of model matrix `M`: (text codes [rows, n] with -1 pad, chosen features).

        `products` are the rows' product ids. Rows with no usable evidence get the product's fallback text.
        """
        idx = self.top(M).astype(np.int64)
        rows, k = idx.shape
        has = idx >= 0
        vals = np.full((rows, k), np.nan)
        vals[has] = _values(M, np.nonzero(has)[0], idx[has])
        for j in np.unique(idx[has]):
            if self.names[j] not in self.model.categories_:
                at = idx == j
                vals[at] = display_values(self.names[j], vals[at])
        vals = vals.astype(np.float32)
        vals[np.isnan(vals)] = np.nan  # one bit pattern for every missing value
        ser = pd.Series(np.asarray(products, dtype=object)).astype(str)
        for pid in ser.unique():
            if pid not in self._product_code:
                if len(self._products) >= 0xFF:
                    raise ValueError("more than 255 products in one batch of reasons")
                self._product_code[pid] = len(self._products)
                self._products.append(pid)
        pcode = ser.map(self._product_code).to_numpy(dtype=np.int64)
        prods = self._products
        bits = vals.view(np.uint32).astype(np.int64)
        key = (np.where(has, idx, 0xFFFF) << 40) | (pcode[:, None] << 32) | bits
        uniq, inv = np.unique(key[has], return_inverse=True)
        raw = (uniq & 0xFFFFFFFF).astype(np.uint32).view(np.float32)
        words = np.asarray(
            [
                self._word(int(u), int(u >> 40), prods[int(u >> 32) & 0xFF], float(v))
                for u, v in zip(uniq, raw, strict=True)
            ],
            dtype=np.int64,
        ).reshape(-1, 2)
        code = np.full((rows, k), -1, dtype=np.int64)
        mask_i = np.zeros((rows, k), dtype=np.int64)
        code[has] = words[inv, 0]
        mask_i[has] = words[inv, 1]
        masks = self._mask_array()
        width = masks.shape[1]
        chosen = np.full((rows, self.n), -1, dtype=np.int64)
        feat = np.full((rows, self.n), -1, dtype=np.int64)
        count = np.zeros(rows, dtype=np.int64)
        covered = np.zeros((rows, width), dtype=np.uint64)
        for s in range(k):
            c = code[:, s]
            m = masks[mask_i[:, s]]
            ok = (c >= 0) & (count < self.n)
            ok &= ~(chosen == c[:, None]).any(axis=1)
            ok &= ~m.any(axis=1) | (m & ~covered).any(axis=1)
            r = np.flatnonzero(ok)
            chosen[r, count[r]] = c[r]
            feat[r, count[r]] = idx[r, s]
            count[r] += 1
            covered[r] |= m[r]
        none = np.flatnonzero(count == 0)
        if len(none):
            fallback = np.asarray(
                [self._code(f"비슷한 고객층에서 {self.ctx.product_name(p)} 가입이 많습니다") for p in prods]
            )
            chosen[none, 0] = fallback[pcode[none]]
        return chosen, feat

    def arrays(
        self,
        M: Any,
        customers: np.ndarray,
        products: np.ndarray,
        evidence: Evidence | None = None,
    ) -> tuple[Any, Any]:
        """Reasons and evidence ids as Arrow list<string> arrays, one entry per row of `M`.

        `M` is the rows' model matrix, or lazy rows from scoring (recommend.models.PairRows).
        """
        import pyarrow as pa

        chosen, feat = self.texts(M, products)
        valid = chosen >= 0
        offsets = np.r_[0, np.cumsum(valid.sum(axis=1))].astype(np.int32)
        table = pa.array(self._texts, pa.string())
        reasons = pa.ListArray.from_arrays(pa.array(offsets), table.take(pa.array(chosen[valid])))
        if evidence is None:
            empty = pa.array(np.zeros(len(M) + 1, dtype=np.int32))
            return reasons, pa.ListArray.from_arrays(empty, pa.array([], pa.string()))
        # cited ids (and the page-view counts web sentences quote) depend on each customer's events
        texts: list[list[str]] = []
        cited: list[list[str]] = []
        base = reasons.to_pylist()
        shown = np.full(feat.shape, np.nan)
        chosen_at = feat >= 0
        shown[chosen_at] = _values(M, np.nonzero(chosen_at)[0], feat[chosen_at])
        cats = self.model.categories_
        for j in np.unique(feat[chosen_at]):  # numbers rounded as their sentence shows them
            if self.names[j] not in cats:
                at = feat == j
                shown[at] = display_values(self.names[j], shown[at])
        # a sentence that cites no evidence is the same for every customer: worded once per call
        plain: dict[tuple[int, str, float], tuple[str | None, list[str]]] = {}
        for r in range(len(M)):
            row_texts, ids = [], []
            product = str(products[r])
            for q, j in enumerate(feat[r]):
                if j < 0:
                    break
                j, v = int(j), float(shown[r, q])
                value = self._value(j, v) if self.names[j] in cats else v
                if self.names[j].startswith(_CITING):
                    text, fid = sentence(self.names[j], value, product, self.ctx, str(customers[r]), evidence)
                else:
                    got = plain.get((j, product, v))
                    if got is None:
                        got = plain[(j, product, v)] = sentence(self.names[j], value, product, self.ctx)
                    text, fid = got
                row_texts.append(text or base[r][q])
                ids += [i for i in fid if i not in ids]
            texts.append(row_texts or base[r])
            cited.append(ids[:10])
        return pa.array(texts, pa.list_(pa.string())), pa.array(cited, pa.list_(pa.string()))


def explain(
    model: Any,
    rows: pd.DataFrame,
    ctx: ReasonContext,
    n: int = 3,
    evidence: Evidence | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Korean reasons and evidence ids for each row of `rows` (candidate rows with features)."""
    reasons, ids = Explainer(model, ctx, n).arrays(
        model._matrix(rows),
        rows["customer_id"].to_numpy(dtype=object),
        rows["product_id"].to_numpy(dtype=object),
        evidence,
    )
    return reasons.to_pylist(), ids.to_pylist()


def evidence_window(as_of: date, timezone: str) -> pd.Timestamp:
    """The UTC instant right after the Korea-time as-of day (events before it may be cited)."""
    local = pd.Timestamp(as_of + timedelta(days=1)).tz_localize(timezone)
    return local.tz_convert("UTC")
