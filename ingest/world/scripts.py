"""Korean two-party call-center scripts with fake personal data, and ASR-like noise.

The synthetic bank's calls are written here as turn lists (agent ↔ customer). Every script carries the
customer's fake personal data (name, birth date or resident number, phone, sometimes card or account
number, e-mail, address) the way people say it on the phone, so that the NLP stage has something real to
mask. :func:`asr_like` then degrades clean text the way Whisper-style ASR output differs from a script.

Everything here is pure and deterministic given the numpy ``Generator``. For speed, each public function
draws one block of uniforms from the generator and spends them in Python (a numpy call per decision would
cost more than the whole script).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

__all__ = [
    "Persona",
    "Turn",
    "asr_like",
    "call_script",
    "make_persona",
    "spoken_digits",
]


@dataclass(frozen=True)
class Turn:
    """One utterance in a call.

    Attributes:
        speaker: ``"agent"`` or ``"customer"``.
        text: what was said, in Korean.
    """

    speaker: Literal["agent", "customer"]
    text: str


@dataclass(frozen=True)
class Persona:
    """Fake personal data of one customer, spoken during identity checks and masked later by NLP.

    Attributes:
        name: Korean full name, e.g. ``"김민지"``.
        phone: ``"010-1234-5678"`` (mobile) or a landline such as ``"02-345-6789"``.
        rrn: resident registration number ``"900315-2123456"``, consistent with the birth date and
            gender (7th digit 1/2 for the 1900s, 3/4 for the 2000s, odd = male) and with a valid check digit.
        card: 16-digit Luhn-valid card number ``"1234-5678-9012-3456"``.
        account: bank account number in one of the common Korean layouts, e.g. ``"110-234-567890"``.
        email: e-mail address built from the romanised name.
        address: road-name address, e.g. ``"서울특별시 마포구 월드컵북로 12길 34, 501호"``.
    """

    name: str
    phone: str
    rrn: str
    card: str
    account: str
    email: str
    address: str


_T = TypeVar("_T")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _alts(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# ---------------------------------------------------------------------------------------------------------
# randomness: one block of uniforms per call, spent in Python


class _Dice:
    """Deterministic draws from a pre-fetched block of uniforms (refilled from the generator if spent)."""

    __slots__ = ("_rng", "_buf", "_i", "_n")

    def __init__(self, rng: np.random.Generator, n: int = 192) -> None:
        self._rng = rng
        self._buf: list[float] = rng.random(n).tolist()
        self._i = 0
        self._n = n

    def u(self) -> float:
        i = self._i
        if i >= self._n:
            self._buf = self._rng.random(self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.u() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def randint(self, lo: int, hi: int) -> int:
        """Uniform integer in ``[lo, hi]`` (inclusive)."""
        return lo + int(self.u() * (hi - lo + 1))

    def digits(self, k: int) -> str:
        return f"{int(self.u() * 10**k):0{k}d}"


# ---------------------------------------------------------------------------------------------------------
# Korean numerals and particles

_DIGIT_WORD = ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_SINO = ("", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_MONTH_WORD = _alts("|일월|이월|삼월|사월|오월|유월|칠월|팔월|구월|시월|십일월|십이월")
# Whether the Korean reading of each digit ends in a consonant (decides 이요/요, 이에요/예요, 으로/로).
_DIGIT_BATCHIM = (True, True, False, True, False, False, True, True, True, False)


def _under_10k(n: int) -> str:
    out = []
    for unit, name in ((1000, "천"), (100, "백"), (10, "십")):
        q, n = divmod(n, unit)
        if q:
            out.append(name if q == 1 else _SINO[q] + name)
    if n:
        out.append(_SINO[n])
    return "".join(out)


def _sino(n: int) -> str:
    """Sino-Korean reading of a non-negative integer (``24`` → ``"이십사"``, ``10000`` → ``"만"``)."""
    if n == 0:
        return "영"
    parts = []
    for unit, name in ((10**12, "조"), (10**8, "억"), (10**4, "만")):
        q, n = divmod(n, unit)
        if q:
            parts.append(("" if q == 1 and name == "만" else _under_10k(q)) + name)
    if n:
        parts.append(_under_10k(n))
    return "".join(parts)


def _ends_batchim(text: str) -> bool:
    """True when the spoken form of the last character ends in a consonant (받침)."""
    for ch in reversed(text):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 != 0
        if ch.isdigit():
            return _DIGIT_BATCHIM[ord(ch) - 48]
        if ch.isalpha():
            return ch.lower() in "lmnbkgpt"
        if ch == "%":
            return False
    return True


def _iyo(text: str) -> str:
    return text + ("이요" if _ends_batchim(text) else "요")


def _ieyo(text: str) -> str:
    return text + ("이에요" if _ends_batchim(text) else "예요")


def _igo(text: str) -> str:
    return text + ("이고요" if _ends_batchim(text) else "고요")


def _spoken(digits: str, d: _Dice, *, dash_words: Sequence[str] = (" ", " ", "에 ", " 다시 ")) -> str:
    """Digit-by-digit Korean reading; ``-`` and spaces in ``digits`` are group boundaries."""
    zero = "영" if d.chance(0.15) else "공"
    sep = d.pick(dash_words)
    groups = [g for g in re.split(r"[\s\-]+", digits) if g]
    out = []
    for g in groups:
        words = [zero if c == "0" else _DIGIT_WORD[ord(c) - 48] for c in g if c.isdigit()]
        if not words:
            continue
        if len(groups) == 1 and len(words) > 4:
            # An ungrouped run is chunked the way people read it out: 3-4 digits per breath.
            chunks, i = [], 0
            while i < len(words):
                k = d.randint(2, 4) if len(words) - i > 4 else len(words) - i
                chunks.append("".join(words[i : i + k]))
                i += k
            out.append(" ".join(chunks))
        elif len(words) > 4 and d.chance(0.3):
            cut = d.randint(2, len(words) - 2)
            out.append("".join(words[:cut]) + " " + "".join(words[cut:]))
        else:
            out.append("".join(words))
    return sep.join(out).replace("  ", " ")


def spoken_digits(digits: str, rng: np.random.Generator) -> str:
    """Read a digit string as Korean sino numerals, digit by digit, grouped like a person on the phone.

    ``0`` is read 공 (mostly) or 영. Dashes and spaces are group boundaries, spoken as a pause, "에" or
    "다시"; long ungrouped runs are cut into chunks of two to four digits.

    Args:
        digits: digits, optionally grouped with ``-`` or spaces (``"010-1234-5678"``, ``"900315"``).
        rng: random source; the same generator state gives the same reading.

    Returns:
        The spoken form, e.g. ``"공일공 일이삼사 오육칠팔"`` or ``"구공공삼일오 다시 이일이삼사오육"``.

    Raises:
        ValueError: ``digits`` contains no digit.
    """
    if not any(c.isdigit() for c in digits):
        raise ValueError(f"spoken_digits needs at least one digit, got {digits!r}")
    return _spoken(digits, _Dice(rng, 16))


# ---------------------------------------------------------------------------------------------------------
# personas

# (surname, romanisation, weight ‰) — roughly the 2015 census shares of the commonest surnames.
_SURNAMES = (
    ("김", "kim", 215),
    ("이", "lee", 147),
    ("박", "park", 84),
    ("최", "choi", 47),
    ("정", "jung", 43),
    ("강", "kang", 23),
    ("조", "cho", 21),
    ("윤", "yoon", 20),
    ("장", "jang", 19),
    ("임", "lim", 16),
    ("한", "han", 15),
    ("오", "oh", 15),
    ("서", "seo", 15),
    ("신", "shin", 14),
    ("권", "kwon", 14),
    ("황", "hwang", 13),
    ("안", "ahn", 13),
    ("송", "song", 13),
    ("전", "jeon", 11),
    ("홍", "hong", 11),
    ("유", "yoo", 11),
    ("고", "ko", 9),
    ("문", "moon", 9),
    ("양", "yang", 8),
    ("손", "son", 8),
    ("배", "bae", 8),
    ("백", "baek", 7),
    ("허", "heo", 6),
    ("남", "nam", 5),
    ("심", "shim", 5),
    ("노", "noh", 5),
    ("하", "ha", 5),
    ("곽", "kwak", 4),
    ("성", "sung", 4),
    ("차", "cha", 4),
    ("주", "joo", 4),
    ("우", "woo", 4),
    ("민", "min", 3),
    ("류", "ryu", 3),
    ("진", "jin", 3),
)
_SURNAME_CUM: tuple[float, ...] = tuple(np.cumsum([w for *_, w in _SURNAMES]) / sum(w for *_, w in _SURNAMES))

# Given names by birth cohort (popular names of each era), male / female.
_GIVEN = {
    ("old", "M"): _words(
        "영수 영호 영철 정호 상철 성호 종호 정수 광수 병철 재호 용수 기철 동수 만수 순철 춘식 경호 성수 명수"
    ),
    ("old", "F"): _words(
        "영희 정숙 순자 미경 경희 영숙 정희 미숙 혜숙 명숙 경숙 은주 숙자 옥순 정자 순희 현숙 영미 미영 선희"
    ),
    ("mid", "M"): _words(
        "지훈 성민 현우 준영 동현 상우 정훈 민수 재훈 성진 준호 승현 종민 태현 민석 우진 진우 재현 석진 상현"
    ),
    ("mid", "F"): _words(
        "지영 수진 은정 민지 지은 혜진 유진 선영 미진 지현 은영 소영 현정 수연 보람 은지 민정 하나 혜원 지혜"
    ),
    ("new", "M"): _words(
        "민준 서준 도윤 예준 시우 하준 주원 지호 지후 준우 건우 도현 우진 현준 선우 유준 연우 정우 승우 민재"
    ),
    ("new", "F"): _words(
        "서연 서윤 지우 하은 민서 지유 수아 채원 지민 윤서 다은 예은 수빈 소율 하윤 예린 지아 유나 시은 나은"
    ),
}

_INITIALS = _alts("g|kk|n|d|tt|r|m|b|pp|s|ss||j|jj|ch|k|t|p|h")
_MEDIALS = _words("a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i")
_FINALS = _alts("|k|k|k|n|n|n|t|l|k|m|l|l|l|p|l|m|p|p|t|t|ng|t|t|k|t|p|t")


def _romanise(hangul: str) -> str:
    """Revised Romanisation, syllable by syllable (no sound-change rules; good enough for e-mail ids)."""
    out = []
    for ch in hangul:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _MEDIALS[(code % 588) // 28] + _FINALS[code % 28])
    return "".join(out)


# Province-level names as they may arrive (short or official) → (official name, landline area code).
_SIDO = {
    "서울": ("서울특별시", "02"),
    "부산": ("부산광역시", "051"),
    "대구": ("대구광역시", "053"),
    "인천": ("인천광역시", "032"),
    "광주": ("광주광역시", "062"),
    "대전": ("대전광역시", "042"),
    "울산": ("울산광역시", "052"),
    "세종": ("세종특별자치시", "044"),
    "경기": ("경기도", "031"),
    "강원": ("강원특별자치도", "033"),
    "충북": ("충청북도", "043"),
    "충남": ("충청남도", "041"),
    "전북": ("전북특별자치도", "063"),
    "전남": ("전라남도", "061"),
    "경북": ("경상북도", "054"),
    "경남": ("경상남도", "055"),
    "제주": ("제주특별자치도", "064"),
}


def _sido_key(sido: str) -> str | None:
    s = sido.strip()
    head = s[:2]
    if head in ("충청", "전라", "경상") and len(s) >= 3:
        return head[0] + s[2]
    return head if head in _SIDO else None


_ROADS = _words(
    "중앙로 세종대로 테헤란로 월드컵북로 한강대로 문화로 시청로 번영로 신촌로 대학로 공원로 역전로 "
    "충장로 동성로 해운대로 구월로 둔산로 삼일대로 은행로 새마을로 평화로 행복로 봉은사로 도산대로 "
    "경수대로 판교역로 광교중앙로 송도과학로 수성로 금강로"
)
_APTS = _words("래미안 자이 힐스테이트 푸르지오 e편한세상 아이파크 롯데캐슬 더샵 주공 현대 한신 SK뷰")
_EMAIL_DOMAINS = (
    ("naver.com",) * 9 + ("gmail.com",) * 5 + ("daum.net", "daum.net", "hanmail.net", "nate.com", "kakao.com")
)
_ACCOUNT_LAYOUTS: tuple[Callable[[_Dice], str], ...] = (
    lambda d: f"110-{d.digits(3)}-{d.digits(6)}",  # 신한
    lambda d: f"1002-{d.digits(3)}-{d.digits(6)}",  # 우리
    lambda d: f"{d.digits(6)}-{d.pick(('01', '02', '04', '25'))}-{d.digits(6)}",  # 국민
    lambda d: (
        f"{d.pick(('301', '302', '351', '352', '356'))}-{d.digits(4)}-{d.digits(4)}-{d.digits(2)}"
    ),  # 농협
    lambda d: f"{d.digits(3)}-{d.digits(6)}-{d.digits(5)}",  # 하나
    lambda d: f"{d.digits(3)}-{d.digits(6)}-{d.digits(2)}-{d.digits(3)}",  # 기업
    lambda d: f"3333-{d.digits(2)}-{d.digits(7)}",  # 카카오뱅크
)
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def _luhn_check_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        v = ord(c) - 48
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def _gender_code(gender: str) -> str:
    g = gender.strip().lower()
    if g in ("m", "male", "man", "남", "남성", "남자", "1"):
        return "M"
    if g in ("f", "female", "woman", "여", "여성", "여자", "2"):
        return "F"
    raise ValueError(f"gender must be one of M/F, male/female, 남/여; got {gender!r}")


def make_persona(
    rng: np.random.Generator, birth_date: datetime.date, gender: str, sido: str, sigungu: str
) -> Persona:
    """Make the fake personal data of one customer.

    Args:
        rng: random source; the same generator state gives the same persona.
        birth_date: the customer's birth date (drives the resident number and the era of the given name).
        gender: ``"M"``/``"F"`` (also accepted: ``male``/``female``, ``남``/``여``).
        sido: province-level region, short (``"서울"``) or official (``"서울특별시"``).
        sigungu: district, e.g. ``"마포구"``; used verbatim in the address.

    Returns:
        A :class:`Persona` whose resident number matches ``birth_date`` and ``gender``.

    Raises:
        ValueError: ``gender`` is not recognised or ``birth_date`` is before 1800.
    """
    d = _Dice(rng, 64)
    sex = _gender_code(gender)
    year = birth_date.year
    if year < 1800:
        raise ValueError(f"birth_date {birth_date} is before 1800; resident numbers cannot encode it")

    u = d.u()
    k = 0
    while _SURNAME_CUM[k] < u:
        k += 1
    surname, surname_rom, _ = _SURNAMES[k]
    era = "old" if year < 1975 else "mid" if year < 1995 else "new"
    given = d.pick(_GIVEN[(era, sex)])
    name = surname + given

    key = _sido_key(sido)
    sido_full, area = _SIDO[key] if key else (sido.strip(), "02")
    if d.chance(0.08):
        if area == "02":
            phone = f"02-{d.randint(2, 9)}{d.digits(d.randint(2, 3))}-{d.digits(4)}"
        else:
            phone = f"{area}-{d.randint(2, 9)}{d.digits(2)}-{d.digits(4)}"
    else:
        phone = f"010-{d.randint(2, 9)}{d.digits(3)}-{d.digits(4)}"

    century = (9, 0) if year < 1900 else (1, 2) if year < 2000 else (3, 4)
    sex_digit = century[0] if sex == "M" else century[1]
    front = f"{year % 100:02d}{birth_date.month:02d}{birth_date.day:02d}"
    body = f"{front}{sex_digit}{d.digits(5)}"
    check = (11 - sum((ord(c) - 48) * w for c, w in zip(body, _RRN_WEIGHTS, strict=True)) % 11) % 10
    rrn = f"{front}-{body[6:]}{check}"

    first = d.pick(("4", "4", "5", "9"))
    second = str(d.randint(1, 5)) if first == "5" else str(d.randint(0, 9))
    payload = first + second + d.digits(13)
    number = payload + _luhn_check_digit(payload)
    card = "-".join(number[i : i + 4] for i in range(0, 16, 4))

    account = d.pick(_ACCOUNT_LAYOUTS)(d)

    g_rom, yy = _romanise(given), f"{year % 100:02d}"
    local = d.pick(
        (
            f"{g_rom}{surname_rom}{yy}",
            f"{surname_rom}.{g_rom}",
            f"{g_rom}_{surname_rom}{d.digits(2)}",
            f"{surname_rom}{g_rom}{birth_date.month:02d}{birth_date.day:02d}",
            f"{g_rom}{d.digits(3)}",
        )
    )
    email = f"{local}@{d.pick(_EMAIL_DOMAINS)}"

    road = d.pick(_ROADS)
    street = (
        f"{road} {d.randint(1, 60)}길 {d.randint(1, 99)}" if d.chance(0.4) else f"{road} {d.randint(1, 480)}"
    )
    district = f" {sigungu.strip()}" if sigungu.strip() else ""
    style = d.u()
    if style < 0.45:
        tail = f", {d.pick(_APTS)}아파트 {d.randint(101, 125)}동 {d.randint(1, 25)}{d.randint(1, 4):02d}호"
    elif style < 0.8:
        tail = f", {d.randint(1, 12)}{d.randint(1, 9):02d}호"
    else:
        tail = ""
    address = f"{sido_full}{district} {street}{tail}"
    return Persona(name, phone, rrn, card, account, email, address)


# ---------------------------------------------------------------------------------------------------------
# slot values: amounts, rates, dates… each drawn lazily the first time a template needs it, then reused


def _won(manwon: int, d: _Dice) -> str:
    """An amount given in 만원, written the ways people and ASR write it (2억 5천만 원, 이억 오천 …)."""
    eok, rest = divmod(manwon, 10000)
    if d.chance(0.3):
        text = (_sino(eok) + "억 " if eok else "") + (_sino(rest) + "만" if rest else "")
        text = text.strip()
    else:
        parts = [f"{eok}억"] if eok else []
        if rest:
            parts.append(f"{rest // 1000}천만" if rest % 1000 == 0 else f"{rest:,}만")
        text = " ".join(parts)
    if eok and rest and d.chance(0.25):
        text = text.removesuffix("만")
    elif d.chance(0.8) or not eok:
        text += " 원"
    return text


def _amount(lo: int, hi: int, step: int) -> Callable[[_Dice], str]:
    return lambda d: _won(step * d.randint(lo // step, hi // step), d)


def _rate(lo: float, hi: float) -> Callable[[_Dice], str]:
    def draw(d: _Dice) -> str:
        r = round(lo + d.u() * (hi - lo), 1)
        whole, frac = divmod(round(r * 10), 10)
        style = d.u()
        if style < 0.45:
            text = f"{r}%"
        elif style < 0.7:
            text = f"{r}퍼센트"
        elif style < 0.85:
            text = f"{_sino(whole)} 점 {_SINO[frac] or '영'} 퍼센트"
        else:
            text = f"{_sino(whole)} 점 {_SINO[frac] or '영'} 프로"
        return ("연 " + text) if d.chance(0.4) else text

    return draw


def _months(d: _Dice) -> str:
    m = d.pick((6, 12, 12, 24, 24, 36, 36, 48, 60))
    style = d.u()
    if m % 12 == 0 and style < 0.3:
        return f"{m // 12}년"
    return f"{_sino(m)} 개월" if style > 0.75 else f"{m}개월"


def _date(d: _Dice) -> str:
    style = d.u()
    m, day = d.randint(1, 12), d.randint(1, 28)
    if style < 0.35:
        return f"{m}월 {day}일"
    if style < 0.5:
        return f"{_MONTH_WORD[m]} {_sino(day)}일"
    return d.pick(
        (
            "다음 달 15일",
            "이번 달 말",
            "다음 주 금요일",
            "다음 달 초",
            "이번 주 수요일",
            "월말",
            "다음 달 25일",
        )
    )


def _day(d: _Dice) -> str:
    day = d.pick((1, 5, 10, 15, 20, 25))
    return f"매달 {day}일" if d.chance(0.7) else f"매월 {_sino(day)}일"


def _usd(d: _Dice) -> str:
    n = d.pick((300, 500, 800, 1000, 1500, 2000, 3000, 5000, 10000, 20000))
    unit = d.pick((" 달러", "달러", "불"))
    if n >= 1000 and n % 1000 == 0 and d.chance(0.5):
        k = n // 1000
        return (f"{k}천" if k < 10 else f"{k // 10}만") + unit
    return (f"{n:,}" if d.chance(0.6) else _sino(n)) + unit


_SLOTS: dict[str, Callable[[_Dice], str]] = {
    "amt_house": _amount(10000, 90000, 500),
    "amt_jeonse": _amount(8000, 50000, 500),
    "amt_loan": _amount(500, 10000, 100),
    "amt_car": _amount(1500, 7000, 100),
    "amt_limit": _amount(200, 3000, 100),
    "amt_deposit": _amount(300, 20000, 100),
    "amt_small": _amount(30, 900, 10),
    "amt_fraud": _amount(100, 5000, 50),
    "interest": _amount(10, 400, 1),
    "income": _amount(3000, 12000, 500),
    "amt_monthly": lambda d: d.pick(("월 ", "매달 ", "한 달에 ")) + _won(10 * d.randint(1, 20), d),
    "rate": _rate(3.2, 6.9),
    "rate_dep": _rate(2.6, 3.9),
    "rate2": _rate(9.5, 18.9),
    "months": _months,
    "mort_years": lambda d: d.pick(("30년", "40년", "35년", "삼십 년", "20년")),
    "cl_years": lambda d: d.pick(("5년", "10년", "오 년", "10년")),
    "date": _date,
    "day": _day,
    "amt_usd": _usd,
    "country": lambda d: d.pick(
        ("미국", "캐나다", "호주", "일본", "베트남", "영국", "독일", "필리핀", "뉴질랜드", "싱가포르")
    ),
    "currency": lambda d: d.pick(("달러", "엔화", "유로", "파운드", "호주 달러", "위안화")),
    "car": lambda d: d.pick(
        (
            "신형 아반떼",
            "쏘나타",
            "그랜저",
            "카니발",
            "쏘렌토",
            "투싼",
            "중고 K5",
            "테슬라 모델 Y",
            "제네시스 G80",
            "아이오닉 5",
        )
    ),
    "area": lambda d: d.pick(
        ("마포", "분당", "동탄", "해운대", "수성구", "일산", "송도", "광교", "노원", "세종", "은평", "판교")
    ),
    "housing": lambda d: d.pick(("아파트", "아파트", "빌라", "오피스텔", "구축 아파트", "신축 아파트")),
    "benefit": lambda d: d.pick(
        ("주유", "통신비", "온라인 쇼핑", "커피", "대중교통", "항공 마일리지", "편의점", "배달앱")
    ),
    "when": lambda d: d.pick(("어제 저녁", "오늘 아침", "한 시간 전", "지난 주말", "아까 점심때", "어젯밤")),
    "lost_place": lambda d: d.pick(("택시", "지하철", "식당", "회사 근처 카페", "버스", "헬스장", "마트")),
    "outage_err": lambda d: d.pick(
        ("오류 코드 E102", "처리 중 오류라는 메시지", "시스템 점검 중이라는 안내", "네트워크 오류")
    ),
    "age_word": lambda d: d.pick(("마흔다섯", "쉰", "서른여덟", "쉰다섯", "마흔", "예순")),
    "old_sido": lambda d: d.pick(("부산", "대전", "광주", "인천", "대구", "수원", "청주")),
}


class _Slots(dict):
    """format_map mapping that draws a slot value the first time it is used in a call."""

    __slots__ = ("_d",)

    def __init__(self, d: _Dice, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self._d = d

    def __missing__(self, key: str) -> str:
        value = _SLOTS[key](self._d)
        self[key] = value
        return value


# ---------------------------------------------------------------------------------------------------------
# intent content: reasons (customer opens), explanations (agent), exchanges (follow-ups, speaker-tagged)

_C, _A = "customer", "agent"


@dataclass(frozen=True)
class _Topic:
    reasons: tuple[str, ...]
    explains: tuple[str, ...]
    exchanges: tuple[tuple[tuple[str, str], ...], ...]
    products: tuple[str, ...] = ()
    by_product: tuple[tuple[str, str], ...] = ()  # (product id, reason template) to follow product_hint
    ask: str = "none"  # extra identity item: "card", "account" or "none"


def _qa(*pairs: tuple[str, str]) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(((_C, q), (_A, a)) for q, a in pairs)


_PRODUCT_NAMES = {
    "term_deposit": "정기예금",
    "installment_savings": "자유적금",
    "youth_savings": "청년도약계좌",
    "kids_savings": "아이사랑적금",
    "mortgage": "주택담보대출",
    "jeonse_loan": "전세자금대출",
    "credit_loan": "신용대출",
    "overdraft": "마이너스통장",
    "auto_loan": "자동차대출",
    "credit_card": "신용카드",
    "check_card": "체크카드",
    "fund": "펀드",
    "isa": "ISA",
    "pension_savings": "연금저축",
    "irp": "IRP",
    "fx_deposit": "외화예금",
}

_TOPICS: dict[str, _Topic] = {
    "mortgage_inquiry": _Topic(
        reasons=(
            "제가 이번에 {area}에 {housing} 하나 사려고 하는데요, 주택담보대출 한도가 얼마나 나오는지 궁금해서요.#0",
            "주담대 좀 알아보려고 전화했는데요, {amt_house} 정도 빌릴 수 있을까요?#0",
            "집을 사려고 하는데 대출을 {amt_house} 정도 받아야 될 것 같아서요. 금리가 요즘 어떻게 돼요?#1",
            "제가 {date}에 잔금을 치러야 되는데 주택담보대출 신청하려면 뭐가 필요한지 알고 싶어서요.#0@0",
            "지금 다른 은행에서 주담대를 {rate}로 쓰고 있는데 갈아타기 하면 금리가 좀 내려가나 해서요.#1",
            "혹시 생애최초로 집 사는 거면 주택담보대출 우대 금리 같은 거 있나요?#2",
            "매매가가 {amt_house}짜리 {housing}인데요, LTV가 몇 프로까지 되는지 궁금해서 전화드렸어요.#0",
            "주택담보대출 고정금리랑 변동금리 중에 뭐가 나은지 상담 좀 받고 싶은데요.#1@5",
            "주담대를 {mort_years} 만기로 받으면 한 달에 얼마씩 갚아야 되는지 알 수 있을까요?#3",
            "아파트 분양을 받았는데 중도금 말고 잔금 대출 문의 좀 드리려고요.#0",
        ),
        explains=(
            "네 고객님, 주택담보대출은 주택 가격과 소득에 따라 한도가 정해지는데요, 현재 LTV는 최대 70%, DSR은 40% 이내로 적용되고 있습니다.",
            "현재 저희 은행 주택담보대출 금리는 5년 고정형 기준으로 {rate}부터 시작하고요, 변동형은 코픽스 연동이라 조금 더 낮습니다.",
            "생애최초 주택 구입자시면 LTV를 최대 80%까지 적용받으실 수 있고, 우대금리도 0.2%포인트 정도 가능합니다.",
            "대출 기간은 최장 {mort_years}까지 가능하시고요, 원리금균등 상환이나 원금균등 상환 중에 선택하실 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "그럼 서류는 뭐 뭐 준비하면 돼요?",
                "매매계약서, 등기부등본, 그리고 소득 확인을 위한 원천징수영수증이나 소득금액증명원 준비해 주시면 됩니다.",
            ),
            (
                "중도상환수수료는 있나요?",
                "네, 3년 이내에 상환하시면 최대 1.2% 중도상환수수료가 있고 기간이 지날수록 줄어듭니다.",
            ),
            (
                "제 연봉이 {income}인데 한도가 얼마나 나올까요?",
                "DSR 40%를 적용하면 대략 {amt_house} 정도 예상되는데요, 정확한 건 심사 후에 안내드릴 수 있습니다.",
            ),
            (
                "신청은 앱으로도 되나요?",
                "네, 모바일 앱에서 한도 조회부터 신청까지 가능하시고 서류는 사진으로 제출하시면 됩니다.",
            ),
            ("승인까지 얼마나 걸려요?", "보통 서류 접수 후 영업일 기준 3일에서 5일 정도 소요됩니다."),
            (
                "고정금리로 하면 나중에 금리 내려가도 그대로예요?",
                "네, 고정 기간 동안은 약정 금리가 유지되고요, 이후에는 변동금리로 전환됩니다.",
            ),
        ),
        products=("mortgage",),
    ),
    "jeonse_loan_inquiry": _Topic(
        reasons=(
            "전세자금대출 문의드리려고요. 이번에 {area}에 전세를 {amt_jeonse}에 구했거든요.",
            "저 전세 계약을 했는데 보증금이 {amt_jeonse}라서 대출을 좀 받아야 될 것 같아요.#0",
            "버팀목 전세대출이랑 은행 전세대출이랑 뭐가 다른지 궁금해서요.#1",
            "신혼부부 전세자금대출 금리가 어떻게 되는지 알 수 있을까요?#1",
            "{date}에 입주인데 전세대출 지금 신청해도 늦지 않을까요?#2",
            "전세대출 연장하려고 하는데요, 만기가 {date}이거든요.#4",
            "전세 보증금이 {amt_jeonse}인데 한 80% 정도 대출 되나요?#0",
            "청년 전세대출 같은 거 있다고 들었는데 저도 해당되는지 알아보고 싶어서요.#1",
            "집주인이 전세대출 받는 거 동의해 준다고 했는데요, 절차가 어떻게 되나요?#2@1",
        ),
        explains=(
            "네 고객님, 전세자금대출은 보증금의 최대 80%까지, 주택도시보증공사나 서울보증 보증서를 통해 진행됩니다.",
            "현재 전세자금대출 금리는 {rate} 수준이고요, 신혼부부나 청년이시면 우대금리가 추가로 적용될 수 있습니다.",
            "전세대출은 임대차계약서와 계약금 영수증이 있으셔야 신청 가능하시고, 잔금일 기준 한 달 전부터 신청하실 수 있어요.",
            "보증기관 심사가 있어서 확정일자 받으신 계약서 사본이 꼭 필요합니다.",
            "전세대출 연장은 만기 한 달 전부터 앱이나 지점에서 신청하실 수 있고, 보증기관 연장 심사를 다시 받으셔야 합니다.",
        ),
        exchanges=_qa(
            ("기간은 얼마나 돼요?", "기본 2년이시고 계약을 연장하시면 최장 10년까지 연장 가능합니다."),
            (
                "집주인한테 따로 연락이 가나요?",
                "네, 보증기관에서 임대인께 채권양도 통지가 나가기 때문에 미리 말씀해 두시는 게 좋습니다.",
            ),
            (
                "제가 연봉 {income} 정도 버는데 한도 괜찮을까요?",
                "소득 기준으로 보면 보증금의 80% 범위 안에서는 가능할 것으로 보이는데요, 보증기관 심사 결과에 따라 달라질 수 있습니다.",
            ),
            (
                "이자는 매달 내는 거죠?",
                "네, 전세대출은 보통 만기일시상환이라 매달 이자만 내시고 원금은 만기에 갚으시면 됩니다.",
            ),
            (
                "중간에 이사 가면 어떻게 돼요?",
                "중도에 계약이 끝나면 돌려받으신 보증금으로 상환하시면 되고 중도상환수수료는 거의 없습니다.",
            ),
        ),
        products=("jeonse_loan",),
    ),
    "credit_loan_overdraft": _Topic(
        reasons=(
            "신용대출 좀 받으려고 하는데 제 한도가 얼마나 나오는지 궁금해서요.#0",
            "마이너스통장 하나 만들고 싶은데 직장인이면 바로 되나요?#2",
            "급하게 {amt_loan} 정도가 필요한데 신용대출 가능할까요?#0",
            "마통 한도를 좀 늘리고 싶어서 전화했어요. 지금 {amt_loan}인데 부족해서요.#0",
            "신용대출 금리가 요즘 몇 프로 정도 해요?#1",
            "제가 이직한 지 3개월밖에 안 됐는데 신용대출 받을 수 있나요?#3",
            "마이너스통장이랑 일반 신용대출이랑 뭐가 나아요? 이자 차이가 궁금해서요.#2",
            "비상금으로 쓸 마이너스통장 하나 열어 두려고 하는데요.#2",
            "카드론 있는 거 정리하고 싶은데 신용대출로 갈아탈 수 있을까요?#1",
        ),
        explains=(
            "네 고객님, 신용대출 한도는 소득과 신용점수에 따라 달라지는데 보통 연소득의 1배에서 1.5배 이내로 정해집니다.",
            "현재 직장인 신용대출 금리는 {rate}부터 시작하고 마이너스통장은 그보다 0.5%포인트 정도 높습니다.",
            "마이너스통장은 쓰신 금액과 기간에 대해서만 이자가 나가서 비상자금 용도로 많이들 쓰십니다.",
            "재직 기간이 6개월 이상이시면 조건이 더 좋고요, 그 전이시면 한도가 조금 낮게 나올 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "그럼 앱에서 바로 신청돼요?",
                "네, 모바일 앱에서 한도조회 후 바로 약정까지 가능하시고 당일 입금도 됩니다.",
            ),
            (
                "신용점수 떨어지지는 않나요?",
                "한도 조회만으로는 신용점수에 영향이 없으니 걱정 안 하셔도 됩니다.",
            ),
            ("중도상환수수료 있어요?", "신용대출은 중도상환수수료가 없거나 0.6% 정도로 낮은 편입니다."),
            ("기간은 얼마로 해요?", "1년 단위로 약정하시고 최장 {cl_years}까지 연장이 가능합니다."),
            (
                "급여 이체를 하면 금리 우대가 있나요?",
                "네, 급여이체와 카드 실적이 있으시면 최대 0.3%포인트 우대받으실 수 있습니다.",
            ),
        ),
        products=("credit_loan", "overdraft"),
        by_product=(
            ("credit_loan", "직장인 신용대출 {amt_loan} 정도 알아보고 있는데요, 금리가 궁금해서요.#1"),
            (
                "credit_loan",
                "신용대출 받아서 전세 보증금 부족한 거 좀 채우려고 하는데 {amt_loan} 정도 될까요?#0",
            ),
            ("overdraft", "마이너스통장 한도 {amt_loan}짜리 만들 수 있을까요?#2"),
            ("overdraft", "마통 개설하려고 하는데 한도가 얼마나 나올지 궁금해서요.#0"),
        ),
    ),
    "loan_repayment_rate": _Topic(
        reasons=(
            "대출 금리 인하 요구권 신청하려고 하는데요, 제가 연봉이 올랐거든요.#0",
            "지금 대출 금리가 {rate}인데 너무 높아서요, 좀 낮출 방법이 없을까요?#0",
            "대출을 중도에 일부 상환하고 싶은데 수수료가 얼마나 나오나요?#2",
            "이번 달 대출 이자가 갑자기 올랐던데 왜 그런지 알고 싶어서요.#1",
            "대출금 {amt_loan} 정도 먼저 갚으려고 하는데 어떻게 하면 돼요?#3",
            "변동금리에서 고정금리로 바꿀 수 있나요? 금리가 계속 올라서 불안해서요.#1@4",
            "대출 상환일을 {day}로 바꾸고 싶은데 가능할까요?#4",
            "승진해서 신용점수가 좀 올랐는데 금리 인하 신청 되나요?#0",
            "대출 만기가 {date}인데 연장하면 금리가 어떻게 되는지 궁금해요.#5",
        ),
        explains=(
            "네 고객님, 금리인하요구권은 취업, 승진, 소득 증가나 신용점수 상승이 있으시면 신청하실 수 있습니다.",
            "현재 고객님 대출은 변동금리로 6개월마다 코픽스에 따라 금리가 바뀌는 상품이세요.",
            "중도상환수수료는 대출 후 3년이 지나면 면제되고요, 그 전에는 남은 기간에 따라 비례해서 줄어듭니다.",
            "부분 상환은 앱에서 대출 관리 메뉴로 들어가시면 바로 하실 수 있습니다.",
            "상환일 변경은 1년에 한 번 가능하시고, 변경하시는 달에는 이자가 일할 계산됩니다.",
            "만기 연장 시에는 연장 시점의 기준금리와 고객님 신용도에 따라 금리가 다시 정해집니다.",
        ),
        exchanges=_qa(
            (
                "신청하면 얼마나 내려가요?",
                "심사 결과에 따라 다른데 보통 0.1에서 0.5%포인트 정도 인하되는 경우가 많습니다.",
            ),
            ("결과는 언제 알 수 있어요?", "신청일로부터 영업일 기준 10일 이내에 문자로 안내드립니다."),
            (
                "서류는 뭐가 필요해요?",
                "재직증명서나 소득금액증명원처럼 소득 변동을 확인할 수 있는 서류를 제출해 주시면 됩니다.",
            ),
            (
                "그럼 상환하면 다음 달 이자부터 줄어드는 거죠?",
                "네, 상환하신 원금만큼 다음 이자 계산부터 바로 반영됩니다.",
            ),
            (
                "고정으로 바꾸면 수수료 있어요?",
                "금리 전환은 수수료 없이 한 번 가능하시고 전환 시점의 고정금리가 적용됩니다.",
            ),
        ),
        ask="account",
    ),
    "card_issue": _Topic(
        reasons=(
            "신용카드 하나 새로 만들려고 하는데 어떤 게 좋을까요?#0",
            "체크카드 발급받고 싶은데 지점 안 가고 앱에서 되나요?#1",
            "{benefit} 혜택 많은 카드 추천 좀 해 주세요.#0",
            "카드 발급 신청했는데 언제 오는지 궁금해서요. 신청한 지 일주일 됐거든요.#2",
            "연회비 없는 {prod} 있나요?#3",
            "해외에서 쓸 카드가 필요한데 해외 결제 수수료 없는 카드 있어요?#4@2",
            "대학생인데 체크카드 만들 수 있어요? 교통카드 기능도 되는 걸로요.#1@1",
            "카드를 새로 발급받았는데 등록이랑 비밀번호 설정을 어떻게 하는지 모르겠어요.#5",
            "남편 가족카드를 하나 발급하고 싶어서요.#6",
        ),
        explains=(
            "네 고객님, {benefit} 할인을 원하시면 전월 실적 30만 원 이상일 때 최대 10% 할인되는 카드가 인기가 많습니다.",
            "체크카드는 만 14세 이상이시면 모바일 앱에서 바로 신청하실 수 있고, 5영업일 안에 배송됩니다.",
            "신용카드는 소득 심사가 있어서 영업일 기준 2일에서 3일 정도 걸리고, 승인되면 등기로 발송됩니다.",
            "연회비는 국내 전용 만 원, 해외 겸용 만 오천 원이고 첫해는 면제해 드리고 있습니다.",
            "해외 겸용 카드 중에 해외 결제 수수료를 면제해 주는 트래블 카드가 있고, 환전 수수료 없이 외화 충전도 가능합니다.",
            "카드 수령 후 앱의 카드 등록 메뉴에서 카드 뒷면 번호를 입력하시면 비밀번호 설정까지 바로 하실 수 있습니다.",
            "가족카드는 본인 회원 명의로 배우자나 자녀분께 발급되고, 이용 대금은 본인 계좌에서 함께 결제됩니다.",
        ),
        exchanges=_qa(
            (
                "전월 실적은 얼마나 채워야 돼요?",
                "기본 혜택은 전월 실적 30만 원부터이고, 50만 원 이상이면 할인 한도가 두 배가 됩니다.",
            ),
            (
                "교통카드 기능도 되나요?",
                "네, 후불 교통카드 기능을 신청하시면 버스, 지하철 모두 이용 가능합니다.",
            ),
            (
                "해외에서도 쓸 수 있어요?",
                "비자나 마스터 해외 겸용으로 발급받으시면 해외 가맹점에서도 사용하실 수 있습니다.",
            ),
            (
                "배송은 어디로 와요?",
                "등록된 자택 주소로 등기 배송되고, 원하시면 직장 주소로 변경도 가능합니다.",
            ),
            (
                "애플페이도 되나요?",
                "네, 발급 후 앱에서 등록하시면 애플페이와 삼성페이 모두 사용하실 수 있습니다.",
            ),
        ),
        products=("credit_card", "check_card"),
        by_product=(
            ("credit_card", "신용카드 신청하려는데 직장인이면 심사 얼마나 걸려요?#2"),
            ("credit_card", "{benefit} 할인 되는 신용카드로 하나 만들고 싶어요.#0"),
            ("check_card", "체크카드 하나 만들고 싶은데 캐시백 되는 걸로 있나요?#1"),
            ("check_card", "아이 용돈 카드로 체크카드 만들어 주려고 하는데요.#1"),
        ),
    ),
    "card_limit": _Topic(
        reasons=(
            "카드 한도 좀 올리고 싶어서요. 지금 {amt_limit}인데 부족하더라고요.#0",
            "이번 달에 결혼 준비 때문에 결제할 게 많아서 일시적으로 한도 상향 되나요?#1",
            "카드 결제가 한도 초과라고 안 돼서 전화했어요.#3",
            "해외여행 가는데 한도를 {amt_limit}까지 늘려 주실 수 있나요?#1",
            "카드 한도가 갑자기 줄었던데 왜 그런 거예요?#2",
            "할부 한도랑 일시불 한도가 따로 있는 거예요?#4",
            "한도를 좀 낮추고 싶어요. 자꾸 과소비하게 돼서요.#5",
            "가전제품을 {months} 할부로 사려는데 한도가 모자라서요.#0@3",
            "이사 비용 결제해야 하는데 한도를 며칠만 올려 주실 수 있어요?#1",
        ),
        explains=(
            "네 고객님, 한도 상향은 소득 증빙을 해 주시면 심사 후 최대 {amt_limit}까지 가능합니다.",
            "일시 한도 상향은 최대 한 달 동안 적용되고, 결혼이나 이사, 해외여행 같은 사유로 신청하실 수 있습니다.",
            "한도 감액은 이용 실적과 신용점수 변동에 따라 정기 심사에서 조정된 것으로 보입니다.",
            "현재 결제 예정 금액을 빼면 남은 한도가 얼마 안 남아서 승인이 거절된 것 같습니다.",
            "할부 한도가 따로 있지는 않고, 전체 이용 한도 안에서 일시불과 할부를 함께 쓰시는 구조입니다.",
            "한도 감액은 지금 바로 처리해 드릴 수 있고, 다시 올리실 때는 심사가 필요합니다.",
        ),
        exchanges=_qa(
            ("그럼 바로 올라가요?", "소득 서류 제출 후 영업일 기준 하루 이틀 안에 심사 결과가 나옵니다."),
            (
                "앱에서 직접 할 수 있나요?",
                "네, 카드 메뉴의 한도 관리에서 상향 신청과 감액 모두 하실 수 있어요.",
            ),
            ("신용점수에 영향 있어요?", "한도 상향 신청만으로는 신용점수에 영향이 없습니다."),
            (
                "할부 수수료는 몇 프로예요?",
                "{months} 할부 기준 {rate2} 정도이고 무이자 행사 가맹점이면 수수료가 없습니다.",
            ),
            (
                "결제일 전에 미리 갚으면 한도 살아나요?",
                "네, 선결제하시면 결제하신 금액만큼 한도가 바로 복원됩니다.",
            ),
        ),
        products=("credit_card",),
        ask="card?",
    ),
    "card_lost": _Topic(
        reasons=(
            "카드를 잃어버렸어요. 빨리 정지 좀 해 주세요.#0",
            "{when} {lost_place}에서 지갑을 잃어버렸는데 카드가 거기 다 들어 있어서요.#0",
            "카드 분실 신고하려고요. 혹시 누가 쓴 내역 있는지도 확인해 주세요.#2",
            "저 모르는 결제 문자가 왔어요. {amt_small} 결제됐다고요. 카드는 제가 갖고 있는데요.#4",
            "카드가 없어졌는데 정지하고 재발급까지 한 번에 되나요?#3",
            "{lost_place}에 카드를 두고 내린 것 같아요. 일단 정지해 주세요.#0",
            "아 제가 카드를 분실한 것 같은데요, 사용 정지 좀 부탁드릴게요.#1",
            "분실 신고했던 카드를 찾았는데 정지 해제하려면 어떻게 해야 돼요?#5",
            "체크카드를 잃어버려서요, 통장 돈 빠져나갈까 봐 걱정돼요.#1",
        ),
        explains=(
            "네 고객님, 많이 놀라셨죠. 바로 분실 신고 접수해서 사용 정지 처리해 드리겠습니다.",
            "지금 분실 신고 완료되었고요, 신고 시점 이후 부정 사용된 금액은 전액 보상됩니다.",
            "확인해 보니 {when} 이후에 승인된 내역은 없습니다. 다행히 부정 사용은 없어 보이세요.",
            "재발급은 기존 카드번호와 다른 새 번호로 발급되고 5영업일 안에 받아 보실 수 있습니다.",
            "카드 정보가 유출되었을 수 있어서 우선 카드 사용을 정지하고, 해당 결제는 이의 제기로 접수해 드리겠습니다.",
            "분실 해제는 본인 확인 후 바로 가능하고, 해제 즉시 카드를 다시 사용하실 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "자동이체 걸어 놓은 건 어떻게 돼요?",
                "재발급 카드로 자동 승계되는 곳도 있지만, 일부 가맹점은 직접 변경하셔야 합니다.",
            ),
            ("재발급 비용 있어요?", "분실 재발급은 수수료 없이 무료로 해 드립니다."),
            (
                "나중에 찾으면 다시 쓸 수 있어요?",
                "재발급 신청 전이시면 본인 확인 후 정지 해제가 가능하지만 재발급 후에는 기존 카드를 사용하실 수 없습니다.",
            ),
            ("해외 결제도 막아 주실 수 있어요?", "네, 해외 결제 차단 서비스도 함께 등록해 드렸습니다."),
            (
                "경찰에 신고해야 하나요?",
                "부정 사용이 확인되면 경찰서 신고 후 사건사고 사실확인원을 제출해 주시면 보상 처리가 빨라집니다.",
            ),
        ),
        ask="card",
    ),
    "deposit_open": _Topic(
        reasons=(
            "정기예금 금리 좀 여쭤보려고요. {amt_deposit} 정도 {months} 맡기려고 하거든요.#0",
            "적금 하나 들고 싶은데 요즘 금리 제일 높은 게 뭐예요?#1",
            "{amt_monthly}씩 넣을 적금 추천해 주세요.#1",
            "청년도약계좌 가입하고 싶은데 제가 조건이 되는지 궁금해서요.#2",
            "아이 이름으로 적금 하나 만들어 주고 싶은데 부모가 대신 가입해도 되나요?#3",
            "목돈이 생겨서 {amt_deposit} 정도 예금하려고 하는데 특판 같은 거 있나요?#0",
            "{prod} 가입하려면 지점에 가야 돼요, 아니면 앱에서 돼요?#4",
            "예금 금리가 {rate_dep}라고 광고 봤는데 그거 아직 하나요?#0",
            "자유적금이랑 정기적금 차이가 뭐예요?#5",
        ),
        explains=(
            "네 고객님, 현재 정기예금은 {months} 기준 {rate_dep} 적용되고 있습니다.",
            "자유적금은 매달 원하시는 금액을 자유롭게 넣으실 수 있고, 급여이체 하시면 우대금리 0.3%포인트가 더해집니다.",
            "청년도약계좌는 만 19세에서 34세, 개인소득 7천5백만 원 이하시면 가입 가능하고 정부 기여금이 매달 지원됩니다.",
            "자녀 명의 적금은 가족관계증명서와 기본증명서를 지참하시고 부모님이 지점에 방문해 주셔야 합니다.",
            "대부분의 예적금은 모바일 앱에서 비대면으로 가입하실 수 있고, 가입 즉시 우대금리도 적용됩니다.",
            "정기적금은 매달 같은 날 같은 금액을 넣으시는 거고, 자유적금은 금액과 날짜를 자유롭게 정하실 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "중간에 깨면 이자 어떻게 돼요?",
                "중도해지하시면 약정 금리가 아니라 중도해지 금리가 적용돼서 이자가 많이 줄어듭니다.",
            ),
            (
                "예금자 보호 되는 거죠?",
                "네, 원금과 이자를 합쳐서 1인당 5천만 원까지 예금자보호법에 따라 보호됩니다.",
            ),
            (
                "만기되면 자동으로 연장돼요?",
                "가입하실 때 자동 재예치를 선택하시면 만기일에 같은 기간으로 자동 연장됩니다.",
            ),
            (
                "이자는 매달 받을 수 있어요?",
                "네, 월 이자 지급식으로 선택하시면 매달 이자를 받으실 수 있어요.",
            ),
            ("세금은 얼마나 떼요?", "이자소득세 15.4%가 원천징수되고, 비과세종합저축 대상이시면 면제됩니다."),
        ),
        products=("term_deposit", "installment_savings", "youth_savings", "kids_savings"),
        by_product=(
            ("term_deposit", "정기예금 {months}짜리 금리가 어떻게 되는지 알고 싶어서요.#0"),
            ("installment_savings", "자유적금 하나 만들어서 월급날마다 {amt_monthly}씩 넣으려고요.#1"),
            ("youth_savings", "청년도약계좌 정부 기여금이 얼마나 나오는지 궁금해서요.#2"),
            ("youth_savings", "제가 스물여섯인데 청년도약계좌 가입할 수 있을까요?#2"),
            ("kids_savings", "아이사랑적금을 우리 애 이름으로 들려고 하는데요, 서류가 뭐 필요해요?#3"),
        ),
    ),
    "deposit_maturity": _Topic(
        reasons=(
            "예금 만기가 {date}인데 만기되면 자동으로 입금되나요?#1",
            "적금 만기가 됐는데 해지하려고요. 돈은 어디로 들어가요?#1",
            "정기예금 중도해지하면 이자 얼마나 손해 보는지 알고 싶어요.#2",
            "만기된 예금 다시 예치하려고 하는데 지금 금리가 어떻게 돼요?#0@1",
            "급하게 돈이 필요해서 적금을 깨야 될 것 같은데요.#2",
            "예금 해지 말고 예금 담보로 대출 받을 수 있나요?#3",
            "만기 해지를 앱에서 하려는데 버튼이 안 보여서요.#4",
            "{amt_deposit} 넣어 둔 예금이 만기인데 이자가 얼마인지 확인 좀 해 주세요.#0",
            "적금 만기 연장되나요? {months} 더 넣고 싶어서요.#5",
        ),
        explains=(
            "네 고객님, 확인해 보니 정기예금이 {date}에 만기 예정이시고 세후 이자는 대략 {interest} 예상됩니다.",
            "만기 해지하시면 원리금은 연결된 입출금 계좌로 자동 입금됩니다.",
            "지금 중도해지하시면 약정 금리 대신 중도해지 금리 연 0.5%에서 1% 정도가 적용됩니다.",
            "예금담보대출을 이용하시면 해지하지 않고 예금액의 95%까지 대출받으실 수 있습니다.",
            "만기 해지는 만기일 당일부터 앱의 예적금 메뉴에서 가능하시고, 그 전에는 해지 버튼이 중도해지로 표시됩니다.",
            "적금은 만기 연장이 안 되고, 만기 후에 새로 가입하시거나 정기예금으로 옮기실 수 있습니다.",
        ),
        exchanges=_qa(
            ("그럼 입금은 언제 돼요?", "만기일 당일 오전 중에 연결 계좌로 입금됩니다."),
            (
                "재예치하면 금리 얼마예요?",
                "현재 12개월 정기예금 기준 {rate_dep}이고 만기 재예치 시 0.1%포인트 우대가 있습니다.",
            ),
            (
                "예금담보대출 금리는요?",
                "예금 금리에 1.25%포인트를 더한 금리로 적용되고 중도상환수수료는 없습니다.",
            ),
            (
                "해지는 앱에서 돼요?",
                "네, 예금 상세 화면 아래쪽 해지 메뉴에서 하실 수 있고 공동인증서나 간편인증이 필요합니다.",
            ),
            (
                "휴일이 만기면 어떻게 돼요?",
                "만기일이 휴일이면 다음 영업일에 지급되고 그 기간 이자도 드립니다.",
            ),
        ),
        products=("term_deposit",),
        ask="account",
    ),
    "fx_remittance": _Topic(
        reasons=(
            "{country}에 있는 아이한테 학비를 보내야 되는데 해외송금 수수료가 얼마나 돼요?#0",
            "해외송금 하려고 하는데 {amt_usd} 보내려면 원화로 얼마 필요해요?#1",
            "환전 우대 몇 프로까지 해 주세요? 다음 주에 {country} 여행 가거든요.#4@2",
            "외화예금 계좌 하나 만들고 싶은데 {currency} 통장도 되나요?#2",
            "해외에서 송금이 들어왔다는데 아직 입금이 안 돼서요.#3",
            "앱으로 해외송금을 했는데 수취인 정보가 틀렸어요. 취소할 수 있나요?#3@3",
            "유학 간 딸한테 매달 {amt_usd}씩 보내려고 하는데 정기송금 되나요?#5",
            "달러 환율이 요즘 어때요? 좀 사 두려고 하는데요.#1",
            "해외 직구 환불금이 외화로 들어왔는데 원화로 바꾸려면 어떻게 해요?#2",
        ),
        explains=(
            "네 고객님, 모바일 해외송금은 건당 수수료 5천 원에 전신료가 없고, 환율 우대를 최대 90%까지 받으실 수 있습니다.",
            "오늘 기준 송금 보내실 때 환율은 1달러에 1,380원 정도이고 우대 적용하면 조금 더 낮아집니다.",
            "외화예금은 달러, 엔, 유로 등 주요 통화로 가입하실 수 있고 자유롭게 입출금이 가능합니다.",
            "해외 송금은 보통 1에서 3영업일 정도 걸리고 중개은행 수수료가 별도로 차감될 수 있습니다.",
            "환전은 앱에서 신청하시면 주요 통화 최대 90% 환율 우대가 되고, 공항이나 가까운 지점에서 받으실 수 있습니다.",
            "해외 정기송금은 한 번 등록해 두시면 매달 지정일에 자동으로 보내지고 수수료 우대도 적용됩니다.",
        ),
        exchanges=_qa(
            (
                "받는 사람 정보는 뭐가 필요해요?",
                "수취인 영문 이름, 계좌번호, 은행 스위프트 코드, 그리고 주소가 필요합니다.",
            ),
            (
                "연간 한도가 있어요?",
                "증빙 없이 보내실 수 있는 금액은 연간 10만 달러까지이고, 그 이상은 증빙 서류가 필요합니다.",
            ),
            (
                "환전한 돈은 공항에서 받을 수 있어요?",
                "네, 앱에서 환전 신청하시고 인천공항 환전소를 수령 장소로 지정하시면 됩니다.",
            ),
            (
                "송금 취소하면 수수료 돌려받아요?",
                "아직 해외 은행으로 전송되기 전이면 취소 가능하고, 수수료는 환급되지만 환율 차이는 생길 수 있습니다.",
            ),
            (
                "외화예금도 예금자 보호 되나요?",
                "네, 외화예금도 원화 환산 기준으로 1인당 5천만 원까지 보호됩니다.",
            ),
        ),
        products=("fx_deposit",),
        ask="account",
    ),
    "invest_pension": _Topic(
        reasons=(
            "연금저축 가입하면 세액공제 얼마나 받을 수 있어요?#0",
            "IRP 계좌 만들려고 하는데 퇴직금도 거기로 받을 수 있나요?#2",
            "ISA 계좌가 좋다던데 어떤 건지 설명 좀 해 주세요.#1",
            "펀드 하나 들고 싶은데 요즘 뭐가 괜찮아요? {amt_monthly} 정도요.#3",
            "연말정산 때문에 연금저축이나 IRP 중에 하나 들어야 될 것 같아서요.#0",
            "제가 가입한 펀드 수익률이 마이너스라서요, 어떻게 해야 할지 상담받고 싶어요.#4",
            "노후 준비로 {prod} 알아보고 있는데요, 나이가 {age_word}인데 늦은 건 아니죠?#0",
            "{date}에 퇴직하게 돼서 퇴직금 관리 방법 좀 여쭤보려고요.#2",
            "ISA 만기가 다가오는데 연금계좌로 옮기면 혜택이 있다고 들어서요.#5",
        ),
        explains=(
            "네 고객님, 연금저축과 IRP를 합쳐 연 900만 원까지 세액공제가 되고, 총급여 5천5백만 원 이하시면 16.5%를 돌려받으실 수 있습니다.",
            "ISA는 3년 이상 유지하시면 순이익 200만 원까지 비과세되고 초과분은 9.9%로 분리과세됩니다.",
            "IRP는 퇴직금을 받으시는 계좌로도 쓰이고, 55세 이후에 연금으로 받으시면 퇴직소득세가 30% 감면됩니다.",
            "펀드는 투자성향 분석을 먼저 하셔야 하고, 원금 손실 가능성이 있는 상품이라는 점 꼭 안내드립니다.",
            "펀드 수익률이 마이너스일 때는 바로 환매하시기보다 투자 기간과 목표를 같이 보시는 게 좋고, 필요하면 다른 펀드로 전환도 가능합니다.",
            "ISA 만기 자금을 60일 안에 연금계좌로 옮기시면 옮긴 금액의 10%, 최대 300만 원까지 추가 세액공제를 받으실 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "중도에 빼면 어떻게 돼요?",
                "연금 외 수령을 하시면 세액공제 받으신 금액에 대해 16.5% 기타소득세가 부과됩니다.",
            ),
            (
                "원금 보장은 안 되는 거죠?",
                "네, 펀드는 예금자보호 대상이 아니라서 운용 결과에 따라 원금 손실이 있을 수 있습니다.",
            ),
            (
                "수수료는 얼마나 들어요?",
                "온라인으로 가입하시면 판매 보수가 연 0.2% 수준으로 창구보다 저렴합니다.",
            ),
            ("앱에서 투자성향 분석도 돼요?", "네, 앱에서 10분 정도 설문하시면 바로 투자성향이 등록됩니다."),
            (
                "한 달에 얼마씩 넣으면 좋을까요?",
                "세액공제 한도를 채우시려면 월 75만 원 정도인데, 여유 자금 범위에서 {amt_monthly}부터 시작하셔도 좋습니다.",
            ),
        ),
        products=("fund", "isa", "pension_savings", "irp"),
        by_product=(
            ("fund", "적립식 펀드로 {amt_monthly}씩 넣을 만한 거 추천해 주세요.#3"),
            ("isa", "ISA 중개형이랑 신탁형 차이가 뭔가요?#1"),
            ("pension_savings", "연금저축펀드 가입하려는데 한 해에 얼마까지 넣을 수 있어요?#0"),
            ("irp", "IRP 만들어서 세액공제 받고 싶은데요.#2"),
        ),
    ),
    "auto_loan_inquiry": _Topic(
        reasons=(
            "차를 바꾸려고 하는데 자동차대출 금리가 어떻게 돼요?#0",
            "{car} 계약했는데 할부 말고 은행 대출로 하면 더 싼가요?#0@4",
            "중고차 대출도 되나요? {amt_car}짜리 보고 있거든요.#2",
            "오토론을 {months}로 하면 한 달에 얼마 정도 내야 될까요?#0",
            "자동차 대출 받으려면 서류 뭐 필요해요?#1@0",
            "캐피탈에서 받은 자동차 할부를 은행 대출로 갈아탈 수 있을까요?#0@4",
            "전기차 사면 대출 금리 우대가 있다고 들었는데요.#3",
            "신차 구매 자금으로 {amt_car} 정도 대출 가능할까요?#1",
        ),
        explains=(
            "네 고객님, 자동차대출은 신차 기준 {rate}부터이고 최장 {months}까지 가능합니다.",
            "차량 가격의 최대 100%까지 대출되고, 소득과 신용점수에 따라 한도가 정해집니다.",
            "중고차는 차량 연식 10년 이내, 등록된 딜러를 통한 구매일 때 대출이 가능합니다.",
            "친환경차 구매 시 0.2%포인트 우대금리가 추가로 적용됩니다.",
        ),
        exchanges=_qa(
            (
                "서류는 뭐가 필요해요?",
                "자동차 매매계약서나 견적서, 그리고 재직과 소득 확인 서류가 필요합니다.",
            ),
            (
                "대출금은 어디로 입금돼요?",
                "대출금은 고객님 계좌가 아니라 판매사나 딜러 계좌로 바로 지급됩니다.",
            ),
            ("중도상환수수료 있어요?", "1년 이내 상환 시 1% 정도이고 이후에는 점점 줄어듭니다."),
            ("승인 나는 데 얼마나 걸려요?", "앱으로 신청하시면 빠르면 당일 승인도 가능합니다."),
            (
                "캐피탈 할부보다 싸요?",
                "보통 은행 자동차대출이 캐피탈 할부보다 1에서 2%포인트 정도 금리가 낮은 편입니다.",
            ),
        ),
        products=("auto_loan",),
    ),
    "banking_outage": _Topic(
        reasons=(
            "앱이 계속 오류가 나요. 로그인이 안 돼요.#0",
            "이체를 했는데 {outage_err}가 나오면서 돈은 빠져나갔어요. 어떻게 된 거예요?#1",
            "인터넷뱅킹 접속이 안 되는데 지금 서버 점검 중인가요?#0",
            "모바일뱅킹에서 인증서 오류가 뜨면서 아무것도 안 돼요.#2",
            "OTP 인증이 계속 실패해서 이체가 안 되는데요.#4@3",
            "앱 업데이트하고 나서 지문 인증이 안 먹어요.#2",
            "{when}부터 계속 앱이 튕겨서 급한 이체를 못 하고 있어요.#0@2",
            "ATM에서 출금했는데 돈은 안 나오고 통장에서는 빠져나갔어요.#1",
            "비밀번호 오류가 5번 넘어서 잠겼다고 나와요. 어떻게 풀어요?#3",
        ),
        explains=(
            "네 고객님, 불편을 드려 정말 죄송합니다. 현재 일부 고객님께 모바일뱅킹 접속 지연이 발생하고 있어 긴급 복구 중입니다.",
            "확인해 보니 이체는 정상 처리되지 않았고 출금된 금액은 자동으로 반환될 예정입니다.",
            "앱을 완전히 종료하신 다음에 최신 버전으로 업데이트하시고 다시 로그인해 보시겠어요?",
            "비밀번호 오류 횟수 초과는 본인 확인 후 제가 바로 초기화해 드릴 수 있습니다.",
            "OTP 오류는 본인 확인 후 제가 바로 오류 횟수를 초기화해 드릴 수 있습니다.",
        ),
        exchanges=_qa(
            ("언제 복구돼요?", "한 시간 안에 정상화될 예정이고 복구되면 문자로 안내드리겠습니다."),
            (
                "그럼 빠져나간 돈은 언제 들어와요?",
                "오늘 중으로 원래 계좌로 환원되고, 혹시 안 들어오면 다시 연락 주시면 바로 확인해 드리겠습니다.",
            ),
            (
                "급한 이체는 어떻게 해요?",
                "지금 상담 중에 전화로 이체를 도와드릴 수도 있고, 가까운 ATM에서도 가능하십니다.",
            ),
            (
                "OTP는 새로 받아야 돼요?",
                "오류가 10회 넘으면 재발급이 필요하지만 지금은 오류 초기화만으로 사용 가능합니다.",
            ),
            (
                "이거 보상은 없어요?",
                "장애로 생긴 수수료나 손해는 접수해 주시면 검토 후 보상해 드리고 있습니다.",
            ),
        ),
        ask="account?",
    ),
    "complaint": _Topic(
        reasons=(
            "아니 도대체 몇 번을 전화해야 돼요? 벌써 세 번째 전화하는 거예요.#0",
            "지점 직원이 설명을 제대로 안 해 줘서 손해를 봤어요. 이거 어떻게 책임지실 거예요?#1",
            "제가 해지해 달라고 한 게 언제인데 아직도 수수료가 빠져나가요. 진짜 너무하네요.#2",
            "상담원 연결하는 데만 이십 분 걸렸어요. 이게 말이 돼요?#4",
            "대출 금리 설명을 잘못 들어서 이자를 더 냈어요. 민원 넣으려고요.#1",
            "앱에서 동의도 안 했는데 부가서비스가 가입돼 있어요. 이거 돈 다 돌려주세요.#2",
            "지난번 상담원이 처리해 준다고 했는데 아무것도 안 돼 있어요. 이게 무슨 서비스예요?#0",
            "창구에서 한 시간 넘게 기다렸는데 직원이 불친절하기까지 하더라고요. 정식으로 불만 접수할게요.#3",
            "{amt_small}이 저도 모르게 빠져나갔는데 은행에서는 모른다고만 하고, 진짜 답답해 죽겠어요.#1",
            "금감원에 민원 넣기 전에 마지막으로 전화하는 거예요.#1",
        ),
        explains=(
            "고객님, 여러 번 연락하시게 해서 정말 죄송합니다. 제가 끝까지 확인해서 처리해 드리겠습니다.",
            "불편을 드려서 진심으로 사과드립니다. 말씀하신 내용은 민원으로 정식 접수해 드리겠습니다.",
            "확인해 보니 지난번 요청이 처리 누락된 것으로 보입니다. 부과된 수수료는 전액 환급 처리해 드리겠습니다.",
            "해당 직원 응대에 대해서는 지점에 사실 확인 후 결과를 안내드리겠습니다.",
            "오래 기다리시게 해서 정말 죄송합니다. 상담 대기 시간에 대한 불편 사항도 함께 접수하겠습니다.",
        ),
        exchanges=_qa(
            (
                "그래서 언제까지 해결되는 건데요?",
                "영업일 기준 3일 이내에 담당 부서에서 처리 결과를 직접 연락드리겠습니다.",
            ),
            (
                "이번에도 안 되면 진짜 금감원에 신고할 거예요.",
                "네 고객님, 충분히 이해합니다. 이번에는 제가 담당자로 지정되어 끝까지 챙기겠습니다.",
            ),
            (
                "돈은 다 돌려받을 수 있는 거죠?",
                "네, 잘못 출금된 금액은 확인되는 대로 전액 환급해 드리겠습니다.",
            ),
            (
                "왜 매번 설명이 다 달라요?",
                "안내가 일관되지 못해 혼란을 드린 점 정말 죄송합니다. 정확한 내용으로 문서로도 보내드리겠습니다.",
            ),
            ("책임자랑 통화하고 싶어요.", "네, 팀장님께 바로 전달해서 오늘 중으로 연락드리도록 하겠습니다."),
            (
                "아 진짜 짜증나네요. 시간 낭비한 건 누가 보상해 줘요?",
                "불편을 드린 부분은 내부 기준에 따라 보상 가능 여부를 검토해서 안내드리겠습니다.",
            ),
        ),
        ask="card?",
    ),
    "personal_info_change": _Topic(
        reasons=(
            "이사를 해서 주소 변경하려고요.#0@0",
            "휴대폰 번호가 바뀌어서요, 등록된 번호 좀 바꿔 주세요.#0@2",
            "이메일 주소 변경하고 싶은데요, 명세서가 옛날 메일로 가서요.#0@1",
            "개명을 했는데 은행 이름도 바꿔야 되죠?#1",
            "직장이 바뀌어서 직장 정보 변경하려고요.#4",
            "{old_sido}에서 이사 와서 주소가 바뀌었어요.#0@0",
            "우편물 받는 곳을 회사로 바꾸고 싶어요.#0@0",
            "마케팅 문자 수신 동의 철회하고 싶은데요, 광고 문자가 너무 많이 와서요.#3",
        ),
        explains=(
            "네 고객님, 본인 확인이 완료되어서 바로 변경 도와드리겠습니다.",
            "개명하신 경우에는 신분증과 기본증명서를 지참하시고 가까운 지점을 방문해 주셔야 합니다.",
            "변경하신 정보는 카드, 대출 등 모든 거래에 일괄 반영됩니다.",
            "광고성 정보 수신 동의는 지금 바로 철회해 드렸고요, 반영까지 최대 14일 걸릴 수 있습니다.",
            "직장 정보는 제가 지금 바로 변경해 드릴 수 있고, 대출 심사나 연말정산 서류에 그대로 반영됩니다.",
        ),
        exchanges=(
            (
                (_A, "변경하실 주소 말씀해 주시겠어요?"),
                (_C, "{p_address_ieyo}"),
                (_A, "네, 말씀하신 주소로 변경 완료되었습니다."),
            ),
            (
                (_A, "새로 쓰실 이메일 주소 불러 주시겠어요?"),
                (_C, "{p_email_spoken}"),
                (_A, "확인했습니다. {p_email}로 변경해 드렸습니다."),
            ),
            (
                (_A, "바뀐 연락처 말씀해 주시겠어요?"),
                (_C, "{p_phone_iyo}"),
                (_A, "네, 변경 완료되었고 변경 안내 문자가 발송됩니다."),
            ),
        )
        + _qa(
            (
                "카드 청구지 주소도 같이 바뀌는 거죠?",
                "네, 카드 청구지와 우편물 수령지 모두 새 정보로 변경됩니다.",
            ),
            (
                "앱에서도 제가 직접 바꿀 수 있어요?",
                "네, 전체 메뉴의 내 정보 관리에서 주소와 연락처를 직접 변경하실 수 있습니다.",
            ),
            ("문자로 안내 받을 수 있어요?", "네, 변경 완료 안내 문자를 등록된 번호로 바로 보내드리겠습니다."),
        ),
    ),
    "fraud_report": _Topic(
        reasons=(
            "보이스피싱 당한 것 같아요. 검찰청이라고 해서 돈을 보냈어요.#1",
            "방금 {amt_fraud}을 이체했는데 사기 같아요. 지급정지 좀 해 주세요.#0",
            "딸이라고 문자가 와서 휴대폰 고쳐야 된다길래 {amt_fraud} 보냈는데 딸이 아니래요.#0",
            "제 계좌가 대포통장으로 쓰였다고 연락이 왔는데 저는 모르는 일이에요.#3",
            "저금리 대출해 준다고 해서 앱을 깔았는데 그 뒤로 이상한 출금이 있어요.#2",
            "택배 문자 링크를 눌렀는데 혹시 해킹된 건 아닌지 걱정돼서요.#2",
            "모르는 사람한테서 {amt_small}이 입금됐는데 돌려 달라고 전화가 와요. 이거 사기죠?#4",
            "금융감독원 직원이라면서 안전계좌로 옮기라고 하는데 이거 진짜예요?#1",
            "중고거래 사기를 당해서요, 상대방 계좌 지급정지 신청할 수 있나요?#5",
        ),
        explains=(
            "네 고객님, 많이 놀라셨겠어요. 지금 바로 보내신 계좌에 대해 지급정지 요청을 접수하겠습니다.",
            "공공기관이나 금융회사는 절대 전화로 이체나 안전계좌를 요구하지 않습니다. 보이스피싱이 맞는 것 같습니다.",
            "설치하신 앱은 원격제어 앱일 수 있으니 바로 삭제하시고, 휴대폰 초기화를 권해 드립니다.",
            "고객님 명의의 모든 계좌에 대해 일시적으로 출금 제한을 걸어 두었습니다.",
            "모르는 돈이 입금된 뒤 돌려 달라는 연락은 통장 묶기 사기일 수 있으니, 직접 보내지 마시고 은행을 통해 반환 절차를 진행하셔야 합니다.",
            "중고거래 사기는 경찰에 신고하신 뒤 상대방 계좌에 대해 지급정지를 요청하실 수 있습니다.",
        ),
        exchanges=_qa(
            (
                "돈은 돌려받을 수 있는 거예요?",
                "지급정지된 금액은 피해구제 절차를 거쳐 돌려받으실 수 있고, 보통 두 달에서 세 달 정도 걸립니다.",
            ),
            (
                "경찰서에도 가야 되나요?",
                "네, 112에 신고하시고 사건사고 사실확인원을 발급받아 3일 이내에 제출해 주셔야 합니다.",
            ),
            (
                "제 개인정보가 다 털린 거 아니에요?",
                "개인정보 노출자 사고예방 시스템에 등록해 드리면 신규 계좌 개설이나 대출이 제한되어 추가 피해를 막을 수 있습니다.",
            ),
            (
                "다른 은행 계좌도 막아야 되나요?",
                "계좌정보통합관리서비스에서 한 번에 지급정지하실 수 있고, 제가 방법 안내해 드리겠습니다.",
            ),
            (
                "앞으로 어떻게 조심해야 돼요?",
                "모르는 링크는 누르지 마시고, 가족이라며 돈을 요구하면 꼭 직접 통화로 확인하셔야 합니다.",
            ),
        ),
        ask="account",
    ),
    "other": _Topic(
        reasons=(
            "잔액 증명서 발급받으려면 어떻게 해야 돼요?#0",
            "지점 영업시간이 어떻게 되나요? 토요일에도 하는 데 있어요?#1",
            "통장 사본이 필요한데 앱에서 출력할 수 있나요?#4",
            "오래된 휴면계좌가 있는 것 같은데 조회할 수 있을까요?#2",
            "거래내역서 영문으로 발급되나요? 비자 신청에 필요해서요.#0",
            "자동이체 날짜를 {day}로 바꾸고 싶은데요.#5",
            "동전 교환하려면 아무 지점이나 가도 되나요?#6",
            "부모님이 돌아가셔서 상속 관련 계좌 조회를 하고 싶은데요.#3",
            "포인트가 쌓인 게 있다는데 현금으로 바꿀 수 있나요?#7",
        ),
        explains=(
            "네 고객님, 잔액증명서는 앱에서 바로 발급하실 수 있고 영문 발급도 가능합니다.",
            "평일 오전 9시부터 오후 4시까지 운영하고, 일부 지점은 저녁 6시까지 연장 운영합니다.",
            "휴면계좌는 어카운트인포 사이트나 저희 앱에서 조회하시고 바로 해지까지 하실 수 있습니다.",
            "상속인 조회는 정부24의 안심상속 원스톱 서비스를 이용하시면 한 번에 확인 가능합니다.",
            "통장 사본은 앱의 계좌 상세 화면에서 바로 PDF로 발급하실 수 있습니다.",
            "자동이체 날짜는 앱의 자동이체 관리에서 바로 바꾸실 수 있고, 다음 회차부터 적용됩니다.",
            "동전 교환은 가까운 영업점 어디서나 가능하시고, 평일 오전 시간대가 덜 붐빕니다.",
            "적립된 포인트는 앱 혜택 메뉴에서 현금으로 전환해 계좌로 바로 받으실 수 있습니다.",
        ),
        exchanges=_qa(
            ("수수료 있어요?", "앱에서 발급하시면 무료이고 창구에서는 건당 2천 원의 수수료가 있습니다."),
            ("대리인이 가도 돼요?", "네, 위임장과 인감증명서, 대리인 신분증을 지참하시면 가능합니다."),
            ("며칠 걸려요?", "앱 발급은 즉시 되고 우편 발송은 3에서 5영업일 정도 걸립니다."),
            ("앱 어디에 있어요?", "전체 메뉴 맨 위 검색창에 입력하시면 바로 찾으실 수 있습니다."),
            (
                "포인트는 어디서 확인해요?",
                "앱 첫 화면의 혜택 메뉴에서 적립된 포인트를 확인하시고 계좌로 바로 입금받으실 수 있습니다.",
            ),
        ),
    ),
}

_INTENT_IDS = tuple(_TOPICS)

_BANK = "새봄은행"
_AGENTS = _words("김하늘 이서연 박지민 최유진 정다은 한소희 윤아름 강민호 조성훈 오세진 임수빈 송지아")
_GREETINGS = (
    "안녕하십니까 고객님, 행복을 드리는 {bank} 상담원 {agent}입니다. 무엇을 도와드릴까요?",
    "감사합니다. 고객님의 든든한 금융 파트너 {bank}, 상담원 {agent}입니다. 무엇을 도와드릴까요?",
    "사랑합니다 고객님, {bank} {agent}입니다. 어떤 업무 도와드릴까요?",
    "네, {bank} 고객센터 상담원 {agent}입니다. 무엇을 도와드릴까요?",
    "안녕하세요 고객님, {bank} {agent} 상담원입니다. 문의하실 내용 말씀해 주세요.",
    "정성을 다하는 {bank} 고객센터, 상담원 {agent}입니다. 무엇을 도와드릴까요?",
    "오래 기다리셨습니다 고객님. {bank} 상담원 {agent}입니다. 무엇을 도와드릴까요?",
)
_OPENERS = _alts(
    "||아 네 안녕하세요, |네 저기요, |여보세요? 네, |안녕하세요. |아 네, 다름이 아니라 |네 수고 많으세요. "
)
_ANGRY_OPENERS = ("", "아 네, ", "네. ", "하아, ", "저기요, ")
_SECOND_LEADS = _alts(
    "아 그리고 하나만 더 여쭤볼게요. |참, 그리고요, |그거 말고 또 하나 있는데요, |아 맞다, 그리고 |하나 더 궁금한 게 있는데요, "
)
_ACK = ("네 고객님, ", "네, ", "아 네 고객님, ", "네 알겠습니다. ")
_VERIFIED = (
    "네 확인 감사합니다. {name} 고객님 본인 확인 되셨습니다. ",
    "본인 확인 되셨습니다, 감사합니다. ",
    "네 {name} 고객님 확인되셨습니다. ",
    "네 확인되셨습니다. ",
)
_HOLD = (
    "확인해 보겠습니다. 잠시만 기다려 주세요.",
    "관련 내용 조회해 보겠습니다. 잠시만 기다려 주시겠어요?",
    "네, 전산 확인하는 동안 잠시만 기다려 주세요.",
    "담당 부서에 확인해 보고 말씀드리겠습니다. 잠시만 기다려 주세요.",
)
_AFTER_HOLD = ("기다려 주셔서 감사합니다. ", "오래 기다리셨습니다. ", "기다려 주셔서 감사합니다, 고객님. ")
_CLOSE_ASK = _alts(
    "혹시 더 궁금하신 점 있으실까요?|다른 문의 사항은 없으세요?|더 도와드릴 부분은 없으실까요?"
)
_CLOSE_CUSTOMER = _alts(
    "아니요 없어요, 감사합니다.|네 그거면 됐어요. 수고하세요.|아 네, 이제 됐습니다. 고맙습니다.|네 없습니다. 감사해요."
)
_CLOSE_ANGRY = _alts(
    "네 알겠어요. 이번엔 꼭 좀 처리해 주세요.|됐어요. 연락이나 꼭 주세요.|알겠습니다. 제대로 좀 해 주세요."
)


def _close_agent(agent: str) -> str:
    was = "였습니다" if not _ends_batchim(agent) else "이었습니다"
    return f"네 감사합니다. 지금까지 상담원 {agent}{was}. 좋은 하루 보내세요."


# identity-check phrasing -----------------------------------------------------------------------------------


def _say_number(number: str, d: _Dice, *, dash_words: Sequence[str] = (" ", " ", "에 ", " 다시 ")) -> str:
    """One way of saying a grouped number on the phone: as written, ungrouped, spaced, or spoken."""
    style = d.u()
    if style < 0.3:
        return number
    if style < 0.45:
        return number.replace("-", "")
    if style < 0.6:
        return number.replace("-", " ")
    return _spoken(number, d, dash_words=dash_words)


def _say_birth(rrn: str, d: _Dice) -> str:
    yy, mm, dd = int(rrn[0:2]), int(rrn[2:4]), int(rrn[4:6])
    century = {"9": 1800, "0": 1800, "1": 1900, "2": 1900, "3": 2000, "4": 2000}.get(rrn[7], 1900)
    style = d.u()
    if style < 0.3:
        return f"{yy:02d}년 {mm}월 {dd}일생"
    if style < 0.5:
        return f"{century + yy}년 {mm}월 {dd}일"
    if style < 0.65:
        return rrn[:6]
    return _spoken(rrn[:6], d)


def _email_spoken(email: str, d: _Dice) -> str:
    if d.chance(0.5):
        return _iyo(email)
    local, _, domain = email.partition("@")
    return f"{local} 골뱅이 {domain.replace('.', ' 점 ')}이요"


def _verification(persona: Persona, asks: Sequence[str], d: _Dice) -> list[Turn]:
    name, turns = persona.name, []
    rrn_mode = d.u()
    if rrn_mode < 0.4:
        turns.append(
            Turn(
                "agent",
                d.pick(
                    (
                        "네 고객님, 상담을 위해 본인 확인 먼저 하겠습니다. 성함이 어떻게 되세요?",
                        "본인 확인을 위해 성함 먼저 말씀 부탁드립니다.",
                    )
                ),
            )
        )
        turns.append(
            Turn("customer", d.pick((name + "입니다.", _iyo(name) + ".", "제 이름은 " + _ieyo(name) + ".")))
        )
        turns.append(
            Turn("agent", d.pick(("생년월일 여섯 자리 말씀 부탁드립니다.", "생년월일도 말씀해 주시겠어요?")))
        )
        turns.append(Turn("customer", _iyo(_say_birth(persona.rrn, d)) + "."))
    elif rrn_mode < 0.75:
        turns.append(
            Turn(
                "agent",
                d.pick(
                    (
                        "본인 확인을 위해 성함과 생년월일 말씀해 주시겠어요?",
                        "먼저 고객님 성함이랑 생년월일 확인 부탁드립니다.",
                    )
                ),
            )
        )
        turns.append(Turn("customer", f"{_igo(name)}, {_iyo(_say_birth(persona.rrn, d))}."))
    else:
        turns.append(
            Turn(
                "agent",
                d.pick(
                    (
                        "본인 확인을 위해 성함과 주민등록번호 열세 자리 말씀 부탁드립니다.",
                        "성함하고 주민번호 불러 주시겠어요?",
                    )
                ),
            )
        )
        rrn = _say_number(persona.rrn, d, dash_words=(" 다시 ", " 다시 ", " ", "에 "))
        turns.append(Turn("customer", f"{_igo(name)}, 주민번호는 {_iyo(rrn)}."))
    if d.chance(0.7):
        turns.append(
            Turn(
                "agent",
                d.pick(
                    (
                        "등록된 휴대폰 번호도 말씀해 주시겠어요?",
                        "연락처도 확인 부탁드립니다.",
                        "전화번호 뒷자리까지 전부 불러 주시겠어요?",
                    )
                ),
            )
        )
        phone = _say_number(persona.phone, d, dash_words=(" ", " ", "에 ", "에 "))
        turns.append(Turn("customer", d.pick(("", "", "네, ", "제 번호는 ")) + _iyo(phone) + "."))
    for item in asks:
        if item == "card":
            turns.append(
                Turn(
                    "agent",
                    d.pick(
                        (
                            "카드 번호 열여섯 자리 알고 계시면 불러 주시겠어요?",
                            "해당 카드 번호 확인 부탁드립니다.",
                        )
                    ),
                )
            )
            prefix = d.pick(("", "", "잠시만요, 아 여기 있네요. ", "카드 앞면 보고 불러 드릴게요. "))
            turns.append(
                Turn(
                    "customer",
                    prefix + _iyo(_say_number(persona.card, d, dash_words=(" ", " ", "에 "))) + ".",
                )
            )
        elif item == "account":
            turns.append(
                Turn(
                    "agent",
                    d.pick(("거래하시는 계좌번호 말씀해 주시겠어요?", "해당 계좌번호도 불러 주시겠어요?")),
                )
            )
            prefix = d.pick(("", "계좌번호는 ", "잠시만요, 통장 좀 볼게요. 네, "))
            turns.append(
                Turn(
                    "customer", prefix + _iyo(_say_number(persona.account, d, dash_words=(" ", "에 "))) + "."
                )
            )
    return turns


def _parse_mark(template: str) -> tuple[str, int | None, int | None]:
    mark = re.search(r"(?:#(\d+))?(?:@(\d+))?$", template)
    assert mark is not None  # the pattern also matches the empty string at the end
    explain = int(mark.group(1)) if mark.group(1) else None
    exchange = int(mark.group(2)) if mark.group(2) else None
    return template[: mark.start()], explain, exchange


_PARSED = {
    t: _parse_mark(t)
    for topic in _TOPICS.values()
    for t in (*topic.reasons, *(line for _, line in topic.by_product))
}


def _reason(topic: _Topic, hint: str | None, d: _Dice, slots: _Slots) -> tuple[str, int | None, int | None]:
    """The customer's reason, plus the explanation and first exchange that answer it (if marked).

    A template may end with ``#k`` (answer with ``explains[k]``) and ``@j`` (follow up with ``exchanges[j]``).
    """
    template = None
    if hint is not None and topic.by_product and d.chance(0.6):
        lines = [t for p, t in topic.by_product if p == hint]
        if lines:
            template = d.pick(lines)
    if template is None:
        template = d.pick(topic.reasons)
    text, explain, exchange = _PARSED[template]
    return text.format_map(slots), explain, exchange


def _explain(topic: _Topic, index: int | None, d: _Dice, slots: _Slots) -> str:
    text = topic.explains[index] if index is not None else d.pick(topic.explains)
    return text.format_map(slots)


def call_script(
    rng: np.random.Generator,
    intents: Sequence[str],
    persona: Persona,
    *,
    product_hint: str | None = None,
) -> list[Turn]:
    """Write one call between an agent and a customer.

    The call runs: greeting → the customer's reason → identity check (name, birth date or resident number,
    often the phone number, and the card or account number where the topic needs it) → the agent's
    explanation and the customer's follow-up questions (sometimes with a hold) → an optional second
    reason → closing. It has 8 to 20 turns and starts with the agent.

    Args:
        rng: random source; the same generator state gives the same script.
        intents: one or two intent ids from ``configs/intents.yaml``; the first one opens the call.
        persona: the customer's fake personal data, spoken during the identity check.
        product_hint: a catalogue product id (e.g. ``"jeonse_loan"``); when it belongs to an intent's
            products the customer asks about that product by name.

    Returns:
        The turns in speaking order.

    Raises:
        ValueError: no intent, more than two, or an id that is not in the taxonomy.
    """
    if not 1 <= len(intents) <= 2:
        raise ValueError(f"a call has 1 or 2 intents, got {len(intents)}: {list(intents)}")
    topics = []
    for intent in intents:
        topic = _TOPICS.get(intent)
        if topic is None:
            raise ValueError(f"unknown intent {intent!r}; expected one of {', '.join(_INTENT_IDS)}")
        topics.append(topic)

    d = _Dice(rng)
    angry = "complaint" in intents
    agent = d.pick(_AGENTS)
    fixed = {"bank": _BANK, "agent": agent, "name": persona.name}
    slots = _Slots(d, fixed)
    prod_names = {}
    for topic in topics:
        pid = (
            product_hint
            if product_hint in topic.products
            else (d.pick(topic.products) if topic.products else None)
        )
        if pid is not None:
            prod_names[id(topic)] = _PRODUCT_NAMES.get(pid, pid)

    turns = [Turn("agent", d.pick(_GREETINGS).format_map(slots))]
    slots["prod"] = prod_names.get(id(topics[0]), "상품")
    reason1, explain1, lead1 = _reason(topics[0], product_hint, d, slots)
    opener = d.pick(_ANGRY_OPENERS if angry else _OPENERS)
    turns.append(Turn("customer", opener + reason1))
    reason2, explain2, lead2 = "", None, None
    if len(topics) == 2:
        slots["prod"] = prod_names.get(id(topics[1]), "상품")
        reason2, explain2, lead2 = _reason(topics[1], product_hint, d, slots)

    asks = []
    for topic in topics:
        kind = topic.ask
        if kind.endswith("?"):
            kind = kind[:-1] if d.chance(0.4) else "none"
        if kind != "none" and kind not in asks:
            asks.append(kind)
    if "card" not in asks and "account" not in asks and d.chance(0.1):
        asks.append(d.pick(("card", "account")))
    turns.extend(_verification(persona, asks, d))

    first = _choose(topics[0].exchanges, d.randint(1, 3), d, lead1)
    second = _choose(topics[1].exchanges, d.randint(0, 2), d, lead2) if len(topics) == 2 else []
    hold = d.chance(0.45)

    def total() -> int:
        # greeting..verification, explanation (+ hold), exchanges, second reason + answer, closing (3)
        extra = 2 + sum(map(len, second)) if len(topics) == 2 else 0
        return len(turns) + 1 + hold + sum(map(len, first)) + extra + 3

    while total() > 20:
        if second:
            second.pop()
        elif hold:
            hold = False
        elif len(first) > 1:
            first.pop()
        else:
            first[0] = first[0][:2]
            break

    verified = d.pick(_VERIFIED).format_map(slots)
    explain = _explain(topics[0], explain1, d, slots)
    if d.chance(0.7):
        explain = explain.removeprefix("네 고객님, ")
    if hold:
        turns.append(Turn("agent", verified + d.pick(_HOLD)))
        turns.append(Turn("agent", d.pick(_AFTER_HOLD) + explain))
    else:
        turns.append(Turn("agent", verified + explain))
    turns.extend(_speak(first, d, slots, persona))

    if len(topics) == 2:
        turns.append(Turn("customer", d.pick(_SECOND_LEADS) + reason2))
        answer = _explain(topics[1], explain2, d, slots).removeprefix("네 고객님, ")
        turns.append(Turn("agent", d.pick(_ACK) + answer))
        turns.extend(_speak(second, d, slots, persona))

    turns.append(Turn("agent", d.pick(_CLOSE_ASK)))
    turns.append(Turn("customer", d.pick(_CLOSE_ANGRY if angry else _CLOSE_CUSTOMER)))
    turns.append(Turn("agent", _close_agent(agent)))
    return turns


_Exchange = tuple[tuple[str, str], ...]


def _choose(pool: Sequence[_Exchange], n: int, d: _Dice, lead: int | None = None) -> list[_Exchange]:
    """``n`` distinct exchanges from ``pool`` in a random order, starting with ``pool[lead]`` if given."""
    n = min(max(n, 1 if lead is not None else 0), len(pool))
    k = int(d.u() * len(pool))
    step = 1 + int(d.u() * (len(pool) - 1)) if len(pool) > 2 else 1
    out: list[_Exchange] = []
    taken: set[int] = set()
    if lead is not None:
        out.append(pool[lead])
        taken.add(lead)
    while len(out) < n:
        while k in taken:
            k = (k + 1) % len(pool)
        taken.add(k)
        out.append(pool[k])
        k = (k + step) % len(pool)
    return out


def _speak(exchanges: Sequence[_Exchange], d: _Dice, slots: _Slots, persona: Persona) -> list[Turn]:
    out: list[Turn] = []
    for exchange in exchanges:
        if any("{p_" in text for _, text in exchange):
            _persona_slots(slots, persona, d)
        for speaker, text in exchange:
            out.append(Turn(speaker, text.format_map(slots)))  # type: ignore[arg-type]
    return out


def _persona_slots(slots: _Slots, persona: Persona, d: _Dice) -> None:
    if "p_email" in slots:
        return
    slots["p_email"] = persona.email
    slots["p_email_spoken"] = _email_spoken(persona.email, d)
    slots["p_address_ieyo"] = d.pick(("새 주소는 ", "", "이사한 곳이 ")) + _ieyo(persona.address) + "."
    phone = _say_number(persona.phone, d, dash_words=(" ", "에 "))
    slots["p_phone_iyo"] = d.pick(("", "새 번호는 ")) + _iyo(phone) + "."


# ---------------------------------------------------------------------------------------------------------
# ASR-like noise

_FILLERS = ("음", "어", "그", "네네", "아", "음", "어", "그러니까", "저기")
# (clean, as ASR writes it): spelling slips Whisper makes on Korean, spacing of banking compounds,
# acronyms written out, and near-homophones that flip meaning (해지/해제, 상환/상황).
_SWAPS = (
    ("돼요", "되요"),
    ("됐어요", "됬어요"),
    ("할게요", "할께요"),
    ("어떡해", "어떻해"),
    ("며칠", "몇일"),
    ("안 돼", "안되"),
    ("되나요", "돼나요"),
    ("해지", "해제"),
    ("상환", "상황"),
    ("이체", "이채"),
    ("IRP", "아이알피"),
    ("ISA", "아이에스에이"),
    ("OTP", "오티피"),
    ("ATM", "에이티엠"),
    ("LTV", "엘티브이"),
    ("DSR", "디에스알"),
    ("%", " 퍼센트"),
    ("퍼센트", "%"),
    ("프로", "%"),
    ("체크카드", "체크 카드"),
    ("신용카드", "신용 카드"),
    ("마이너스통장", "마이너스 통장"),
    ("주택담보대출", "주택 담보 대출"),
    ("전세자금대출", "전세 자금 대출"),
    ("정기예금", "정기 예금"),
    ("보이스피싱", "보이스 피싱"),
    ("해외송금", "해외 송금"),
    ("연금저축", "연금 저축"),
    ("습니다", "슴니다"),
)
_DIGIT_SYLLABLES = {w: str(i) for i, w in enumerate(_DIGIT_WORD)} | {"영": "0"}
_SINO_VALUE = {w: i for i, w in enumerate(_SINO) if w}
_SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
_BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
_SUFFIXES = tuple(
    sorted(
        _words(
            "이요 요 이에요 예요 입니다 이고요 고요 에 으로 로 씩 짜리 까지 부터 원 개월 년 월 일 분 시 살 퍼센트 프로 번 호 층"
        ),
        key=len,
        reverse=True,
    )
)
_UNIT_AFTER = re.compile(
    r"(개월|년|월|일|원|억|만|천|백|퍼센트|%|살|시|분|층|호|번|달러|불|길|동|주|명|회|배)"
)
_GROUP_BEFORE = re.compile(r"\d[\s-]$")
_GROUP_AFTER = re.compile(r"[\s-]\d")
_DIGIT_WORD_RUN = re.compile("[공영일이삼사오육칠팔구]{3,}")
_NUM_RUN = re.compile(r"\d+(?:[.,]\d+)*(?:-\d+)*")
_PUNCT = str.maketrans("", "", ",.?!")


def _sino_to_int(word: str) -> int | None:
    """Parse a Sino-Korean number word (``이십사`` → 24, ``이억`` → 200000000); None if it is not one."""
    if len(word) < 2 or not any(c in _SMALL_UNITS or c in _BIG_UNITS for c in word):
        return None
    total = section = digit = 0
    for c in word:
        if c in _SINO_VALUE:
            if digit:
                return None
            digit = _SINO_VALUE[c]
        elif c in _SMALL_UNITS:
            section += (digit or 1) * _SMALL_UNITS[c]
            digit = 0
        elif c in _BIG_UNITS:
            total += (section + digit or 1) * _BIG_UNITS[c]
            section = digit = 0
        else:
            return None
    return total + section + digit


def _digits_to_korean(m: re.Match[str], d: _Dice, text: str) -> str:
    run = m.group(0)
    after = text[m.end() : m.end() + 4]
    if "-" in run or (len(run) >= 5 and "," not in run and "." not in run):
        return _spoken(run, d, dash_words=(" ", "에 "))
    if "." in run:
        whole, _, frac = run.partition(".")
        return _sino(int(whole.replace(",", ""))) + " 점 " + " ".join(_DIGIT_WORD[ord(c) - 48] for c in frac)
    before = text[max(0, m.start() - 2) : m.start()]
    grouped = _GROUP_BEFORE.search(before) is not None or _GROUP_AFTER.match(after) is not None
    if run.startswith("0") or grouped or (len(run) >= 3 and not _UNIT_AFTER.match(after)):
        # Part of a spaced-out number (card, account, phone): digit by digit keeps it recoverable.
        return _spoken(run, d)
    return _sino(int(run.replace(",", "")))


def _korean_to_digits(token: str) -> str | None:
    core, tail = token.rstrip(",.?!"), ""
    punct = token[len(core) :]
    for suffix in _SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            head = core[: -len(suffix)]
            if len(head) >= 3 and all(c in _DIGIT_SYLLABLES for c in head):
                core, tail = head, suffix
                break
            if _sino_to_int(head) is not None:
                core, tail = head, suffix
                break
    if len(core) >= 3 and all(c in _DIGIT_SYLLABLES for c in core):
        return "".join(_DIGIT_SYLLABLES[c] for c in core) + tail + punct
    value = _sino_to_int(core)
    if value is None:
        return None
    for unit, name in ((10**8, "억"), (10**4, "만")):
        if value >= unit and value % unit == 0:
            return f"{value // unit}{name}" + tail + punct
    return f"{value}" + tail + punct


def asr_like(text: str, rng: np.random.Generator) -> str:
    """Degrade clean script text into what a Whisper-style recogniser would print.

    Applies, at random: spelling slips and near-homophones (돼요→되요, 해지→해제), spacing of compounds,
    numbers flipping between digits and spoken numerals in both directions (``010-1234-5678`` ↔
    ``공일공 일이삼사 오육칠팔``, ``24개월`` ↔ ``이십사 개월``), fillers (음, 어, 네네), merged and split
    eojeol, and dropped punctuation. Digit sequences are only ever re-written digit for digit, never
    dropped or split inside, so personal numbers stay recoverable.

    Args:
        text: one clean utterance.
        rng: random source; the same generator state gives the same output.

    Returns:
        The noisy utterance.
    """
    d = _Dice(rng, 96)
    for clean, noisy in _SWAPS:
        if clean in text and d.chance(0.35):
            text = text.replace(clean, noisy, 1)

    if d.chance(0.5):
        text = _NUM_RUN.sub(lambda m: _digits_to_korean(m, d, text) if d.chance(0.5) else m.group(0), text)
    tokens = text.split()
    if not tokens:
        return text

    out: list[str] = []
    if d.chance(0.25):
        out.append(d.pick(_FILLERS))
    to_digits = d.chance(0.5)
    for tok in tokens:
        if to_digits and d.chance(0.6):
            converted = _korean_to_digits(tok)
            if converted is not None:
                tok = converted
        if d.chance(0.03):
            out.append(d.pick(_FILLERS))
        if (
            len(tok) >= 4
            and d.chance(0.04)
            and not any(c.isdigit() for c in tok)
            and not _DIGIT_WORD_RUN.search(tok)
        ):
            cut = d.randint(1, len(tok) - 2)
            out.append(tok[:cut])
            tok = tok[cut:]
        out.append(tok)

    pieces = [out[0]]
    for tok in out[1:]:
        if d.chance(0.07):
            pieces[-1] += tok
        else:
            pieces.append(tok)
    result = " ".join(pieces)

    mode = d.u()
    if mode < 0.55:
        result = result.translate(_PUNCT)
    elif mode < 0.8:
        result = "".join(c for c in result if c not in ",.?!" or d.chance(0.5))
    return result
