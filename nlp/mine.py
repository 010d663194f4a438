"""Pure mining: transcripts + transactions tables → the signals table (issue #4, item 7).

No I/O here (see `nlp.store` for the lake). Every text is masked before it can reach a signal's
evidence; the intent and complaint models read masked customer turns only.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from cdna.contracts.schemas import SIGNALS, TS, conform
from cdna.nlp.complaints import complaint_score
from cdna.nlp.echoes import is_term_echo
from cdna.nlp.intents import load_keywords
from cdna.nlp.interests import InterestClassifier
from cdna.nlp.pii import mask, mask_cached, names_in

__all__ = [
    "MineOptions",
    "MineResult",
    "Models",
    "empty_signals",
    "kst_day",
    "mask_memo",
    "mine_calls",
    "mine_memos",
]

KST = ZoneInfo("Asia/Seoul")
_SYNTHETIC = "synthetic-asr"


@dataclass(frozen=True)
class MineOptions:
    """What the miner emits.

    Attributes:
        intent_threshold: intents reported from this probability.
        max_intents: intents per call.
        complaint_threshold: a complaint signal from this score.
        evidence_chars: evidence snippets are cut to this length.
        min_interest_score: memo interests from this confidence.
        min_avg_logprob: segments whose decoder avg_logprob is below this are not mined (None = keep all;
            rows without the figure, such as the world's ASR-like transcripts, are always kept).
        echo_terms: configured banking terms; a segment that is only a near-copy of them is not mined.
    """

    intent_threshold: float = 0.35
    max_intents: int = 2
    complaint_threshold: float = 0.5
    evidence_chars: int = 80
    min_interest_score: float = 0.55
    min_avg_logprob: float | None = -0.8
    echo_terms: tuple[str, ...] = ()


@dataclass
class Models:
    """The fitted models the miner uses, and the version string written with each signal.

    Attributes:
        intents: a fitted intent estimator with `predict_proba` and `classes_`.
        interests: a fitted InterestClassifier.
        intent_version: e.g. "intent-sklearn-1a2b3c4d".
        interest_version: e.g. "interest-lexicon+char-1".
    """

    intents: Any
    interests: InterestClassifier
    intent_version: str
    interest_version: str = "interest-lexicon+char-1"
    keywords: dict[str, list[str]] = field(default_factory=load_keywords)


@dataclass
class MineResult:
    """Signals plus counts for the run record.

    Attributes:
        signals: the signals table (cdna.contracts.schemas.SIGNALS).
        pii: masked items by PII type.
        counts: calls, memos, skipped rows (segments_low_confidence, segments_term_echo).
    """

    signals: pa.Table
    pii: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)


def empty_signals() -> pa.Table:
    """An empty table with the signals schema."""
    return SIGNALS.schema.empty_table()


def kst_day(ts: datetime) -> date:
    """The Korea calendar day of a UTC timestamp."""
    return ts.astimezone(KST).date()


_MEMO_NAME = re.compile(r"^([가-힣]{2,4})(?=\s|$)")
_SURNAME_START = set(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예봉경부"
)


def mask_memo(text: str, lexicon_hit: bool = False) -> tuple[str, Counter[str]]:
    """A memo with personal data masked; a leading bare name ("남현우 용돈") counts as a name."""
    result = mask_cached(text)
    masked, counts = result.text, result.counts()
    m = _MEMO_NAME.match(masked)
    # Transfer memos usually carry the sender's name; a surname-led 2-4 syllable first word that is not
    # itself a lexicon term (이마트, 관리비 …) is treated as one.
    if m and m.group(1)[0] in _SURNAME_START and not lexicon_hit:
        masked = "[NAME]" + masked[m.end(1) :]
        counts["NAME"] += 1
    return masked, counts


def _snippet(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pick_calls(transcripts: pa.Table) -> dict[str, list[dict[str, Any]]]:
    """Segments per call, one model per call (a real ASR model beats the synthetic one)."""
    by_call: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in transcripts.to_pylist():
        by_call.setdefault(row["call_id"], {}).setdefault(row["model_id"], []).append(row)
    out = {}
    for call_id, models in by_call.items():
        model = sorted(models, key=lambda m: (m == _SYNTHETIC, m))[0]
        out[call_id] = sorted(models[model], key=lambda r: (r["start_s"], r["channel"], r["segment_index"]))
    return out


def _mask_turns(turns: list[tuple[str, str]], pii: Counter[str]) -> list[str]:
    """The call's turns (text, previous turn) masked; a name found in one turn is masked in all (issue #14)."""
    results = [mask(text, context=before) for text, before in turns]
    names = frozenset().union(*(names_in(t, r) for (t, _), r in zip(turns, results, strict=True)))
    if names:
        results = [mask(text, context=before, names=names) for text, before in turns]
    for result in results:
        pii.update(result.counts())
    return [r.text for r in results if r.text.strip()]


def mine_calls(transcripts: pa.Table, models: Models, options: MineOptions | None = None) -> MineResult:
    """Intent and complaint signals from transcript segments (customer turns when roles exist).

    Args:
        transcripts: rows of the TRANSCRIPTS contract (any model ids).
        models: fitted models and their versions.
        options: thresholds and evidence length.

    Returns:
        The signals (source "call") and counts; evidence is masked.
    """
    options = options or MineOptions()
    pii: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    calls = _pick_calls(transcripts)
    texts: list[str] = []
    turns_of: list[list[str]] = []
    meta: list[tuple[str, str, datetime]] = []
    for call_id, segs in calls.items():
        counts["calls"] += 1
        first = segs[0]
        if not first.get("customer_id") or first.get("started_at") is None:
            counts["calls_without_customer"] += 1
            continue
        has_roles = any(s["speaker"] == "customer" for s in segs)
        prev = ""
        turns: list[tuple[str, str]] = []
        for s in segs:
            text = s["text"] or ""
            skip = _skip_reason(s, options)
            if skip is not None:
                counts[skip] += 1
                continue
            if not has_roles or s["speaker"] == "customer":
                turns.append((text, prev))
            prev = text
        masked_turns = _mask_turns(turns, pii)
        if not masked_turns:
            counts["calls_without_customer_text"] += 1
            continue
        texts.append(" ".join(masked_turns))
        turns_of.append(masked_turns)
        meta.append((call_id, first["customer_id"], first["started_at"]))
    if texts:
        proba = models.intents.predict_proba(texts)
        classes = [str(c) for c in models.intents.classes_]
        complaint_col = classes.index("complaint") if "complaint" in classes else None
        for i, (call_id, customer_id, ts) in enumerate(meta):
            row = proba[i]
            order = row.argsort()[::-1][: options.max_intents]
            picked = [j for j in order if row[j] >= options.intent_threshold] or [int(order[0])]
            for j in picked:
                label = classes[j]
                rows.append(
                    {
                        "customer_id": customer_id,
                        "ts": ts,
                        "source": "call",
                        "source_id": call_id,
                        "kind": "intent",
                        "label": label,
                        "score": round(float(row[j]), 4),
                        "evidence": _snippet(
                            _evidence(turns_of[i], label, models.keywords), options.evidence_chars
                        ),
                        "model_version": models.intent_version,
                    }
                )
            p_complaint = float(row[complaint_col]) if complaint_col is not None else 0.0
            score = complaint_score(texts[i], p_complaint)
            if score >= options.complaint_threshold:
                rows.append(
                    {
                        "customer_id": customer_id,
                        "ts": ts,
                        "source": "call",
                        "source_id": call_id,
                        "kind": "complaint",
                        "label": "complaint",
                        "score": score,
                        "evidence": _snippet(
                            _evidence(turns_of[i], "complaint", models.keywords), options.evidence_chars
                        ),
                        "model_version": f"complaint-lexicon-1+{models.intent_version}",
                    }
                )
    counts["calls_mined"] = len(meta)
    table = (
        conform(pa.Table.from_pylist(rows, schema=SIGNALS.schema), SIGNALS, "mined calls")
        if rows
        else empty_signals()
    )
    return MineResult(table, pii, counts)


def _skip_reason(segment: dict[str, Any], options: MineOptions) -> str | None:
    """Why a transcript segment is not mined: below the confidence floor, or a prompt echo."""
    logprob = segment.get("avg_logprob")
    if options.min_avg_logprob is not None and logprob is not None and logprob < options.min_avg_logprob:
        return "segments_low_confidence"
    if options.echo_terms and is_term_echo(segment["text"] or "", options.echo_terms):
        return "segments_term_echo"
    return None


def _evidence(turns: list[str], label: str, keywords: dict[str, list[str]]) -> str:
    """The customer turn that best shows `label`: the one with most of its keywords, else the longest."""
    words = [w.upper() for w in keywords.get(label, [])]
    if label == "complaint":
        from cdna.nlp.complaints import complaint_score as score

        best = max(turns, key=lambda t: (score(t), len(t)))
        return best
    scored = [(sum(1 for w in words if w in t.replace(" ", "").upper()), len(t), t) for t in turns]
    return max(scored)[2]


def mine_memos(transactions: pa.Table, models: Models, options: MineOptions | None = None) -> MineResult:
    """Interest signals from transaction memos and merchant names.

    Args:
        transactions: rows of the TRANSACTIONS contract.
        models: fitted models (the interest classifier is used).
        options: the minimum interest confidence and evidence length.

    Returns:
        One signal per transaction with an interest (source "memo"); evidence is the masked memo.
    """
    options = options or MineOptions()
    n = transactions.num_rows
    counts: Counter[str] = Counter(memos=n)
    pii: Counter[str] = Counter()
    if not n:
        return MineResult(empty_signals(), pii, counts)
    memos = transactions.column("memo").to_pylist()
    merchants = transactions.column("merchant").to_pylist()
    found = models.interests.classify_pair(memos, merchants)
    keep = [i for i, f in enumerate(found) if f.label is not None and f.score >= options.min_interest_score]
    masked_cache: dict[str, tuple[str, Counter[str]]] = {}
    evidence: list[str] = []
    for i in keep:
        memo = memos[i] or merchants[i] or ""
        hit = masked_cache.get(memo)
        if hit is None:
            lexicon = bool(memo) and models.interests.classify([memo.split(" ")[0]])[0].how == "lexicon"
            hit = masked_cache[memo] = mask_memo(memo, lexicon)
        pii.update(hit[1])
        evidence.append(_snippet(hit[0], options.evidence_chars))
    take = pa.array(keep, pa.int64())
    sub = transactions.take(take)
    table = pa.table(
        {
            "customer_id": sub.column("customer_id"),
            "ts": sub.column("ts").cast(TS),
            "source": pa.array(["memo"] * len(keep), pa.string()),
            "source_id": sub.column("txn_id"),
            "kind": pa.array(["interest"] * len(keep), pa.string()),
            "label": pa.array([found[i].label for i in keep], pa.string()),
            "score": pa.array([found[i].score for i in keep], pa.float64()),
            "evidence": pa.array(evidence, pa.string()),
            "model_version": pa.array([models.interest_version] * len(keep), pa.string()),
        }
    )
    counts["memos_with_interest"] = len(keep)
    return MineResult(conform(table, SIGNALS, "mined memos"), pii, counts)
