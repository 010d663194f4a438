"""Read-side lookups behind the console: evidence snippets, customer search, and weekly market trends.

Each reads the lake's tables with DuckDB when asked (a click, not the hot path), returns masked text only,
and never holds personal data in memory beyond the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdna.core.lake import Lake
from cdna.serve.labels import segment_label
from cdna.serve.state import mask_text

__all__ = [
    "EvidenceNotFoundError",
    "SearchHit",
    "choseong",
    "evidence_snippet",
    "market_trends",
    "mask_name",
    "mask_phone",
    "search_customers",
]

TIMEZONE = "Asia/Seoul"
_PREFIXES = {"call": "call", "memo": "memo", "txn": "memo", "web": "web"}


class EvidenceNotFoundError(LookupError):
    """The evidence id is not one of this customer's calls, page views or transactions."""


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _files(folder: Path, pattern: str = "*.parquet") -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    return con


def _kst_day(ts: Any) -> str | None:
    return None if ts is None else str(ts)[:10]


def evidence_snippet(
    lake: Path, customer_id: str, evidence_id: str, intents: dict[str, str]
) -> dict[str, Any]:
    """The masked snippet behind one evidence id of one customer.

    Calls give date, intent and masked quote; web views the page and date; transactions the masked memo
    and the amount. Ids may carry a kind prefix ("call:CL1", "web:W9"); without one every source is tried.
    """
    kind, _, raw_id = evidence_id.partition(":") if ":" in evidence_id else ("", "", evidence_id)
    kind = _PREFIXES.get(kind, "")
    con = _connect()
    try:
        if kind in ("", "call", "memo"):
            files = _files(Lake(lake).signals, "date=*/*.parquet")
            if files:
                row = con.execute(
                    f"SELECT source, kind, label, ts, evidence FROM read_parquet({_sql_list(files)}, "
                    "union_by_name = true, hive_partitioning = false) "
                    "WHERE customer_id = ? AND source_id = ? ORDER BY kind = 'intent' DESC, score DESC LIMIT 1",
                    [customer_id, raw_id],
                ).fetchone()
                if row is not None and row[0] == "call":
                    return {
                        "id": evidence_id,
                        "kind": "call",
                        "kind_label": "상담 통화",
                        "date": _kst_day(row[3]),
                        "intent": intents.get(row[2], row[2]) if row[1] == "intent" else "민원",
                        "quote": mask_text(row[4]),
                    }
        if kind in ("", "memo"):
            files = _files(Lake(lake).raw("transactions"))
            if files:
                row = con.execute(
                    f"SELECT ts, amount, direction, memo, merchant FROM read_parquet({_sql_list(files)}) "
                    "WHERE customer_id = ? AND txn_id = ? LIMIT 1",
                    [customer_id, raw_id],
                ).fetchone()
                if row is not None:
                    memo = " · ".join(x for x in (row[3], row[4]) if x)
                    return {
                        "id": evidence_id,
                        "kind": "transaction",
                        "kind_label": "거래",
                        "date": _kst_day(row[0]),
                        "memo": mask_text(memo),
                        "amount": float(row[1]),
                        "amount_text": f"{'입금' if row[2] == 'in' else '출금'} {float(row[1]):,.0f}원",
                    }
        if kind in ("", "web"):
            files = _files(Lake(lake).raw("web_events"))
            if files:
                row = con.execute(
                    f"SELECT ts, page_category, channel FROM read_parquet({_sql_list(files)}) "
                    "WHERE customer_id = ? AND event_id = ? LIMIT 1",
                    [customer_id, raw_id],
                ).fetchone()
                if row is not None:
                    return {
                        "id": evidence_id,
                        "kind": "web",
                        "kind_label": "웹·앱 방문",
                        "date": _kst_day(row[0]),
                        "page": row[1],  # page categories are Korean already (계좌조회, 카드혜택 …)
                        "channel": {"web": "웹", "app": "앱"}.get(row[2], row[2]),
                    }
    finally:
        con.close()
    # the customer id is not echoed: the caller knows it (see customers._unknown)
    raise EvidenceNotFoundError(f"evidence {evidence_id!r} is not a record of this customer")


@dataclass(frozen=True)
class SearchHit:
    """One customer found by a search (masked: no full name or phone ever leaves).

    Attributes:
        customer_id: the id; name: first and last syllable, e.g. "김*수"; phone: e.g. "010-****-5678";
        region / segment: Korean labels.
    """

    customer_id: str
    name: str | None
    phone: str | None
    region: str | None
    segment: str | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "phone": self.phone,
            "region": self.region,
            "segment": self.segment,
        }


