"""Korean personal-data masking: typed spans and placeholders (issue #4, item 2).

Numbers are found on the normalised text (spoken numerals turned into digits, fillers dropped) and
mapped back, so only the personal data is replaced and everything else stays exactly as written.
No cloud call-analytics product masks ko-KR personal data, so the rules live here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from cdna.nlp.normalize import Normalized, normalize
from cdna.nlp.numbers import DigitRun, find_digit_runs

__all__ = [
    "PII_TYPES",
    "MaskOptions",
    "MaskResult",
    "PiiSpan",
    "find_pii",
    "luhn_ok",
    "mask",
    "mask_cached",
    "names_in",
]

PII_TYPES: tuple[str, ...] = ("RRN", "PHONE", "CARD", "ACCOUNT", "EMAIL", "NAME", "ADDRESS")


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data in the original text.

    Attributes:
        type: RRN, PHONE, CARD, ACCOUNT, EMAIL, NAME or ADDRESS.
        start: start offset in the original text.
        end: end offset (exclusive) in the original text.
    """

    type: str
    start: int
    end: int


@dataclass(frozen=True)
class MaskResult:
    """The masked text and the spans that were replaced (offsets refer to the original).

    Attributes:
        text: the text with each span replaced by its placeholder, e.g. [PHONE].
        spans: the typed spans, in order.
    """

    text: str
    spans: tuple[PiiSpan, ...]

    def counts(self) -> Counter[str]:
        """Number of masked items per type."""
        return Counter(s.type for s in self.spans)


@dataclass(frozen=True)
class MaskOptions:
    """What to mask and how.

    Attributes:
        types: PII types to mask.
        placeholder: format of the replacement; `{type}` is the PII type.
        max_chars: longer texts are masked in windows of this size (bounded work per window).
    """

    types: frozenset[str] = field(default_factory=lambda: frozenset(PII_TYPES))
    placeholder: str = "[{type}]"
    max_chars: int = 20000


_DEFAULT_OPTIONS = MaskOptions()

# ---------------------------------------------------------------- numbers

