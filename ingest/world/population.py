"""Customers of the synthetic bank: demographics, households, income and join dates (vectorised)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from cdna.core.config import RISK_PROFILES
from cdna.ingest.world.vocab import AGE_BANDS, REGIONS

__all__ = ["Population", "draw_population", "name_pool"]

HOUSEHOLDS = np.array(["single", "couple", "couple_kids", "single_parent", "with_parents", "senior"])
INCOME_BANDS = np.array(["none", "under_30m", "30_50m", "50_70m", "70_100m", "over_100m"])
INCOME_MID = np.array([0, 24e6, 40e6, 60e6, 85e6, 130e6])
OCCUPATIONS = np.array(["회사원", "공무원", "자영업", "전문직", "학생", "주부", "무직", "은퇴"])

# household probabilities by age group: <30, 30-39, 40-59, 60+
_HOUSEHOLD_P = np.array(
    [
        [0.58, 0.10, 0.02, 0.00, 0.30, 0.00],
        [0.30, 0.22, 0.40, 0.04, 0.04, 0.00],
        [0.18, 0.14, 0.56, 0.09, 0.03, 0.00],
        [0.16, 0.30, 0.08, 0.04, 0.02, 0.40],
    ]
)
# income band probabilities by age group
_INCOME_P = np.array(
    [
        [0.35, 0.35, 0.22, 0.06, 0.015, 0.005],
        [0.08, 0.18, 0.36, 0.24, 0.10, 0.04],
        [0.10, 0.15, 0.28, 0.24, 0.15, 0.08],
        [0.38, 0.30, 0.17, 0.08, 0.05, 0.02],
    ]
)

# investor risk profile (stable … aggressive) by age group: <30, 30-39, 40-59, 60+
_RISK_P = np.array(
    [
        [0.10, 0.20, 0.30, 0.25, 0.15],
        [0.10, 0.20, 0.35, 0.22, 0.13],
        [0.15, 0.25, 0.35, 0.17, 0.08],
        [0.40, 0.30, 0.20, 0.07, 0.03],
    ]
)

_SURNAMES = list("김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민진나")
_GIVEN = [
    "민준",
    "서준",
    "도윤",
    "예준",
    "시우",
    "하준",
    "지호",
    "주원",
    "지후",
    "준우",
    "서연",
    "서윤",
    "지우",
    "서현",
    "민서",
    "하은",
    "하윤",
    "윤서",
    "지유",
    "채원",
    "영수",
    "영희",
    "철수",
    "미경",
    "정훈",
    "성민",
    "현우",
    "지영",
    "은정",
    "수진",
    "상훈",
    "경희",
    "동현",
    "혜진",
    "종민",
    "미영",
    "재훈",
    "선영",
    "태호",
    "보람",
]


def name_pool(size: int = 400) -> list[str]:
    """A fixed pool of plausible Korean full names (same for every seed: it is vocabulary, not data)."""
    rng = np.random.default_rng(20240101)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < size:
        name = _SURNAMES[int(rng.integers(len(_SURNAMES)))] + _GIVEN[int(rng.integers(len(_GIVEN)))]
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


class Population:
    """Columns of one chunk of customers as numpy arrays (index i = customer i of the chunk)."""

    def __init__(
        self,
        ids: np.ndarray,
        age: np.ndarray,
        birth_days: np.ndarray,
        gender: np.ndarray,
        sido: np.ndarray,
        sigungu: np.ndarray,
        household: np.ndarray,
        income: np.ndarray,
        occupation: np.ndarray,
        join_days: np.ndarray,
        consent: np.ndarray | None = None,
        risk: np.ndarray | None = None,
    ) -> None:
        self.ids = ids
        self.age = age  # age at the end date
        self.birth_days = birth_days  # days since 1970-01-01
        self.gender = gender
        self.sido = sido
        self.sigungu = sigungu
        self.household = household  # index into HOUSEHOLDS
        self.income = income  # index into INCOME_BANDS
        self.occupation = occupation
        self.join_days = join_days
        self.consent = consent if consent is not None else np.ones(len(ids), dtype=bool)  # marketing consent
        self.risk = risk if risk is not None else np.full(len(ids), -1)  # index into RISK_PROFILES, -1 = none

    def __len__(self) -> int:
        return len(self.ids)

    def to_table(self) -> pa.Table:
        """The customers table (contract `customers`)."""
        n = len(self)
        return pa.table(
            {
                "customer_id": pa.array(self.ids, pa.string()),
                "birth_date": pa.array(self.birth_days.astype("int32"), pa.int32()).cast(pa.date32()),
                "gender": pa.array(self.gender, pa.string()),
                "region_sido": pa.array(self.sido, pa.string()),
                "region_sigungu": pa.array(self.sigungu, pa.string()),
                "household": pa.array(HOUSEHOLDS[self.household], pa.string()),
                "income_band": pa.array(INCOME_BANDS[self.income], pa.string()),
                "occupation": pa.array(self.occupation, pa.string()),
                "join_date": pa.array(self.join_days.astype("int32"), pa.int32()).cast(pa.date32()),
                "ingested_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
                "marketing_consent": pa.array(self.consent, pa.bool_()),
                "risk_profile": pa.array(
                    [RISK_PROFILES[r] if r >= 0 else None for r in self.risk], pa.string()
                ),
            }
        )


def _age_group(age: np.ndarray) -> np.ndarray:
    return np.select([age < 30, age < 40, age < 60], [0, 1, 2], 3)


def _rows_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix."""
    cum = probs.cumsum(axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return (u > cum).sum(axis=1)


def draw_population(rng: np.random.Generator, first: int, n: int, end: date, start: date) -> Population:
    """Draw `n` customers numbered from `first` (ids C0000001 …)."""
    ids = np.array([f"C{i:07d}" for i in range(first + 1, first + n + 1)])
    bands = np.array([b[2] for b in AGE_BANDS])
    band = rng.choice(len(AGE_BANDS), size=n, p=bands / bands.sum())
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    age = rng.integers(lo, hi + 1)
    end_days = (end - date(1970, 1, 1)).days
    birth_days = end_days - (age * 365.25).astype(np.int64) - rng.integers(0, 365, size=n)
    gender = np.where(rng.random(n) < 0.51, "F", "M")
    shares = np.array([r[1] for r in REGIONS])
    sido_idx = rng.choice(len(REGIONS), size=n, p=shares / shares.sum())
    sido = np.array([r[0] for r in REGIONS])[sido_idx]
    pick = rng.random(n)
    sigungu = np.array(
        [REGIONS[s][2][int(p * len(REGIONS[s][2]))] for s, p in zip(sido_idx, pick, strict=True)]
    )
    group = _age_group(age)
    household = _rows_choice(rng, _HOUSEHOLD_P[group])
    income = _rows_choice(rng, _INCOME_P[group])
    occ_p = np.where(
        income[:, None] == 0,
        np.where(
            age[:, None] < 26,
            [0, 0, 0, 0, 0.7, 0.05, 0.25, 0],
            np.where(
                age[:, None] >= 60, [0, 0, 0.05, 0, 0, 0.25, 0.1, 0.6], [0, 0, 0.05, 0, 0.05, 0.5, 0.4, 0]
            ),
        ),
        [0.62, 0.10, 0.16, 0.10, 0.0, 0.0, 0.0, 0.02],
    )
    occupation = OCCUPATIONS[_rows_choice(rng, occ_p.astype(float))]
    # Tenure: most customers have banked here for years; about 8% joined during the generated history.
    start_days = (start - date(1970, 1, 1)).days
    max_tenure = np.maximum((age - 18) * 365, 30)
    tenure = np.minimum(rng.exponential(9 * 365, size=n), max_tenure).astype(np.int64)
    recent = rng.random(n) < 0.08
    join_days = np.where(recent, rng.integers(start_days, end_days - 30, size=n), start_days - tenure - 1)
    consent, risk = _consent_and_risk(rng.spawn(1)[0], group)
    return Population(
        ids, age, birth_days, gender, sido, sigungu, household, income, occupation, join_days, consent, risk
    )


def _consent_and_risk(rng: np.random.Generator, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marketing consent (~15% opt out, more among seniors) and the assessed risk profile (issue 16).

    Drawn from a child generator, so every other table of a seed stays byte-identical to before.
    """
    opt_out = rng.random(len(group)) < np.where(group == 3, 0.22, 0.13)
    risk = _rows_choice(rng, _RISK_P[group])
    risk = np.where(rng.random(len(group)) < 0.2, -1, risk)  # one in five never took the assessment
    return ~opt_out, risk
