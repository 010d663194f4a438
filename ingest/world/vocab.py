"""Vocabulary of the synthetic bank: regions, merchants and memos, web pages, life events.

Weights are rough public shares (행정안전부 주민등록 인구, 2024) and plausible Korean retail-bank
behaviour; they are data, tuned so that the generated bank looks like a real one in aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGE_BANDS",
    "DAILY_MEMOS",
    "EVENTS",
    "LifeEvent",
    "MemoItem",
    "NOISE_INTENTS",
    "REGIONS",
    "WEB_PAGES",
]

# (sido, population share, [sigungu ...])
REGIONS: list[tuple[str, float, list[str]]] = [
    (
        "서울특별시",
        0.185,
        [
            "강남구",
            "송파구",
            "마포구",
            "관악구",
            "노원구",
            "강서구",
            "영등포구",
            "성북구",
            "은평구",
            "서초구",
            "동작구",
            "광진구",
        ],
    ),
    (
        "경기도",
        0.265,
        [
            "수원시 영통구",
            "성남시 분당구",
            "용인시 수지구",
            "고양시 일산동구",
            "화성시",
            "부천시",
            "남양주시",
            "안산시 단원구",
            "평택시",
            "의정부시",
            "김포시",
            "파주시",
        ],
    ),
    ("인천광역시", 0.058, ["연수구", "남동구", "부평구", "서구", "미추홀구"]),
    ("부산광역시", 0.064, ["해운대구", "부산진구", "동래구", "사하구", "북구", "수영구"]),
    ("대구광역시", 0.046, ["수성구", "달서구", "북구", "동구"]),
    ("광주광역시", 0.028, ["북구", "광산구", "서구", "남구"]),
    ("대전광역시", 0.028, ["유성구", "서구", "중구", "대덕구"]),
    ("울산광역시", 0.021, ["남구", "중구", "북구", "울주군"]),
    ("세종특별자치시", 0.007, ["세종시"]),
    ("강원특별자치도", 0.030, ["춘천시", "원주시", "강릉시"]),
    ("충청북도", 0.031, ["청주시 흥덕구", "충주시", "제천시"]),
    ("충청남도", 0.042, ["천안시 서북구", "아산시", "서산시", "당진시"]),
    ("전북특별자치도", 0.034, ["전주시 완산구", "익산시", "군산시"]),
    ("전라남도", 0.035, ["여수시", "순천시", "목포시", "광양시"]),
    ("경상북도", 0.050, ["포항시 남구", "구미시", "경산시", "경주시"]),
    ("경상남도", 0.063, ["창원시 성산구", "김해시", "양산시", "진주시", "거제시"]),
    ("제주특별자치도", 0.013, ["제주시", "서귀포시"]),
]

# (low age, high age, share of adult customers)
AGE_BANDS: list[tuple[int, int, float]] = [
    (19, 24, 0.08),
    (25, 29, 0.10),
    (30, 34, 0.10),
    (35, 39, 0.10),
    (40, 44, 0.10),
    (45, 49, 0.10),
    (50, 54, 0.10),
    (55, 59, 0.09),
    (60, 64, 0.08),
    (65, 69, 0.07),
    (70, 79, 0.06),
    (80, 88, 0.02),
]


@dataclass(frozen=True)
class MemoItem:
    """One memo/merchant pattern with its amount range in KRW (log-uniform) and money direction."""

    memo: str
    merchant: str
    low: float
    high: float
    direction: str = "out"
    channel: str = "card"


def _m(
    memo: str, merchant: str, low: float, high: float, direction: str = "out", channel: str = "card"
) -> MemoItem:
    return MemoItem(memo, merchant, low, high, direction, channel)


# Everyday spending and transfers everyone makes (the background against which life events stand out).
DAILY_MEMOS: list[tuple[MemoItem, float]] = [
    (_m("스타벅스", "스타벅스코리아", 4500, 18000), 0.10),
    (_m("GS25", "GS리테일", 1500, 25000), 0.09),
    (_m("CU", "BGF리테일", 1500, 25000), 0.08),
    (_m("세븐일레븐", "코리아세븐", 1500, 20000), 0.03),
    (_m("이마트", "이마트", 15000, 250000), 0.06),
    (_m("홈플러스", "홈플러스", 15000, 200000), 0.03),
    (_m("쿠팡", "쿠팡", 8000, 150000), 0.10),
    (_m("배달의민족", "우아한형제들", 12000, 45000), 0.07),
    (_m("요기요", "위대한상상", 12000, 40000), 0.02),
    (_m("올리브영", "CJ올리브영", 8000, 80000), 0.03),
    (_m("다이소", "아성다이소", 2000, 30000), 0.03),
    (_m("마켓컬리", "컬리", 20000, 120000), 0.02),
    (_m("네이버페이", "네이버파이낸셜", 5000, 200000, channel="online"), 0.05),
    (_m("카카오페이", "카카오페이", 5000, 200000, channel="online"), 0.04),
    (_m("약국", "온누리약국", 3000, 40000), 0.02),
    (_m("내과의원", "연세내과의원", 5000, 30000), 0.02),
    (_m("치과", "미소치과의원", 20000, 300000), 0.005),
    (_m("주유소", "SK에너지", 40000, 110000), 0.03),
    (_m("GS칼텍스", "GS칼텍스", 40000, 110000), 0.02),
    (_m("ATM출금", "", 50000, 500000, channel="atm"), 0.03),
    (_m("CGV", "CJ CGV", 12000, 40000), 0.02),
    (_m("교보문고", "교보문고", 12000, 60000), 0.01),
    (_m("키움증권", "키움증권", 100000, 3000000, channel="transfer"), 0.01),
    (_m("삼성증권", "삼성증권", 100000, 3000000, channel="transfer"), 0.005),
    (_m("업비트", "두나무", 50000, 2000000, channel="transfer"), 0.005),
    (_m("축의금", "", 50000, 200000, channel="transfer"), 0.01),
    (_m("부의금", "", 50000, 100000, channel="transfer"), 0.005),
    (_m("회비", "", 10000, 100000, channel="transfer"), 0.02),
    (_m("이자", "", 100, 50000, direction="in", channel="interest"), 0.02),
    (_m("당근페이", "당근마켓", 5000, 150000, channel="online"), 0.02),
    (_m("무신사", "무신사", 30000, 200000, channel="online"), 0.02),
    (_m("KTX", "한국철도공사", 20000, 120000, channel="online"), 0.01),
]

# Monthly regular items: (memo item, who has it — decided per customer in the generator)
SALARY = _m("급여", "", 1.0, 1.0, direction="in", channel="transfer")
RENT = _m("월세", "", 350000, 1200000, channel="transfer")
MAINTENANCE = _m("관리비", "아파트관리사무소", 120000, 450000, channel="auto_debit")
INSURANCE = [
    _m("삼성생명 보험료", "삼성생명", 50000, 300000, channel="auto_debit"),
    _m("한화생명 보험료", "한화생명", 50000, 250000, channel="auto_debit"),
    _m("DB손보 실손보험료", "DB손해보험", 20000, 90000, channel="auto_debit"),
    _m("현대해상 보험료", "현대해상", 30000, 150000, channel="auto_debit"),
]
TELECOM = [
    _m("SKT 통신요금", "SK텔레콤", 35000, 110000, channel="auto_debit"),
    _m("KT 통신요금", "KT", 35000, 110000, channel="auto_debit"),
    _m("LGU+ 통신요금", "LG유플러스", 35000, 110000, channel="auto_debit"),
]
SAVINGS_DEBIT = _m("적금자동이체", "", 100000, 1000000, channel="auto_debit")
PENSION_IN = _m("국민연금 노령연금", "국민연금공단", 400000, 1500000, direction="in", channel="transfer")

# Web / app page categories and the background share of views each gets.
WEB_PAGES: list[tuple[str, float]] = [
    ("로그인", 0.20),
    ("계좌조회", 0.22),
    ("이체", 0.18),
    ("카드혜택", 0.06),
    ("이벤트", 0.07),
    ("예적금상품", 0.05),
    ("대출금리조회", 0.03),
    ("전세대출", 0.01),
    ("주택담보대출", 0.01),
    ("신용대출", 0.015),
    ("자동차대출", 0.005),
    ("환율조회", 0.03),
    ("해외송금", 0.01),
    ("펀드/ISA", 0.02),
    ("연금상품", 0.01),
    ("고객센터", 0.03),
    ("내정보관리", 0.03),
]

# Calls anyone may make, unrelated to a life event (with their share among such calls).
NOISE_INTENTS: list[tuple[str, float]] = [
    ("card_lost", 0.14),
    ("banking_outage", 0.14),
    ("other", 0.17),
    ("personal_info_change", 0.10),
    ("complaint", 0.09),
    ("fraud_report", 0.05),
    ("deposit_maturity", 0.10),
    ("loan_repayment_rate", 0.09),
    ("card_limit", 0.07),
    ("card_issue", 0.05),
]


@dataclass(frozen=True)
class LifeEvent:
    """A hidden life event: who it happens to, and the traces and adoptions it causes.

    Attributes:
        id: event id used in `_truth/`.
        name: Korean name.
        min_age / max_age: ages it happens at.
        households: household types it happens in (empty = any).
        weight: relative frequency among eligible customers.
        memos: (memo item, mean count) drawn around the event (−60 … +45 days).
        intents: call intents a customer may call about before acting.
        call_prob: probability the customer calls about it.
        web_pages: web page categories visited about it.
        web_prob: probability of extra visits.
        products: (product id, adoption probability) opened after the event with a lag.
    """

    id: str
    name: str
    min_age: int
    max_age: int
    households: tuple[str, ...]
    weight: float
    memos: tuple[tuple[MemoItem, float], ...]
    intents: tuple[str, ...]
    call_prob: float
    web_pages: tuple[str, ...]
    web_prob: float
    products: tuple[tuple[str, float], ...]


EVENTS: list[LifeEvent] = [
    LifeEvent(
        "marriage",
        "결혼",
        26,
        40,
        ("single", "with_parents"),
        1.0,
        (
            (_m("웨딩홀 계약금", "더채플웨딩홀", 1000000, 5000000), 1.0),
            (_m("스드메 패키지", "아이니웨딩", 1500000, 4000000), 0.9),
            (_m("예물 반지", "골든듀", 800000, 4000000), 0.8),
            (_m("혼수 가전", "삼성디지털프라자", 1000000, 6000000), 0.9),
            (_m("청첩장", "바른손카드", 100000, 400000), 0.6),
            (_m("신혼여행 항공권", "대한항공", 1200000, 4000000, channel="online"), 0.7),
            (_m("한복대여", "한복나래", 100000, 400000), 0.3),
        ),
        ("jeonse_loan_inquiry", "deposit_open", "card_issue"),
        0.6,
        ("전세대출", "예적금상품", "대출금리조회"),
        0.35,
        (("jeonse_loan", 0.45), ("installment_savings", 0.25), ("credit_card", 0.2)),
    ),
    LifeEvent(
        "birth",
        "출산",
        26,
        43,
        ("couple", "couple_kids"),
        1.0,
        (
            (_m("산부인과", "미즈메디병원", 30000, 300000), 2.5),
            (_m("산후조리원", "더블리스산후조리원", 2000000, 5000000), 0.8),
            (_m("베이비용품", "아가방앤컴퍼니", 30000, 300000), 2.0),
            (_m("기저귀 분유", "쿠팡 맘스", 30000, 150000, channel="online"), 2.5),
            (_m("소아과", "우리아이소아청소년과", 5000, 40000), 1.5),
        ),
        ("deposit_open", "personal_info_change"),
        0.5,
        ("예적금상품",),
        0.3,
        (("kids_savings", 0.55), ("installment_savings", 0.15), ("isa", 0.08)),
    ),
    LifeEvent(
        "move",
        "이사/전세",
        25,
        62,
        (),
        1.3,
        (
            (_m("부동산 중개수수료", "행복공인중개사", 500000, 4000000, channel="transfer"), 1.0),
            (_m("포장이사", "영구크린", 800000, 2500000), 0.9),
            (_m("인테리어", "한샘", 1000000, 8000000), 0.5),
            (_m("전세보증금 계약금", "", 5000000, 30000000, channel="transfer"), 0.7),
            (_m("입주청소", "청소연구소", 200000, 500000), 0.5),
        ),
        ("jeonse_loan_inquiry", "mortgage_inquiry", "personal_info_change"),
        0.6,
        ("전세대출", "주택담보대출", "대출금리조회"),
        0.4,
        (("jeonse_loan", 0.35), ("mortgage", 0.30), ("credit_loan", 0.08)),
    ),
    LifeEvent(
        "child_school",
        "자녀 진학",
        35,
        56,
        ("couple_kids", "single_parent"),
        1.0,
        (
            (_m("학원비", "대치수학학원", 300000, 900000), 3.0),
            (_m("교복", "스마트학생복", 200000, 500000), 0.6),
            (_m("학습지", "구몬학습", 50000, 150000), 1.5),
            (_m("입학금 등록금", "", 500000, 5000000, channel="transfer"), 0.6),
        ),
        ("credit_loan_overdraft", "deposit_open"),
        0.5,
        ("신용대출", "대출금리조회"),
        0.3,
        (("overdraft", 0.35), ("credit_loan", 0.2), ("kids_savings", 0.12)),
    ),
    LifeEvent(
        "travel_abroad",
        "해외여행/유학",
        20,
        68,
        (),
        1.2,
        (
            (_m("항공권", "아시아나항공", 400000, 2500000, channel="online"), 1.0),
            (_m("면세점", "신라면세점", 100000, 1500000), 1.0),
            (_m("AGODA 해외결제", "AGODA", 100000, 1200000, channel="overseas"), 1.2),
            (_m("환전", "", 300000, 3000000, channel="transfer"), 0.8),
            (_m("UNIQLO TOKYO 해외결제", "UNIQLO", 30000, 200000, channel="overseas"), 0.8),
            (_m("인천공항 주차", "인천국제공항공사", 20000, 120000), 0.4),
        ),
        ("fx_remittance", "card_limit", "card_issue"),
        0.5,
        ("환율조회", "해외송금", "카드혜택"),
        0.35,
        (("fx_deposit", 0.5), ("credit_card", 0.2)),
    ),
    LifeEvent(
        "car",
        "차량 구매",
        25,
        62,
        (),
        0.8,
        (
            (_m("현대자동차 계약금", "현대자동차", 1000000, 3000000, channel="transfer"), 0.8),
            (_m("중고차 계약금", "K Car", 1000000, 5000000, channel="transfer"), 0.3),
            (_m("자동차보험", "삼성화재 다이렉트", 500000, 1500000, channel="online"), 0.9),
            (_m("하이패스 충전", "한국도로공사", 30000, 100000), 1.0),
            (_m("카센터 썬팅", "오토큐", 150000, 600000), 0.5),
        ),
        ("auto_loan_inquiry", "credit_loan_overdraft"),
        0.55,
        ("자동차대출", "대출금리조회"),
        0.35,
        (("auto_loan", 0.5), ("credit_card", 0.1)),
    ),
    LifeEvent(
        "retirement",
        "은퇴 준비",
        50,
        67,
        (),
        1.0,
        (
            (_m("퇴직금", "", 30000000, 150000000, direction="in", channel="transfer"), 0.4),
            (_m("국민연금 상담", "국민연금공단", 1000, 1000, channel="transfer"), 0.2),
            (_m("연금저축 납입", "", 300000, 1500000, channel="transfer"), 0.6),
            (_m("건강검진", "KMI한국의학연구소", 200000, 800000), 0.6),
        ),
        ("invest_pension", "deposit_maturity"),
        0.6,
        ("연금상품", "펀드/ISA"),
        0.35,
        (("irp", 0.4), ("pension_savings", 0.35), ("term_deposit", 0.25), ("isa", 0.15)),
    ),
]