# The bank's own reference numbers come first so that "주문번호로" is a reference, not a phone cue.
_CONTEXT = re.compile(
    r"(?P<KEEP>(?:사업자|법인)\s?(?:등록)?\s?번호|(?:거래|승인|주문|접수|예약|대기|일련|사건|송장|운송장|관리|계약|증권|회원|고객|인증|비밀|쿠폰|모델|상품|지점|"
    r"영수증|문의|조회)\s?(?:번호|코드)|상품\s?코드|코드\s?번호|지점\s?코드|\b코드|레퍼런스|참조\s?번호)"
    r"|(?P<RRN>주\s?민(?:등록)?\s?(?:번호)?|등록번호|생\s?년\s?월\s?일|[앞뒷]\s?자리|외국인\s?등록)"
    r"|(?P<ACCOUNT>계좌|통장|입금|이체|송금|예금주|가상\s?계좌|은행|뱅크|농협|신한|국민|우리|하나|기업|카카오)"
    r"|(?P<CARD>카드)"
    r"|(?P<PHONE>전화|연락처|연락|핸드폰|휴대폰|휴대\s?전화|폰|번호로|문자|팩스|콜백|집\s?번호|국번)"
)
_PHONE = re.compile(r"01[016789]\d{7,8}|02\d{7,8}|0[3-6][1-5]\d{7,8}|070\d{8}|050\d{8,9}")
_TOLL_FREE = re.compile(r"080\d{7}")
_MOBILE = re.compile(r"01[016789]\d{7,8}")
_SERVICE = re.compile(r"1[56]\d\d\d{4}|18\d\d\d{4}")


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check used by card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _rrn_ok(d: str) -> bool:
    month, day = int(d[2:4]), int(d[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31 and d[6] in "12345678"


def _birth_ok(d: str) -> bool:
    return len(d) in (6, 7) and 1 <= int(d[2:4]) <= 12 and 1 <= int(d[4:6]) <= 31


def _nearest_context(text: str, start: int) -> str | None:
    window = text[max(0, start - 40) : start]
    kind = None
    for m in _CONTEXT.finditer(window):
        kind = m.lastgroup
    return kind


def _following_context(text: str, end: int) -> str | None:
    m = _CONTEXT.search(text[end : end + 10])
    return m.lastgroup if m else None


def _classify(d: str, groups: list[int], ctx: str | None) -> str | None:
    n = len(d)
    if n == 6 and ctx == "RRN" and _birth_ok(d):
        return "RRN"
    if n < 7:
        return None
    if n <= 8:
        if ctx == "RRN" and (n == 7 and d[0] in "12345678" or _birth_ok(d)):
            return "RRN"  # 뒷자리 alone, or 생년월일 (+ the first back digit) given for identification
        if ctx == "PHONE" and not _SERVICE.fullmatch(d) and len(groups) <= 2:
            return "PHONE"  # local number without area code
        if ctx == "ACCOUNT" and n == 8 and len(groups) >= 2:
            return "ACCOUNT"
        return None
    if _TOLL_FREE.fullmatch(d):
        return None  # 080-…: a company's free number, never a customer's
    phone = bool(_PHONE.fullmatch(d))
    if ctx == "RRN" and n == 13:
        return "RRN"
    if ctx == "CARD" and 14 <= n <= 16:
        return "CARD"
    if ctx == "ACCOUNT" and 10 <= n <= 16 and not (phone and groups in ([3, 4, 4], [3, 3, 4], [2, 4, 4])):
        return "ACCOUNT"
    if phone:
        return "PHONE"
    if n == 13 and _rrn_ok(d) and (len(groups) == 1 or tuple(groups) not in _USUAL["ACCOUNT"]):
        return "RRN"  # 1002-123-456789 is a Woori account, 100212-3456789 a resident number
    if n in (15, 16):
        return "CARD"  # no bank account has 15 or 16 digits
    if 9 <= n <= 16:
        return "ACCOUNT" if n >= 10 or ctx is not None else None
    return None


def _amount_shaped(run: DigitRun) -> bool:
    """Digits an amount can be written with: no leading zero, one group or thousands groups, round when long."""
    d, g = run.digits, run.groups
    if d[0] == "0" or len(d) > 12:
        return False
    if len(g) == 1:
        return len(d) <= 9 or d.endswith("000")
    return not run.spoken and g[0] <= 3 and all(x == 3 for x in g[1:])


def _strong(kind: str | None, ctx: str | None) -> bool:
    if kind in ("PHONE", "RRN", "CARD"):
        return True
    return kind == "ACCOUNT" and ctx == "ACCOUNT"


def _classify_run(text: str, run: DigitRun) -> list[tuple[str, int, int]]:
    """Type of one number read or written in `text`; [] when it is an amount, a code or too short."""
    if run.code:
        return []
    ctx = _nearest_context(text, run.start) or _following_context(text, run.end)
    if run.international:
        return [("PHONE", run.start, run.end)] if len(run.digits) >= 9 else []
    if not run.spoken and sum(1 for g in run.groups if g <= 2) >= 3 and not _spaced_digits(text, run):
        return []  # "1 2 3 4 5 … 10", "2024 03 15 14 30": counts and dates, not a person's number
    k = len(run.groups)
    if run.money and (
        _amount_shaped(run) or k > 1 and _is_short(text, run, 0) and _amount_shaped(run.sub(1, k))
    ):
        return []  # "… 일이 27363000원": a word, then an amount
    if ctx == "KEEP" and not (_MOBILE.fullmatch(run.digits) and _usual("PHONE", run.groups)):
        return []  # 주문번호, 승인번호, 상품코드 …: the bank's own references
    ctx = None if ctx == "KEEP" else ctx
    # Other ways to cut the run, each with whether the whole run is still masked. A short group at either
    # end may be a word ("이 번호로", "… 일이 있어서"): it only decides the type, and is masked with the
    # number all the same (masking a word costs little, leaving a digit leaks it). So is a copula written
    # apart ("… 둘 구요"); an amount after the number ("… 오육칠팔 300만원") is left out.
    short = [k > 1 and _is_short(text, run, i) for i in (0, k - 1)]
    heads = [0, 1] if short[0] else [0]
    tails = [(k, True)] + ([(k - 1, True)] if short[1] else [])
    if (run.money or run.counted or run.copula_last) and k > 1:
        # A lone 구/이 is masked all the same; a quantity ("… 25억", "640일") is not.
        tails.append((k - 1, run.copula_last and not (run.money or run.counted)))
    candidates = [(run.sub(h, t), whole) for h in heads for t, whole in tails if t - h >= 1]
    default_kind = _classify(run.digits, list(run.groups), ctx)
    # The end of the run under any reading with the usual groups for its type ("…삼이랑요": 3 + 이랑요 or
    # 32 + 랑요): a possible digit is masked with the number; masking a copula too costs nothing.
    usual_end = max(
        [
            r.end
            for r in run.readings()
            if (t := _classify(r.digits, list(r.groups), ctx)) and _usual(t, r.groups)
        ]
        + [run.end]
    )
    for any_reading in (False, True):
        if any_reading and default_kind is not None:
            break
        best: tuple[tuple[bool, bool, int, bool, int, int], str, int, int] | None = None
        for rank, (cand, whole) in enumerate(candidates):
            for i, reading in enumerate(cand.readings()):
                kind = _classify(reading.digits, list(reading.groups), ctx)
                if kind is None or not _strong(kind, ctx):
                    continue
                usual = _usual(kind, reading.groups)
                if i and not usual and not any_reading:
                    continue  # another reading of an ending counts first only when it gives usual groups
                # Usual group lengths (010-1234-5678) first; then the whole run, its longest reading first;
                # then a cut whose digits pass their type's check (a valid date, Luhn).
                full = rank == 0
                score = (
                    usual,
                    full,
                    reading.end if full else 0,
                    _valid(kind, reading.digits),
                    -rank,
                    reading.end,
                )
                end = max(usual_end, reading.end) if whole else reading.end
                if best is None or score > best[0]:
                    best = (score, kind, min(run.start, reading.start), end)
        if best is not None:
            return [(best[1], best[2], best[3])]
    typed = [(r, _classify(r.digits, list(r.groups), ctx)) for r in run.readings()]
    if any(kind for _, kind in typed):
        reading, kind = max(
            ((r, t) for r, t in typed if t), key=lambda rt: (_usual(str(rt[1]), rt[0].groups), rt[0].end)
        )
        return [(str(kind), reading.start, max(reading.end, usual_end))]
    if len(run.digits) > 16:
        return _split_long(run, ctx)
    return []


# Group lengths as each type is usually written or read (bank layouts from the banks' own numbering).
_USUAL: dict[str, frozenset[tuple[int, ...]]] = {
    "PHONE": frozenset([(3, 4, 4), (2, 4, 4), (2, 3, 4), (3, 3, 4), (11,), (10,), (9,)]),
    "RRN": frozenset([(6, 7), (13,)]),
    "CARD": frozenset([(4, 4, 4, 4), (4, 6, 5), (16,), (15,)]),
    "ACCOUNT": frozenset(
        [(6, 2, 6), (3, 2, 4, 3), (3, 3, 6), (3, 2, 6), (4, 3, 6), (3, 6, 5), (3, 4, 4, 2), (3, 6, 2, 3)]
        + [(4, 2, 7), (4, 4, 4), (3, 6, 3), (4, 2, 6, 1), (3, 2, 6, 1), (10,), (11,), (12,), (13,), (14,)]
    ),
}
# Words that sound like digits and stand next to numbers: "이 번호로", "… 일이 있어서", "이사 가서".
_DIGIT_WORDS = frozenset(["이", "일", "일이", "이사", "사이", "오이"])


def _valid(kind: str, digits: str) -> bool:
    """Whether the digits pass the checks their type allows (a date in an RRN, Luhn for a card)."""
    if kind == "PHONE":
        return bool(_PHONE.fullmatch(digits))
    if kind == "RRN":
        return len(digits) != 13 or _rrn_ok(digits)
    if kind == "CARD":
        return luhn_ok(digits)
    return True


def _usual(kind: str, groups: tuple[int, ...]) -> bool:
    # Read out one syllable at a time, a number keeps no groups to judge by.
    return groups in _USUAL[kind] or max(groups) == 1


def _spaced_digits(text: str, run: DigitRun) -> bool:
    """Digits written one by one ("0 1 0 1 2 3 4 …", as ASR writes a slow reading), not a count or a date."""
    values = [int(text[a:b]) for a, b in run.bounds if text[a:b].isdigit()]
    counting = len(values) == len(run.groups) and all(
        y == x + 1 for x, y in zip(values, values[1:], strict=False)
    )
    if counting:
        return False
    d = run.digits
    return (
        max(run.groups) == 1
        or bool(_PHONE.fullmatch(d))
        or (len(d) == 13 and _rrn_ok(d))
        or (len(d) in (15, 16) and luhn_ok(d))
    )


def _is_short(text: str, run: DigitRun, i: int) -> bool:
    a, b = run.bounds[i]
    return text[a:b] in _DIGIT_WORDS


def _number_spans(text: str, norm: Normalized) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    prefix: DigitRun | None = None
    for run in find_digit_runs(text, norm, min_digits=2):
        if len(run.digits) < 6:
            alone = len(run.groups) == 1 and not (run.money or run.counted or run.code)
            prefix = run if alone and _PHONE_PREFIX.fullmatch(run.digits) else None
            continue
        found = _classify_run(text, run)
        if (
            not found
            and prefix is not None
            and run.start - prefix.end <= 20
            and (run.groups in ((3, 4), (4, 4), (7,), (8,)) or max(run.groups) == 1)
            and not (run.money or run.counted or run.code)
            and _nearest_context(text, run.start) != "KEEP"
        ):
            # "공일공 다시 말해서 일이삼사 오육칠팔": the prefix and the number, with words between them.
            found = [("PHONE", run.start, run.end)]
            out.append(("PHONE", prefix.start, prefix.end))
        for kind, a, b in found:
            out.extend((kind, x, y) for x, y in run.parts(a, b))
        prefix = None
    return out


_PHONE_PREFIX = re.compile(r"01[016789]|02|0[3-6][1-5]|070")


def _split_long(run: DigitRun, ctx: str | None) -> list[tuple[str, int, int]]:
    """Two numbers read back to back ("010 1234 5678 02 123 4567"): split at the groups' usual lengths.

    From each position the prefix of groups that best looks like one number is taken; a group left over is
    masked with the number before it.
    """
    out: list[tuple[str, int, int]] = []
    i = 0
    k = len(run.groups)
    while i < k:
        found = None
        best: tuple[bool, bool, int] | None = None
        for j in range(min(k, i + 8), i, -1):
            part = run.sub(i, j)
            kind = _classify(part.digits, list(part.groups), ctx) if len(part.digits) <= 16 else None
            if kind is None:
                continue
            # Usual lengths first, then a type its digits prove (010-…, a valid date), then the longest.
            score = (_usual(kind, part.groups), _strong(kind, ctx) and _valid(kind, part.digits), j)
            if best is None or score > best:
                best, found = score, (kind, part.start, part.end, j)
        if found is None:
            if out:  # a stray group between numbers: masked with the one before (a digit left out leaks)
                out[-1] = (out[-1][0], out[-1][1], run.bounds[i][1])
            i += 1
            continue
        out.append(found[:3])
        i = found[3]
    if not out:  # an unbroken 17+ digit string is an identifier of some kind: mask it whole
        out.append(("ACCOUNT", run.start, run.end))
    return out


# ---------------------------------------------------------------- email, names, addresses

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+공영일이삼사오육칠팔구-]{0,63}\s?(?:@|골뱅이)\s?"
    r"(?:[A-Za-z0-9-]+|네이버|다음|한메일|지메일|카카오|네이트)(?:\s?(?:\.|닷|점)\s?(?:[A-Za-z]{2,}|컴|넷|케이알))*"
)
_SURNAMES = (
    "남궁|제갈|선우|황보|독고|사공|김|이|박|최|정|강|조|윤|장|임|한|오|서|신|권|황|안|송|류|유|전|홍|고|문|양|손|배|"
    "백|허|남|심|노|하|곽|성|차|주|우|구|민|진|지|엄|채|원|천|방|공|현|함|변|염|여|추|도|소|석|선|설|마|길|연|위|표|"
    "명|기|반|라|왕|금|옥|육|인|맹|제|모|탁|국|어|은|편|용|예|봉|경|봉|부|피|변|감|태|나"
)
_END = r"(?=\s|$|[.,?!~]|입니다|이에요|이예요|예요|에요|이요|요|이고|이구|고요|인데|이라고|라고|이세요|세요|님|씨|고객|으로|로|이랑|랑|한테|께|의\s)"
_NAME = rf"(?:{_SURNAMES})\s?[가-힣]{{2}}{_END}|(?:{_SURNAMES})[가-힣]{_END}"
_NOT_NAMES = frozenset(
    [
        "우수",
        "기존",
        "신규",
        "해당",
        "모든",
        "다른",
        "일반",
        "개인",
        "법인",
        "주요",
        "장기",
        "우대",
        "소중한",
        "이용",
        "관련",
        "전체",
        "고객",
        "본인",
        "가족",
        "부모",
        "남편",
        "아내",
        "어머니",
        "아버지",
        "주부",
        "직장인",
        "사장",
        "대표",
        "사업자",
        "학생",
        "노인",
        "공무원",
        "회원",
        "명의",
        "예금",
        "대출",
        "카드",
        "통장",
        "상담",
        "직원",
        "담당",
        "은행",
        "지금",
        "이제",
        "오늘",
        "내일",
        "어제",
        "다시",
        "정말",
        "진짜",
        "제가",
        "저희",
        "우리",
        "그냥",
        "혹시",
        "아니",
        "네네",
        "맞아",
        "맞습",
        "감사",
        "고맙",
        "안녕",
        "여보",
        "상담원",
        "문의",
        "확인",
        "변경",
        "신청",
        "해지",
        "가입",
        "한도",
        "분실",
        "정지",
        "도난",
        "금리",
        "이자",
        "상환",
        "만기",
        "연장",
        "송금",
        "이체",
        "입금",
        "출금",
        "결제",
        "전화",
        "주소",
        "이름",
        "성함",
        "번호",
        "계좌",
        "비밀",
        "인증",
        "보안",
        "앱을",
        "어플",
        "모바일",
        "인터넷",
        "지점",
        "창구",
        "본점",
        "센터",
        "콜센",
        "고객님",
        "선생",
        "사모",
        "이번",
        "저번",
        "유선",
        "문자",
        "서류",
        "신분",
        "등본",
        "초본",
        "소득",
        "재직",
        "원천",
        "경력",
        "연봉",
        "월급",
        "급여",
        "성과",
        "보험",
        "연금",
        "펀드",
        "주식",
        "증권",
        "청약",
        "적금",
        "정기",
        "전세",
        "월세",
        "주택",
        "아파트",
        "이사",
        "결혼",
        "출산",
        "육아",
        "자녀",
        "아이",
        "아기",
        "아들",
        "딸이",
        "장인",
        "장모",
        "시어",
        "시댁",
        "친정",
        "오빠",
        "언니",
        "누나",
        "형님",
        "동생",
        "할머",
        "할아",
        "삼촌",
        "이모",
        "고모",
        "조카",
        "사촌",
        "친구",
        "동료",
        "선배",
        "후배",
        "이웃",
        "주인",
        "집주",
        "세입",
        "임대",
        "임차",
        "공인",
        "중개",
        "부동",
        "기사",
        "정도",
        "조금",
        "좀더",
        "많이",
        "빨리",
        "천천",
        "이게",
        "그게",
        "저게",
        "여기",
        "거기",
        "저기",
        "무슨",
        "어떤",
        "어떻",
        "이런",
        "그런",
        "저런",
        "왜요",
        "뭐요",
        "모르",
        "알겠",
        "되나",
        "되는",
        "하는",
        "했는",
        "했어",
        "할게",
        "할까",
        "하고",
        "해서",
        "해요",
        "합니",
        "하나",
        "둘이",
        "셋이",
        "넷이",
        "다섯",
        "여섯",
        "일곱",
        "여덟",
        "아홉",
        "열이",
    ]
)
_VERBAL = frozenset("하해되돼했됐요을를만에의로며면")
_NAME_CUES = [
    re.compile(
        rf"(?:성함|이름|예금주|명의자?|본인\s?이름|수령인|받는\s?분)(?:은|이|는|이요|가|이\s?요)?\s?(?:요|는|은)?\s?[:은는이가]?\s?(?P<n>{_NAME})"
    ),
    re.compile(
        rf"(?:^|\s)(?:저는|제가|저|난|나는|본인은)\s(?P<n>{_NAME})(?=\s?(?:입니다|이에요|이예요|예요|이고요|인데요|인데|이라고|라고|이거든|이요))"
    ),
    re.compile(rf"(?:^|\s)(?P<n>{_NAME})(?=\s?(?:고객님|님|씨)(?![가-힣]{{0,1}}(?:께서는|들)))"),
    # A turn that answers "성함이 어떻게 되세요?": "김병철이고요 …", "네 윤태현입니다".
    re.compile(
        rf"(?:^|¶)\s*(?:(?:네네|네|어|아|음|그러니까|저기|저는|제|이름은|성함은)[,.]?\s?)*(?P<n>(?:{_SURNAMES})[가-힣]{{2}})"
        r"(?=(?:이고요|고요|이구요|구요|입니다|이에요|이예요|예요|인데요|이요)(?:[\s,.!?]|$))"
    ),
]
_ROAD = re.compile(
    r"(?<![가-힣])[가-힣0-9]{1,12}(?<!으)(?:로|길)\s?(?:[0-9]{1,4}|[공일이삼사오육칠팔구십백]{2,5})(?:번?길\s?[0-9]{1,4})?(?:-[0-9]{1,4})?(?![0-9%]|[.,][0-9])"
    r"(?:\s?,?\s?[0-9]{1,4}\s?호)?"
    r"(?!\s?(?:시|분|개|원|만|번(?!길|지)|명|차|회|년|월|일|%|퍼|층|배|km|키로|미터))"
)
_JIBUN = re.compile(
    r"(?<![가-힣])[가-힣]{2,6}[0-9]?(?:동|리)\s?[0-9]{1,4}(?:-[0-9]{1,4})?(?![0-9%]|[.,][0-9])(?:\s?번지)?"
    r"(?!\s?(?:시|분|개|원|만|번(?!지)|명|차|회|년|월|일|%|퍼|층|배|호|동))"
)
_UNIT = re.compile(r"(?<![0-9])[0-9]{1,4}\s?동\s?[0-9]{1,4}\s?호")
_JIBUN_STOP = frozenset(
    [
        "앞자리",
        "뒷자리",
        "끝자리",
        "금리",
        "자리",
        "네자리",
        "두자리",
        "세자리",
        "한자리",
        "다섯자리",
        "여섯자리",
        "자동",
        "이동",
        "활동",
        "운동",
        "행동",
        "변동",
        "연동",
        "작동",
        "수동",
        "공동",
        "합동",
        "노동",
        "감동",
        "거동",
        "출동",
        "가동",
        "정리",
        "관리",
        "처리",
        "수리",
        "무리",
        "거리",
        "요리",
        "우리",
    ]
)


