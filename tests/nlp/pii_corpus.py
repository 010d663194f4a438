"""A seeded corpus of call-centre sentences with personal numbers, and of look-alikes that must stay (issue #14).

Every core type — resident (RRN) and foreigner registration numbers, mobile and landline numbers (also +82),
card numbers (15 and 16 digits) and the account layouts of the major Korean banks — is written or read out the
way callers and ASR systems produce it: ASCII or full-width digits with dashes, dots, spaces, parentheses or
nothing; Sino-Korean digits (공/영/빵 for zero), spaced, unspaced, one syllable at a time; groups read as numbers
(천이백삼십사); native numerals for a digit here and there (둘 to tell it from 일); fillers between the groups
(하고요, 어, 음, 그리고 …); units, particles or the copula glued on (01012345678원, …이고요). The number sits inside
a carrier sentence whose neighbouring words begin with unit or counter syllables (불, 원, 만, 천, 억, 번, 개, 명,
일, 월, 달러 …). The look-alikes — amounts, rates, dates, times, counts, product codes, branch numbers, transaction
references — use the same carriers.

Each `Item` knows the positions of the characters that spell the number's digits, so a test can check that every
one of them is masked. `bench/pii.py` imports this module; tests draw a smaller sample.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "CORE_TYPES",
    "FORMS",
    "Item",
    "Score",
    "core_item",
    "core_items",
    "group_word",
    "lookalike_item",
    "lookalike_items",
]

# Type as generated -> type the masker should give.
CORE_TYPES: dict[str, str] = {
    "RRN": "RRN",
    "FRN": "RRN",
    "MOBILE": "PHONE",
    "LANDLINE": "PHONE",
    "INTL": "PHONE",
    "CARD": "CARD",
    "ACCOUNT": "ACCOUNT",
}
FORMS: tuple[str, ...] = (
    "ascii",
    "ascii_unspaced",
    "ascii_spaced",
    "fullwidth",
    "spoken",
    "spoken_unspaced",
    "spoken_syllables",
    "spoken_fillers",
    "group_words",
    "mixed",
    "native",
    "glued_unit",
    "labeled",
)

_SINO = {"0": ["공", "영"], "1": ["일"], "2": ["이"], "3": ["삼"], "4": ["사"], "5": ["오"], "6": ["육"]}
_SINO.update({"7": ["칠"], "8": ["팔"], "9": ["구"]})
_NATIVE = {
    "1": "하나",
    "2": "둘",
    "3": "셋",
    "4": "넷",
    "5": "다섯",
    "6": "여섯",
    "7": "일곱",
    "8": "여덟",
    "9": "아홉",
}
_FILLERS = [
    "하고요",
    "하고",
    "어",
    "음",
    "그리고",
    "에",
    "다시",
    "이고요",
    "그 다음에",
    "어 그리고",
    "음 하고요",
    "있고요",
]
_UNIT_WORDS = [
    "불러드릴게요",
    "불러 드릴게요",
    "원래",
    "원래는",
    "만약에",
    "만약",
    "천천히",
    "억지로",
    "번거로우시겠지만",
    "번호",
    "개인",
    "개인적으로",
    "명의로",
    "명의",
    "일단",
    "일단은",
    "월요일에",
    "월말에",
    "달러",
    "달러로",
    "이번에",
    "사실",
    "오늘",
    "구매",
    "삼성",
    "조회",
    "시간",
    "분명히",
    "초본",
    "년도",
    "세대주",
    "살짝",
    "배송",
    "층에",
    "호실",
    "주소",
    "일이",
    "이거",
    "이",
    "오후에",
    "구청",
    "칠월",
    "팔월에",
]
_OPENERS = [
    "",
    "네 ",
    "네네 ",
    "아 네 ",
    "어 ",
    "음 ",
    "예 ",
    "그러니까 ",
    "잠시만요 ",
    "확인해 보니까 ",
    "저기요 ",
    "아 그게 ",
]
_CLOSERS = [
    "",
    " 확인 부탁드려요",
    " 맞나요",
    " 맞습니다",
    " 그렇게 해 주세요",
    " 메모해 주세요",
    " 다시 말씀드릴까요",
    " 됐죠",
    " 적으셨어요?",
    " 감사합니다",
    " 부탁드릴게요",
]
# Carriers: {N} is the number, {W} a word beginning with a unit syllable.
_CONTEXT_CARRIERS = {
    "RRN": [
        "주민번호 {N}",
        "주민등록번호는 {N}",
        "제 주민 번호 {N}",
        "주민번호 앞뒤로 {N}",
        "본인 확인용 주민등록번호 {N}",
        "주민 번호요 {N}",
        "{W} 주민번호는 {N}",
        "주민번호 {N} {W}",
    ],
    "FRN": [
        "외국인등록번호 {N}",
        "외국인 등록 번호는 {N}",
        "등록번호 {N}",
        "제 외국인등록번호가 {N}",
        "{W} 외국인 등록번호 {N}",
    ],
    "PHONE": [
        "제 번호는 {N}",
        "연락처는 {N}",
        "휴대폰 번호 {N}",
        "핸드폰이 {N}",
        "전화번호 {N}",
        "집 전화는 {N}",
        "회사 번호가 {N}",
        "{N} 로 연락 주세요",
        "{N} 으로 문자 주세요",
        "콜백 번호 {N}",
        "{W} 제 연락처 {N}",
        "연락처 {N} {W}",
    ],
    "CARD": [
        "카드 번호는 {N}",
        "카드번호 {N}",
        "체크카드가 {N}",
        "신용카드 {N}",
        "{N} 카드 정지해 주세요",
        "분실한 카드가 {N}",
        "{W} 카드 번호 {N}",
    ],
    "ACCOUNT": [
        "계좌번호 {N}",
        "{BANK} {N}",
        "{BANK} 계좌 {N}",
        "입금 계좌는 {N}",
        "환불받을 계좌가 {N}",
        "{N} 계좌로 보내 주세요",
        "통장 번호는 {N}",
        "{BANK} {N} 으로 이체해 주세요",
        "{W} 계좌는 {N}",
        "송금할 곳이 {BANK} {N}",
    ],
}
# Carriers without any cue word: the number alone has to give itself away.
_BARE_CARRIERS = [
    "{N}",
    "{N} 이거요",
    "그게 {N}",
    "{W} {N}",
    "{N} {W}",
    "{W} {N} {W}",
    "적어 주세요 {N}",
    "말씀드릴게요 {N}",
    "{N} 맞죠",
    "다시 한번 {N}",
]
_BANKS = [
    "국민은행",
    "신한은행",
    "우리은행",
    "하나은행",
    "농협",
    "기업은행",
    "카카오뱅크",
    "토스뱅크",
    "케이뱅크",
    "SC제일은행",
]
_BANKS += ["우체국", "새마을금고", "부산은행", "대구은행", "씨티은행"]
# Endings glued on or after the number: (text, glued?)
_ENDINGS_CLOSED = [
    "이에요",
    "이고요",
    "이요",
    "입니다",
    "이구요",
    "이거든요",
    "인데요",
    "으로요",
    "이랑요",
    "이에요.",
]
_ENDINGS_OPEN = ["예요", "고요", "요", "입니다", "구요", "거든요", "인데요", "로요", "랑요", "예요."]
_UNITS_GLUED = ["원", "번", "번이요", "번이에요", "원이요", "만", "까지", "번으로"]


@dataclass(frozen=True)
class Item:
    """One generated sentence.

    Attributes:
        text: the sentence.
        kind: "core" (holds a number to mask) or "lookalike" (nothing to mask).
        type: generated type (RRN, FRN, MOBILE … or, for look-alikes, AMOUNT, RATE, DATE …).
        form: how the number is written (see FORMS) or the look-alike's style.
        digit_positions: offsets of the characters that spell the number's digits (empty for look-alikes).
        span: (start, end) of the number as written.
    """

    text: str
    kind: str
    type: str
    form: str
    digit_positions: tuple[int, ...] = ()
    span: tuple[int, int] = (0, 0)

    @property
    def mask_type(self) -> str:
        """The type the masker should give this item."""
        return CORE_TYPES.get(self.type, "")


# ---------------------------------------------------------------- numbers


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def _luhn_complete(prefix: str) -> str:
    for last in "0123456789":
        d = prefix + last
        total = 0
        for i, ch in enumerate(reversed(d)):
            x = int(ch)
            if i % 2:
                x = x * 2 - 9 if x > 4 else x * 2
            total += x
        if total % 10 == 0:
            return d
    raise AssertionError(prefix)


def _rrn(rng: random.Random, foreigner: bool) -> list[str]:
    # Years 00-99 both sides of 2000; since Oct 2020 the last six digits are random (no check digit).
    y, m, d = rng.randint(0, 99), rng.randint(1, 12), rng.randint(1, 31 if rng.random() < 0.5 else 28)
    born_2000s = y <= 24 and rng.random() < 0.7
    if foreigner:
        first = rng.choice("78") if born_2000s else rng.choice("56")
    else:
        first = rng.choice("34") if born_2000s else rng.choice("12")
    return [f"{y:02d}{m:02d}{d:02d}", first + _digits(rng, 6)]


def _mobile(rng: random.Random) -> list[str]:
    if rng.random() < 0.85:
        return ["010", f"{rng.randint(2000, 9999)}", _digits(rng, 4)]
    prefix = rng.choice(["011", "016", "017", "018", "019"])
    return [prefix, str(rng.randint(200, 9999)), _digits(rng, 4)]


def _landline(rng: random.Random) -> list[str]:
    r = rng.random()
    if r < 0.4:
        return ["02", str(rng.randint(200, 9999)), _digits(rng, 4)]
    if r < 0.85:
        area = rng.choice(
            ["031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055"]
        )
        area = rng.choice([area, "061", "062", "063", "064"])
        return [area, str(rng.randint(200, 9999)), _digits(rng, 4)]
    return ["070", str(rng.randint(2000, 9999)), _digits(rng, 4)]


def _card(rng: random.Random) -> list[str]:
    if rng.random() < 0.15:  # American Express: 15 digits, 4-6-5
        d = _luhn_complete(rng.choice(["34", "37"]) + _digits(rng, 12))
        return [d[:4], d[4:10], d[10:]]
    prefix = rng.choice(["4", "5", "9", "6", "35"])
    body = prefix + _digits(rng, 15 - len(prefix))
    d = _luhn_complete(body) if rng.random() < 0.7 else body + str(rng.randint(0, 9))
    return [d[:4], d[4:8], d[8:12], d[12:]]


# Published layouts of the major banks' account numbers (group lengths, fixed prefix of the first group).
_ACCOUNT_LAYOUTS: list[tuple[str, list[int], str]] = [
    ("국민", [6, 2, 6], ""),
    ("국민", [3, 2, 4, 3], ""),
    ("신한", [3, 3, 6], "110"),
    ("신한", [3, 2, 6], "100"),
    ("우리", [4, 3, 6], "1002"),
    ("하나", [3, 6, 5], ""),
    ("농협", [3, 4, 4, 2], "302"),
    ("농협", [3, 4, 4, 2], "351"),
    ("농협", [6, 2, 6], ""),
    ("기업", [3, 6, 2, 3], ""),
    ("카카오뱅크", [4, 2, 7], "3333"),
    ("토스뱅크", [4, 4, 4], "1000"),
    ("케이뱅크", [3, 3, 6], "100"),
    ("SC제일", [3, 2, 6], ""),
    ("씨티", [3, 6, 3], ""),
    ("우체국", [6, 2, 6], ""),
    ("새마을금고", [4, 2, 6, 1], "9002"),
    ("부산", [3, 4, 4, 2], ""),
    ("대구", [3, 2, 6, 1], "5"),
]


def _account(rng: random.Random) -> list[str]:
    _, groups, prefix = rng.choice(_ACCOUNT_LAYOUTS)
    total = sum(groups)
    d = prefix + _digits(rng, total - len(prefix))
    if d[0] == "0":  # bank layouts start with a non-zero digit
        d = str(rng.randint(1, 9)) + d[1:]
    out, i = [], 0
    for g in groups:
        out.append(d[i : i + g])
        i += g
    return out


# ---------------------------------------------------------------- writing a number out


@dataclass
class _Piece:
    text: str
    digit: bool  # characters of this piece spell digits


def _spoken_digits(g: str, rng: random.Random, zero: str) -> list[_Piece]:
    """Digits read one by one; `zero` is 공, 영, 빵 or "mix" (공 and 영 in one number)."""
    out = []
    for c in g:
        if c != "0":
            out.append(_SINO[c][0])
        else:
            out.append(rng.choice(_SINO["0"]) if zero == "mix" else zero)
    return [_Piece("".join(out), True)]


_UNITS_WORD = [(1000, "천"), (100, "백"), (10, "십")]


def group_word(value: int) -> str:
    """A 1-9999 group read as a number: 1234 → 천이백삼십사, 1004 → 천사, 2000 → 이천."""
    out = []
    for unit, name in _UNITS_WORD:
        q, value = divmod(value, unit)
        if q:
            out.append(("" if q == 1 else _SINO[str(q)][0]) + name)
    if value:
        out.append(_SINO[str(value)][0])
    return "".join(out)


def _render(groups: list[str], form: str, rng: random.Random, typ: str) -> list[_Piece]:
    """The number as a list of pieces (digit-spelling text and separators)."""
    zero = rng.choice(["공", "공", "영", "mix"]) if rng.random() < 0.95 else "빵"
    pieces: list[_Piece] = []

    def sep(options: list[str]) -> None:
        pieces.append(_Piece(rng.choice(options), False))

    if form in ("ascii", "glued_unit"):
        s = rng.choice(["-", "-", " ", ".", " - ", "–", "/"] if typ != "CARD" else ["-", " ", " ", "-", "."])
        if typ in ("MOBILE", "LANDLINE") and rng.random() < 0.2:
            pieces.append(_Piece(f"({groups[0]})", True))
            pieces.append(_Piece(rng.choice(["", " "]), False))
            pieces.append(_Piece(groups[1], True))
            pieces.append(_Piece("-", False))
            pieces.append(_Piece(groups[2], True))
            return pieces
        for i, g in enumerate(groups):
            if i:
                pieces.append(_Piece(s, False))
            pieces.append(_Piece(g, True))
        return pieces
    if form == "ascii_unspaced":
        return [_Piece("".join(groups), True)]
    if form == "ascii_spaced":  # a slow reading as ASR writes it: "0 1 0, 1 2 3 4, …"
        for i, g in enumerate(groups):
            if i:
                sep([", ", " ", " - "])
            for j, c in enumerate(g):
                if j:
                    sep([" "])
                pieces.append(_Piece(c, True))
        return pieces
    if form == "fullwidth":
        fw = str.maketrans("0123456789-", "０１２３４５６７８９－")
        s = rng.choice(["－", "-", " ", "－"])
        for i, g in enumerate(groups):
            if i:
                pieces.append(
                    _Piece(s.translate(fw) if s != " " else "　" if rng.random() < 0.3 else " ", False)
                )
            pieces.append(_Piece(g.translate(fw), True))
        return pieces
    if form in ("spoken", "spoken_unspaced", "spoken_syllables", "spoken_fillers", "native"):
        if form == "spoken_syllables":
            flat = "".join(groups)
            for i, c in enumerate(flat):
                if i:
                    sep([" "])
                pieces += _spoken_digits(c, rng, zero)
            return pieces
        if form == "spoken_unspaced":
            return _spoken_digits("".join(groups), rng, zero)
        for i, g in enumerate(groups):
            if i:
                if form == "spoken_fillers":
                    sep([" " + f + " " for f in _FILLERS] + [", "])
                else:
                    sep([" ", " ", " - ", " 다시 ", ", ", "에 ", " 에 "])
            if form == "native" and any(c in "2" for c in g):
                # "일" and "이" sound alike on a bad line: callers say 둘 for 2 (some say every digit natively).
                all_native = rng.random() < 0.3
                prev_native = False
                for j, c in enumerate(g):
                    native = all_native and c != "0" or c == "2"
                    if j and (native or prev_native):
                        sep([" "])
                    pieces += [_Piece(_NATIVE[c], True)] if native else _spoken_digits(c, rng, zero)
                    prev_native = native
            else:
                pieces += _spoken_digits(g, rng, zero)
        return pieces
    if form == "group_words":
        for i, g in enumerate(groups):
            if i:
                sep([" ", " ", "에 ", ", ", " 다시 "])
            if g[0] != "0" and 2 <= len(g) <= 4:
                pieces.append(_Piece(group_word(int(g)), True))
            else:
                pieces += _spoken_digits(g, rng, zero)
        return pieces
    if (
        form == "labeled"
    ):  # "앞자리는 공일공이고요 가운데는 …, 끝자리는 …": each group named before it is read
        for i, g in enumerate(groups):
            first, last = i == 0, i == len(groups) - 1
            label = rng.choice(
                ["앞자리는 ", "앞번호 ", "처음은 "]
                if first
                else ["끝자리는 ", "마지막은 ", "뒷자리 "]
                if last
                else ["가운데는 ", "중간은 ", "가운데 번호는 ", "다음은 "]
            )
            if i:
                sep([rng.choice(["고요 ", "이고 ", " ", ", ", "요 "])])
            if not first or rng.random() < 0.5:
                pieces.append(_Piece(label, False))
            spoken = rng.random() < 0.6
            pieces += _spoken_digits(g, rng, zero) if spoken else [_Piece(g, True)]
        return pieces
    if form == "mixed":
        for i, g in enumerate(groups):
            if i:
                sep([" ", "-", " "])
            style = rng.choice(["ascii", "spoken", "word"])
            if style == "ascii":
                pieces.append(_Piece(g, True))
            elif style == "word" and g[0] != "0" and 2 <= len(g) <= 4:
                pieces.append(_Piece(group_word(int(g)), True))
            else:
                pieces += _spoken_digits(g, rng, zero)
        return pieces
    raise ValueError(form)


def _groups_for(typ: str, rng: random.Random) -> list[str]:
    if typ in ("RRN", "FRN"):
        return _rrn(rng, typ == "FRN")
    if typ == "MOBILE":
        return _mobile(rng)
    if typ == "LANDLINE":
        return _landline(rng)
    if typ == "INTL":
        return _mobile(rng) if rng.random() < 0.7 else _landline(rng)
    if typ == "CARD":
        return _card(rng)
    return _account(rng)


def _is_spoken(pieces: list[_Piece]) -> bool:
    return any("가" <= ch <= "힣" for p in pieces if p.digit for ch in p.text)


def _ending(pieces: list[_Piece], rng: random.Random, form: str) -> str:
    last = next(p.text for p in reversed(pieces) if p.digit)
    if form == "glued_unit":
        return rng.choice(_UNITS_GLUED)
    r = rng.random()
    if r < 0.35:
        return ""
    closed = "가" <= last[-1] <= "힣" and (ord(last[-1]) - 0xAC00) % 28 != 0
    glued = rng.random() < 0.7
    ending = rng.choice(_ENDINGS_CLOSED if closed or last[-1] in "013678" else _ENDINGS_OPEN)
    return ending if glued else " " + ending.lstrip("이")


def core_item(rng: random.Random, typ: str | None = None, form: str | None = None) -> Item:
    """One sentence holding one core number (type and form drawn at random unless given)."""
    typ = typ or rng.choice(list(CORE_TYPES))
    form = form or rng.choice(FORMS)
    groups = _groups_for(typ, rng)
    if typ == "INTL":
        national = groups
        rest = [national[0][1:]] + national[1:]
        head = rng.choice(["+82 ", "+82-", "+82 (0)", "+82)", "+82."])
        if head == "+82)":
            head = "+82 "
        if head == "+82 (0)":
            pieces = [_Piece("+82 (0)", True)] + _render(rest, "ascii", rng, "MOBILE")[0:]
        else:
            pieces = [_Piece("+82", True), _Piece(head[3:], False)] + _render(rest, "ascii", rng, "MOBILE")
        form = "ascii"
    else:
        pieces = _render(groups, form, rng, typ)
    ending = _ending(pieces, rng, form)
    if typ in ("MOBILE", "LANDLINE", "INTL"):
        carriers = _CONTEXT_CARRIERS["PHONE"]
    else:
        carriers = _CONTEXT_CARRIERS.get(typ, _CONTEXT_CARRIERS["ACCOUNT"])
    carrier = rng.choice(carriers if rng.random() < 0.75 else _BARE_CARRIERS)
    return _assemble(rng, carrier, pieces, ending, "core", typ, form)


def _assemble(
    rng: random.Random, carrier: str, pieces: list[_Piece], ending: str, kind: str, typ: str, form: str
) -> Item:
    carrier = carrier.replace("{BANK}", rng.choice(_BANKS))
    while "{W}" in carrier:
        carrier = carrier.replace("{W}", rng.choice(_UNIT_WORDS), 1)
    opener, closer = rng.choice(_OPENERS), rng.choice(_CLOSERS)
    before, after = carrier.split("{N}")
    if after.startswith(" ") and ending and not ending.startswith(" "):
        after = after  # an ending glued to the number, then the carrier's next word
    head = opener + before
    positions: list[int] = []
    pos = len(head)
    text = [head]
    for p in pieces:
        if p.digit:
            positions.extend(i for i, ch in enumerate(p.text, pos) if not ch.isspace() and ch not in "()+")
        text.append(p.text)
        pos += len(p.text)
    end = pos
    text.append(ending)
    text.append(after)
    text.append(closer)
    return Item("".join(text), kind, typ, form, tuple(positions), (len(head), end))


def core_items(n: int, seed: int = 0) -> Iterator[Item]:
    """`n` core items, types and forms cycled so every pair is covered, the rest drawn from `seed`."""
    rng = random.Random(seed)
    pairs = [(t, f) for t in CORE_TYPES for f in FORMS if t != "INTL" or f == "ascii"]
    for i in range(n):
        t, f = pairs[i % len(pairs)]
        yield core_item(rng, t, f)


# ---------------------------------------------------------------- look-alikes


def _amount(rng: random.Random) -> tuple[str, str]:
    won = rng.choice(
        [rng.randint(1, 999) * 10_000, rng.randint(1, 99_999) * 1000, rng.randint(1000, 99_999_999)]
    )
    style = rng.choice(["comma", "plain", "man", "spoken", "eok", "usd"])
    if style == "comma":
        return "comma", f"{won:,}" + rng.choice(["원", " 원", "원이요", "원 정도"])
    if style == "plain":
        return "plain", f"{won}" + rng.choice(["원", " 원", "원인데요", "원 정도요"])
    if style == "man":
        return "man", f"{won // 10_000 or 1}" + rng.choice(["만 원", "만원", "만 원이요", "만원 정도"])
    if style == "spoken":
        man = won // 10_000 or 1
        return "spoken", _korean_number(man) + rng.choice(["만 원", "만원", "만 원 정도"])
    if style == "eok":
        eok = rng.randint(1, 30)
        rest = rng.choice(
            ["", f" {rng.randint(1, 9)}천만", f" {rng.randint(1, 9999)}만", f" {rng.randint(1, 9)}천"]
        )
        return "eok", f"{eok}억{rest}" + rng.choice([" 원", "원", "", " 정도"])
    return "usd", rng.choice(
        [f"${rng.randint(10, 99999):,}", f"{rng.randint(10, 99999)}달러", f"{rng.randint(10, 999)} 불"]
    )


def _korean_number(value: int) -> str:
    """1 ≤ value < 10^8 as a positional Korean number (만 groups)."""
    high, low = divmod(value, 10_000)
    out = ""
    if high:
        out += (group_word(high) if high > 1 else "") + "만"
    if low:
        out += group_word(low)
    return out or "영"


def _lookalike(rng: random.Random) -> tuple[str, str, str]:
    kind = rng.choice(
        ["AMOUNT", "AMOUNT", "RATE", "DATE", "TIME", "COUNT", "CODE", "BRANCH", "TXID", "OTHER"]
    )
    if kind == "OTHER":
        y, m, d = rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(1, 28)
        return (
            kind,
            "other",
            rng.choice(
                [
                    f"유효기간 {m:02d}/{y % 100:02d}",
                    f"고객센터 {rng.choice(['1588', '1599', '1644', '1544'])}-{rng.randint(0, 9999):04d}",
                    f"{group_word(y)}년 {group_word(m)}월 {group_word(d)}일",
                    f"{m}월 {d}일 {rng.randint(1, 999) * 100:,}원, {m}월 {d + 1}일 {rng.randint(1, 999) * 100:,}원",
                    " ".join(f"{y - i}년" for i in range(rng.randint(2, 4))),
                    f"ARS {rng.randint(1, 9)}번 누르고 {rng.randint(1, 9)}번",
                    f"대출 기간 {rng.choice([12, 24, 36, 60])}개월 거치 {rng.choice([6, 12])}개월",
                    f"{_korean_number(rng.randint(1, 9999))}만 {group_word(rng.randint(1, 9) * 1000)} 원",
                    f"주식 {rng.randint(1, 9999):,}주 평균 {rng.randint(1000, 999999):,}원",
                    f"{y}.{m:02d}.{d:02d} ~ {y + 1}.{m:02d}.{d:02d}",
                    f"대기번호 {rng.randint(1, 999)}번",
                    f"{rng.randint(1, 30)}층 {rng.randint(101, 3099)}호",
                ]
            ),
        )
    if kind == "AMOUNT":
        style, text = _amount(rng)
        return kind, style, text
    if kind == "RATE":
        r = rng.randint(1, 200) / 20
        return (
            kind,
            "rate",
            rng.choice([f"연 {r}%", f"{r} 퍼센트", f"{r}프로", f"연 {r:.2f}%", "삼 점 오 퍼센트"]),
        )
    if kind == "DATE":
        y, m, d = rng.randint(1990, 2026), rng.randint(1, 12), rng.randint(1, 28)
        return (
            kind,
            "date",
            rng.choice(
                [
                    f"{y}년 {m}월 {d}일",
                    f"{y}-{m:02d}-{d:02d}",
                    f"{y}.{m:02d}.{d:02d}",
                    f"{y % 100:02d}.{m:02d}.{d:02d}",
                    f"{m}월 {d}일",
                    f"{y}/{m:02d}/{d:02d}",
                    f"{y}년 {m}월",
                    f"{y}.{m:02d}.{d:02d}부터 {y}.{m:02d}.{min(d + 3, 28):02d}까지",
                    f"{y}{m:02d}{d:02d}",
                ]
            ),
        )
    if kind == "TIME":
        h, mi = rng.randint(0, 23), rng.randint(0, 59)
        return (
            kind,
            "time",
            rng.choice(
                [
                    f"{h:02d}:{mi:02d}",
                    f"오후 {h % 12 or 12}시 {mi}분",
                    f"{h}시 반",
                    f"{h:02d}:{mi:02d}:{rng.randint(0, 59):02d}",
                ]
            ),
        )
    if kind == "COUNT":
        n = rng.randint(1, 999)
        return (
            kind,
            "count",
            rng.choice(
                [f"{n}개", f"{n}명", f"{n}번", f"{n}회", f"{n}개월", f"{n}건", f"{n} 개", f"{n}층", f"{n}일"]
            ),
        )
    if kind == "CODE":
        return (
            kind,
            "code",
            rng.choice(
                [
                    f"KB-{rng.randint(2000, 2026)}-{rng.randint(1, 9999):04d}",
                    f"ISA{rng.randint(100, 999)}",
                    f"상품코드 P{rng.randint(10_000_000, 99_999_999)}",
                    f"상품코드 {rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
                    f"NH{rng.randint(1000, 9999)}-{rng.randint(10, 99)}",
                ]
            ),
        )
    if kind == "BRANCH":
        return (
            kind,
            "branch",
            rng.choice(
                [
                    f"지점번호 {rng.randint(1, 9999):04d}",
                    f"{rng.randint(1, 30)}번 창구",
                    f"{rng.randint(1, 999):03d} 지점",
                    f"지점코드 {rng.randint(100, 999)}",
                ]
            ),
        )
    y, m, d = rng.randint(2020, 2026), rng.randint(1, 12), rng.randint(1, 28)
    return (
        kind,
        "txid",
        rng.choice(
            [
                f"거래번호 {y}{m:02d}{d:02d}-{rng.randint(0, 999_999):06d}",
                f"승인번호 {rng.randint(10_000_000, 99_999_999)}",
                f"주문번호 {y}{m:02d}{d:02d}{rng.randint(10000, 99999)}",
                f"접수번호 {rng.randint(100_000, 999_999)}",
                f"승인 번호는 {rng.randint(0, 99_999_999):08d}",
            ]
        ),
    )


_LOOKALIKE_CARRIERS = [
    "{N}",
    "{N} 이에요",
    "이번 달에 {N} 나갔어요",
    "{W} {N}",
    "{N} {W}",
    "{W} {N} {W}",
    "대출이 {N} 남았어요",
    "예금 {N} 만기요",
    "{N} 맞나요",
    "적금 {N} 넣었어요",
    "제가 {N} 확인했거든요",
]


def lookalike_item(rng: random.Random) -> Item:
    """One sentence holding a number that is no personal data."""
    kind, style, text = _lookalike(rng)
    carrier = rng.choice(_LOOKALIKE_CARRIERS)
    if rng.random() < 0.3:  # two look-alikes in one sentence ("3월 15일에 300만 원")
        _, _, second = _lookalike(rng)
        text = f"{text} {second}"
    return _assemble(rng, carrier, [_Piece(text, False)], "", "lookalike", kind, style)


def lookalike_items(n: int, seed: int = 0) -> Iterator[Item]:
    """`n` look-alike sentences drawn from `seed`."""
    rng = random.Random(seed + 1_000_003)
    for _ in range(n):
        yield lookalike_item(rng)


# ---------------------------------------------------------------- scoring

CORE_MASK_TYPES = frozenset(CORE_TYPES.values())


@dataclass
class Score:
    """Recall of core items per type and form, look-alikes kept, and every miss.

    Attributes:
        seen: core items per (type, form).
        missed: core items with a digit left unmasked, per (type, form).
        mistyped: core items fully masked under another type, per (type, masked type).
        lookalikes: look-alike items scored.
        masked_lookalikes: look-alikes where some core type was masked, per look-alike type.
        misses: readable lines, one per miss or masked look-alike.
    """

    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    missed: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistyped: Counter[tuple[str, str]] = field(default_factory=Counter)
    lookalikes: int = 0
    masked_lookalikes: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of core items with every digit masked."""
        total = sum(self.seen.values())
        return 1 - sum(self.missed.values()) / total if total else 1.0

    @property
    def kept(self) -> float:
        """Share of look-alikes left unmasked."""
        return 1 - sum(self.masked_lookalikes.values()) / self.lookalikes if self.lookalikes else 1.0

    def add(self, item: Item, spans: list[tuple[str, int, int]], masked_text: str) -> None:
        """Score one item against the typed spans the masker returned."""
        core = [(t, a, b) for t, a, b in spans if t in CORE_MASK_TYPES]
        if item.kind == "lookalike":
            self.lookalikes += 1
            if core:
                self.masked_lookalikes[item.type] += 1
                self.misses.append(f"KEPT? {item.type}/{item.form}: {item.text!r} -> {masked_text!r}")
            return
        key = (item.type, item.form)
        self.seen[key] += 1
        covered = {i for _, a, b in core for i in range(a, b)}
        if not set(item.digit_positions) <= covered:
            self.missed[key] += 1
            self.misses.append(f"MISS {item.type}/{item.form}: {item.text!r} -> {masked_text!r}")
            return
        first = item.digit_positions[0]
        kind = next(t for t, a, b in core if a <= first < b)
        if kind != item.mask_type:
            self.mistyped[(item.type, kind)] += 1