_ID_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_PHONE_TAIL = re.compile(r"^\d{4}$")
# a surname syllable and/or initial consonants (초성) of the name's first syllables: 김 · ㄱㅁ · 김ㅁ · ㄱㅁㅅ
_NAME_INITIALS = re.compile(r"^(?:[가-힣][ㄱ-ㅎ]{0,3}|[ㄱ-ㅎ]{1,4})$")
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"


def mask_name(name: str) -> str:
    """First and last syllable kept, the rest starred: 김민수 → 김*수, 남궁민수 → 남**수, 김수 → 김*."""
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """Area or carrier prefix and the last four digits: 010-1234-5678 → 010-****-5678."""
    digits = re.sub(r"\D", "", phone)
    head = phone.split("-")[0] if "-" in phone else digits[:3]
    return f"{head}-****-{digits[-4:]}"


def choseong(name: str) -> str:
    """The initial consonant of each Hangul syllable (김민수 → ㄱㅁㅅ); other characters are kept."""
    return "".join(_CHOSEONG[(ord(ch) - 0xAC00) // 588] if "가" <= ch <= "힣" else ch for ch in name)


def _name_condition(q: str, name_col: str) -> tuple[str, list[str]]:
    """SQL matching the name's leading syllables: a syllable equals itself, a jamo the syllable's 초성."""
    conds, params = [], []
    for i, ch in enumerate(q, start=1):
        syllable = f"substr({name_col}, {i}, 1)"
        if "가" <= ch <= "힣":
            conds.append(f"{syllable} = ?")
        else:
            idx = f"(unicode({syllable}) - 44032) // 588 + 1"
            conds.append(
                f"(unicode({syllable}) BETWEEN 44032 AND 55203 AND substr('{_CHOSEONG}', {idx}, 1) = ?)"
            )
        params.append(ch)
    return " AND ".join(conds), params


def _latest_segments(lake: Path) -> list[Path]:
    parts = sorted((Lake(lake).features / "segments").glob("date=*"))
    return _files(parts[-1]) if parts else []


def search_customers(
    lake: Path, query: str, allow_contact: bool, limit: int = 20
) -> tuple[str, list[SearchHit]]:
    """Customers matching `query`: an id prefix (any case), a 4-digit phone tail or name initials.

    Name initials are a surname syllable and/or initial consonants (김, ㄱㅁ, 김ㅁ). Phone and name searches
    need the contacts table (raw/contacts: customer_id, name, phone) and a role that may search by them
    (`allow_contact`); names and phones leave masked. Returns (how the query was read, hits).
    """
    q = query.strip()
    customers = _files(Lake(lake).raw("customers"))
    contacts = _files(Lake(lake).raw("contacts"))
    if not customers:
        return "none", []
    if _PHONE_TAIL.match(q):
        mode = "phone_tail"
    elif _NAME_INITIALS.match(q):
        mode = "name_initial"
    elif _ID_PREFIX.match(q):
        mode = "id_prefix"
    else:
        return "invalid", []
    if mode != "id_prefix" and (not allow_contact or not contacts):
        return mode + "_unavailable", []
    segs = _latest_segments(lake)
    seg_join = f"LEFT JOIN read_parquet({_sql_list(segs)}) s USING (customer_id)" if segs else ""
    seg_col = "s.segment_name" if segs else "NULL"
    # names and phones are read only for a role allowed to see them (masked), never for an id search by others
    show_contact = bool(contacts) and allow_contact
    contact_join = (
        f"LEFT JOIN read_parquet({_sql_list(contacts)}, union_by_name = true) k USING (customer_id)"
        if show_contact
        else ""
    )
    name_col, phone_col = ("k.name", "k.phone") if show_contact else ("NULL", "NULL")
    params: list[str] = [q]
    if mode == "id_prefix":
        where = "upper(c.customer_id) LIKE upper(?) || '%'"
    elif mode == "phone_tail":
        where = f"right(regexp_replace({phone_col}, '[^0-9]', '', 'g'), 4) = ?"
    else:
        where, params = _name_condition(q, name_col)
    con = _connect()
    try:
        rows = con.execute(
            f"SELECT c.customer_id, {name_col}, {phone_col}, c.region_sido, {seg_col} "
            f"FROM read_parquet({_sql_list(customers)}, union_by_name = true) c {contact_join} {seg_join} "
            f"WHERE {where} ORDER BY c.customer_id LIMIT {int(limit)}",
            params,
        ).fetchall()
    finally:
        con.close()
    hits = [
        SearchHit(
            cid,
            mask_name(str(name)) if name else None,
            mask_phone(str(phone)) if phone else None,
            region,
            segment_label(seg),
        )
        for cid, name, phone, region, seg in rows
    ]
    return mode, hits


KIND_LABELS = {"intent": "상담 의도", "complaint": "민원", "interest": "적요 관심사"}


def market_trends(
    lake: Path,
    names: dict[str, dict[str, str]],
    weeks: int = 12,
    segment: str | None = None,
    region: str | None = None,
    top: int = 6,
) -> dict[str, Any]:
    """Weekly counts (Korea-time weeks starting Monday) of call intents, complaints and memo interests.

    Filtered by segment and region; per kind, the `top` labels by total over the window are series.
    `names` maps kind -> label id -> Korean name.
    """
    signals = _files(Lake(lake).signals, "date=*/*.parquet")
    customers = _files(Lake(lake).raw("customers"))
    segs = _latest_segments(lake)
    empty: dict[str, Any] = {"weeks": [], "series": [], "segments": [], "regions": [], "filters": {}}
    if not signals:
        return empty
    con = _connect()
    try:
        joins, seg_col, reg_col = "", "NULL", "NULL"
        if customers:
            joins += f" LEFT JOIN read_parquet({_sql_list(customers)}) c USING (customer_id)"
            reg_col = "c.region_sido"
        if segs:
            joins += f" LEFT JOIN read_parquet({_sql_list(segs)}) s USING (customer_id)"
            seg_col = "s.segment_name"
        con.execute(
            "CREATE TEMP TABLE sig AS SELECT customer_id, kind, label, "
            "CAST(date_trunc('week', ts) AS DATE) AS week "
            f"FROM read_parquet({_sql_list(signals)}, union_by_name = true, hive_partitioning = false) "
            "WHERE kind IN ('intent', 'complaint', 'interest')"
        )
        last = con.execute("SELECT max(week) FROM sig").fetchone()
        if last is None or last[0] is None:
            return empty
        first = con.execute(f"SELECT CAST(? AS DATE) - INTERVAL {7 * (weeks - 1)} DAY", [last[0]]).fetchone()
        assert first is not None
        segments = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {seg_col} FROM sig {joins} WHERE {seg_col} IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        regions = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {reg_col} FROM sig {joins} WHERE {reg_col} IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        cond, params = ["week >= ?"], [first[0]]
        if segment:
            cond.append(f"trim(regexp_replace({seg_col}, '\\s*\\([^)]*\\)', '', 'g')) = ?")
            params.append(segment_label(segment))
        if region:
            cond.append(f"{reg_col} = ?")
            params.append(region)
        rows = con.execute(
            f"SELECT kind, label, week, count(*) FROM sig {joins} WHERE {' AND '.join(cond)} GROUP BY ALL",
            params,
        ).fetchall()
    finally:
        con.close()
    import datetime as _dt

    week_list = [first[0] + _dt.timedelta(days=7 * i) for i in range(weeks)]
    week_list = [w.date() if isinstance(w, _dt.datetime) else w for w in week_list]
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for kind, label, week, n in rows:
        counts.setdefault((kind, label), {})[str(week)] = int(n)
    series = []
    for kind in KIND_LABELS:
        labels = sorted(
            (key for key in counts if key[0] == kind), key=lambda key: -sum(counts[key].values())
        )[:top]
        for _, label in labels:
            by_week = counts[(kind, label)]
            values = [by_week.get(str(w), 0) for w in week_list]
            name = names.get(kind, {}).get(label, "민원 접수" if kind == "complaint" else label)
            series.append(
                {
                    "kind": kind,
                    "kind_label": KIND_LABELS[kind],
                    "label": label,
                    "name": name,
                    "values": values,
                    "total": sum(values),
                    "change": values[-1] - (values[-2] if len(values) > 1 else 0),
                }
            )
    return {
        "weeks": [str(w) for w in week_list],
        "series": series,
        "segments": sorted({segment_label(s) or "" for s in segments} - {""}),
        "regions": regions,
        "filters": {"segment": segment_label(segment) if segment else None, "region": region},
    }