def _word_spans(norm: Normalized) -> list[tuple[str, int, int]]:
    text = norm.text
    out: list[tuple[str, int, int]] = []
    for m in _EMAIL.finditer(text):
        out.append(("EMAIL", m.start(), m.end()))
    for cue in _NAME_CUES:
        for m in cue.finditer(text):
            name = m.group("n")
            flat = name.replace(" ", "")
            # "정지해" is a verb, "정지훈" a name: a common-word prefix only disqualifies before a verbal syllable.
            if flat in _NOT_NAMES or (flat[:2] in _NOT_NAMES and (len(flat) < 3 or flat[2] in _VERBAL)):
                continue
            if cue is _NAME_CUES[-1] and (
                name[-1] in "하되했돼해가나다지니까요서게고" or name[1:] in _NOT_NAMES
            ):
                continue
            out.append(("NAME", m.start("n"), m.end("n")))
    for m in _UNIT.finditer(text):
        out.append(("ADDRESS", m.start(), m.end()))
    for m in _ROAD.finditer(text):
        word = m.group(0).split()[0]
        if len(word) < 2 or word in ("으로", "이로", "그길"):
            continue
        out.append(("ADDRESS", m.start(), m.end()))
    for m in _JIBUN.finditer(text):
        word = m.group(0).split()[0]
        if word in _JIBUN_STOP or len(word) < 2:
            continue
        out.append(("ADDRESS", m.start(), m.end()))
    return out


