"""Small lakes in the documented contract formats (online store, batch scores, signals) for the service tests."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cdna.contracts.schemas import RECOMMENDATIONS, SIGNALS, conform
from cdna.core.lake import Lake, atomic_write_parquet
from cdna.features.online import write_sqlite_store

AS_OF = date(2025, 6, 30)
N_DEFAULT = 40
PRODUCTS = [
    "term_deposit",
    "installment_savings",
    "jeonse_loan",
    "credit_card",
    "fund",
    "isa",
    "irp",
    "fx_deposit",
]
INTENTS = ["jeonse_loan_inquiry", "card_issue", "deposit_open", "fx_remittance"]
REASONS = {
    "jeonse_loan": "최근 30일 내 전세대출 문의 통화가 {n}건 있었습니다.",
    "credit_card": "카드 혜택 페이지를 {n}회 조회했습니다.",
    "term_deposit": "예금 만기 문의가 있었고 급여 입금이 꾸준합니다.",
    "fx_deposit": "해외 결제와 외화 송금 문의가 늘었습니다.",
}
# A reason that (wrongly) quotes a phone number: the service must mask it on the way out.
LEAKY_REASON = "고객이 010-1234-5678 번호로 상담 예약을 요청했습니다."
LEAKY_EVIDENCE = "제 주민번호는 900101-1234567 이고 전세 대출 문의드려요"


def customer_ids(n: int) -> list[str]:
    """Ids shaped like the synthetic bank's."""
    return [f"C{i:07d}" for i in range(1, n + 1)]


def write_online(lake: Lake, n: int, seed: int = 7) -> Path:
    """An online store of `n` customers through the feature store's public writer."""
    rng = random.Random(seed)
    ids = customer_ids(n)
    snap = pa.table(
        {
            "customer_id": ids,
            "as_of": [AS_OF] * n,
            "age_band": [rng.choice(["20s", "30s", "40s", "50s"]) for _ in ids],
            "household": [rng.choice(["single", "couple_kids"]) for _ in ids],
            "recency_days": [rng.randint(0, 90) for _ in ids],
            "txn_count_365d": [rng.randint(0, 200) for _ in ids],
            "spend_amount_365d": [float(rng.randint(0, 50_000_000)) for _ in ids],
            "churn_risk": [round(rng.random(), 3) for _ in ids],
            "held_term_deposit": [rng.random() < 0.5 for _ in ids],
            "held_credit_card": [rng.random() < 0.3 for _ in ids],
            "intent_jeonse_loan_inquiry_90d": [rng.randint(0, 2) for _ in ids],
            "interest_travel": [round(rng.random(), 3) for _ in ids],
            "segment_id": pa.array([i % 3 for i in range(n)], pa.int16()),
            "segment_name": [
                ["우수 (high value)", "성장 (growing)", "저활동 (low value)"][i % 3] for i in range(n)
            ],
        }
    )
    src = lake.root / "snapshots" / f"date={AS_OF}" / "snapshot.parquet"
    atomic_write_parquet(snap, src)
    path = lake.root / "online" / "features.sqlite"
    write_sqlite_store(f"read_parquet('{src}')", path, {"as_of": str(AS_OF)})
    return path


def recommendations_table(
    n: int, model_version: str, k: int = 5, day: date = AS_OF, skip_last: int = 1
) -> pa.Table:
    """Batch scores in the RECOMMENDATIONS contract (the last `skip_last` customers get none)."""
    rng = random.Random(hash(model_version) & 0xFFFF)
    rows: dict[str, list] = {f.name: [] for f in RECOMMENDATIONS.schema}
    for i, cid in enumerate(customer_ids(n - skip_last)):
        picks = rng.sample(PRODUCTS, k)
        for rank, pid in enumerate(picks, start=1):
            reasons = [REASONS.get(pid, "비슷한 고객이 많이 가입한 상품입니다.").format(n=rank)]
            if i == 0 and rank == 1:
                reasons.append(LEAKY_REASON)
            rows["customer_id"].append(cid)
            rows["as_of"].append(day)
            rows["rank"].append(rank)
            rows["product_id"].append(pid)
            rows["score"].append(round(1.0 / rank, 4))
            rows["reasons"].append(reasons)
            rows["evidence_ids"].append([f"call:CALL{i:06d}"])
            rows["model_version"].append(model_version)
    return conform(pa.table(rows), RECOMMENDATIONS)


def write_recommendations(
    lake: Lake, n: int, model_version: str, k: int = 5, day: date = AS_OF, skip_last: int = 1
) -> Path:
    """Write batch scores under LAKE/recommendations/date=D/ as the recommender does."""
    table = recommendations_table(n, model_version, k, day, skip_last)
    path = lake.root / "recommendations" / f"date={day}" / "recommendations.parquet"
    atomic_write_parquet(table, path)
    return path


def write_signals(lake: Lake, n: int) -> Path:
    """Masked intent and interest signals in the SIGNALS contract (one raw RRN slipped in, for defence tests)."""
    rows: dict[str, list] = {f.name: [] for f in SIGNALS.schema}
    base = datetime(2025, 6, 1, tzinfo=UTC)
    for i, cid in enumerate(customer_ids(n)):
        for j, label in enumerate(INTENTS[: 1 + i % 3]):
            rows["customer_id"].append(cid)
            rows["ts"].append(base + timedelta(days=j + i % 20))
            rows["source"].append("call")
            rows["source_id"].append(f"CALL{i:06d}")
            rows["kind"].append("intent")
            rows["label"].append(label)
            rows["score"].append(0.9 - 0.1 * j)
            ev = LEAKY_EVIDENCE if i == 0 and j == 0 else "전세 대출 한도가 얼마나 되는지 궁금해요 [PHONE]"
            rows["evidence"].append(ev)
            rows["model_version"].append("nlp-test")
        rows["customer_id"].append(cid)
        rows["ts"].append(base)
        rows["source"].append("memo")
        rows["source_id"].append(f"T{i:08d}")
        rows["kind"].append("interest")
        rows["label"].append("travel")
        rows["score"].append(0.7)
        rows["evidence"].append("해외여행 항공권")
        rows["model_version"].append("nlp-test")
    table = conform(pa.table(rows), SIGNALS)
    path = lake.root / "signals" / f"date={AS_OF}" / "part-0.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def make_lake(root: Path, n: int = 40, model_version: str = "cdna-recommender/1") -> Lake:
    """A lake with an online store, batch scores and signals for `n` customers."""
    lake = Lake.at(root, create=True)
    write_online(lake, n)
    write_recommendations(lake, n, model_version)
    write_signals(lake, n)
    return lake