_PRIORITY = {"EMAIL": 0, "RRN": 1, "CARD": 2, "PHONE": 3, "ACCOUNT": 4, "ADDRESS": 5, "NAME": 6}


def _resolve(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Keep non-overlapping spans, preferring number types, then longer spans."""
    spans = sorted(spans, key=lambda s: (_PRIORITY[s[0]], -(s[2] - s[1]), s[1]))
    kept: list[tuple[str, int, int]] = []
    for s in spans:
        if all(s[2] <= k[1] or s[1] >= k[2] for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s[1])


def _every_mention(
    text: str, spans: list[tuple[str, int, int]], known: frozenset[str]
) -> list[tuple[str, int, int]]:
    """Mask a name wherever it recurs, not only where a cue ("성함이", "고객님") showed it was a name."""
    names = {text[a:b].replace(" ", "") for kind, a, b in spans if kind == "NAME"} | known
    if not names:
        return spans
    extra = [("NAME", a, b) for a, b in _mentions(text, names)]
    return _resolve(spans + extra)


def _mentions(text: str, names: set[str]) -> list[tuple[int, int]]:
    pattern = re.compile(
        "|".join(re.escape(n[0]) + r"\s?" + re.escape(n[1:]) for n in sorted(names, key=len, reverse=True))
    )
    # A name stands as a word: not preceded by another syllable ("홍길동" in "김홍길동" is not a mention).
    return [
        (m.start(), m.end())
        for m in pattern.finditer(text)
        if not (m.start() and "가" <= text[m.start() - 1] <= "힣")
    ]


_QUICK = re.compile(
    r"[\d@]|골뱅이|고요|구요|입니다|이에요|예요|이요|[공영빵일이삼사오육칠팔구천백십둘셋넷]\s?[공영빵일이삼사오육칠팔구천백십둘셋넷]|하나|다섯|여섯|일곱|여덟|아홉|성함|이름|예금주|명의|저는|제가|님|씨|로|길|동|리|가"
)


def find_pii(
    text: str, options: MaskOptions | None = None, context: str = "", names: frozenset[str] = frozenset()
) -> list[PiiSpan]:
    """Typed personal-data spans of `text` (offsets in `text`).

    Args:
        text: any text (transcript segment, memo, free text).
        options: which types to look for.
        context: the previous turn, if any ("성함이 어떻게 되세요?" makes "윤태현입니다" a name).
        names: names already found elsewhere in the same call; every mention of them is a NAME.

    Returns:
        Non-overlapping spans in text order.
    """
    options = options or _DEFAULT_OPTIONS
    if not text:
        return []
    if context and len(text) < options.max_chars:
        head = context[-80:].replace("¶", " ") + " ¶"
        spans = find_pii(head + text, options, names=names)
        return [
            PiiSpan(s.type, s.start - len(head), s.end - len(head)) for s in spans if s.start >= len(head)
        ]
    if not _QUICK.search(text) and not (names and any(n in text for n in names)):
        return []
    out: list[PiiSpan] = []
    step = options.max_chars
    for base in range(0, len(text), step):
        # Windows overlap by 200 characters so a number on a boundary is seen whole.
        chunk = text[base : base + step + 200]
        norm = normalize(chunk, numbers=False)
        words = [(kind, *norm.to_original(a, b)) for kind, a, b in _word_spans(norm)]
        found = _resolve(_number_spans(chunk, norm) + words)
        found = _every_mention(chunk, found, names)
        for kind, oa, ob in found:
            if kind not in options.types:
                continue
            span = PiiSpan(kind, base + oa, base + ob)
            if not out or span.start >= out[-1].end:
                out.append(span)
    return out


def mask(
    text: str, options: MaskOptions | None = None, context: str = "", names: frozenset[str] = frozenset()
) -> MaskResult:
    """Replace personal data in `text` by typed placeholders; all other characters stay as written.

    Args:
        text: the text to mask.
        options: types and placeholder format.
        context: the previous turn of the conversation, used only to find cues.
        names: names found elsewhere in the call (see `names_in`), masked wherever they recur.

    Returns:
        The masked text and the typed spans (offsets in the original).
    """
    options = options or _DEFAULT_OPTIONS
    spans = find_pii(text, options, context, names)
    if not spans:
        return MaskResult(text, ())
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(options.placeholder.format(type=s.type))
        pos = s.end
    parts.append(text[pos:])
    return MaskResult("".join(parts), tuple(spans))


def names_in(text: str, result: MaskResult) -> frozenset[str]:
    """The names `result` masked in `text`, to pass as `names` when masking the call's other turns."""
    return frozenset(text[s.start : s.end].replace(" ", "") for s in result.spans if s.type == "NAME")


@lru_cache(maxsize=200_000)
def mask_cached(text: str) -> MaskResult:
    """`mask` with default options, cached: memos and merchant names repeat heavily."""
    return mask(text)
