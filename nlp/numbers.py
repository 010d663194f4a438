"""Digit sequences as people say or type them on a call, with their place in the text (issue #14, item 1).

A bank number read out over the phone comes in many shapes: ASCII or full-width digits with dashes, dots,
spaces or parentheses; Sino-Korean digits one by one (공일공, 영 and 빵 for zero); groups read as numbers
(천이백삼십사 for 1234); native numerals used to tell 일 from 이 (둘); and fillers between the groups
("공일공 하고요 육육육육 어 칠칠칠칠"). `find_digit_runs` turns every such stretch into one `DigitRun`: the digits,
their groups, and the span of the text as written, so a masker can classify the number and replace exactly
what was said. Deciding what the number *is* (phone, account, amount …) is left to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from cdna.nlp.normalize import Normalized, normalize

__all__ = ["DigitRun", "find_digit_runs", "spoken_group_digits"]

_SINO = "공영빵일이삼사오육륙칠팔구"
_SINO_DIGIT = {"공": "0", "영": "0", "빵": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5"}
_SINO_DIGIT.update({"육": "6", "륙": "6", "칠": "7", "팔": "8", "구": "9"})
_NATIVE = {"하나": "1", "둘": "2", "셋": "3", "넷": "4", "다섯": "5", "여섯": "6", "일곱": "7", "여덟": "8"}
_NATIVE["아홉"] = "9"
_CORE = rf"(?<![0-9.\-])[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9]|[\-.][0-9])|[0-9]+|하나|둘|셋|넷|다섯|여섯|일곱|여덟|아홉|[{_SINO}십백천]+"
# Dash-like characters NFKC leaves alone.
_SEP = r"[\s\-.()/·,_\u2010-\u2015\u2212]"
# A particle or copula glued to a group inside a run ("공일공에", "일이삼사이고요").
_GLUE = (
    r"(?:이|으)?(?:고요|구요|고|구|요|에(?!요)|의|랑|하고요|하고|며)?"  # "…이에요, 300만원": a sentence ends
)
# Words people put between the groups of a number they read out.
_FILLER = (
    r"(?:하고요|하고|그리고요|그리고|그\s?다음에?|다음에?|다시|대시|하이픈|빼기|쩜|점|닷|땡|어+|음+|으음|아|저기|저|"
    r"그|그러니까요?|그게|뭐더라|뭐였더라|어디\s?보자|뭐|네|예|이고요|이구요|이고|고요|구요|이요|요|에|의|있고요|있구요|맞고요|맞구요|잠깐만요|잠시만요|"
    r"이랑|랑|국번|아니|아니요|아니고|뭐지|뭐였지|있잖아요|근데)"
)
# Words that name the next group ("앞자리는 …, 뒷자리는 …", "가운데 번호는 …"): the number goes on, and the
# masked text keeps them between its parts.
_LABEL = r"(?:앞|뒷|뒤|끝|가운데|중간|마지막|첫|처음|그\s?다음|다음)\s?(?:자리|번호|부분|번째)?(?:는|은|이|가|요|에)?"
_LABEL_RE = re.compile(rf"(?<![가-힣]){_LABEL}(?![가-힣])")
_JOIN = rf"{_GLUE}{_SEP}*(?:(?:{_FILLER}|{_LABEL})[,.…~]*{_SEP}+){{0,3}}"
_FILLER_RE = re.compile(rf"{_FILLER}[,.…~]*")
_CHAIN = re.compile(rf"(?:\+\s?)?(?:{_CORE})(?:{_JOIN}(?:{_CORE}))*")
_CORE_RE = re.compile(_CORE)
# What may follow a group directly and still leave it a number: particles, copula, and the counters and
# units that callers glue to a number ("…오육칠팔번이요", "01012345678원").
_ENDING = re.compile(
    r"(?:번|원|호|달러|불)?(?:이|으)?(?:에요|예요|요|고요|구요|고|구|에|의|로|로요|은|는|을|를|도|만|까지|까지요|랑|랑요|"
    r"하고|하고요|입니다|인데요|인데|인가요|인지|라고|라고요|었어요|였어요|었고요|었는데|거든요|거든|다|죠|지요|라서|"
    r"니까|니까요|면|며|에서|부터|나|나요|야|에다|가|지|세요|시죠|예요|네요|고요)?"
)
_COPULA_NEXT = set("에었였고구요라니랑다야죠면며지거")
_POSITIONAL = re.compile(
    r"((?:[일이삼사오육칠팔구]?천)?(?:[일이삼사오육칠팔구]?백)?(?:[일이삼사오육칠팔구]?십)?)([일이삼사오육칠팔구]?)"
)
_HANGUL_WORD = re.compile(r"[가-힣]+")
# A year-month-day date typed with one separator, or a clock time: never part of a longer number.
_DATE = re.compile(
    r"(?<![0-9])(?:(?:19|20)[0-9]{2}([-./])\s?(?:0?[1-9]|1[0-2])\1\s?(?:0?[1-9]|[12][0-9]|3[01])"
    r"|(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"|[0-9]{2}\.(?:0[1-9]|1[0-2])\.(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?<![/.])(?:0[1-9]|1[0-2])/[0-9]{2}(?![/.]?[0-9]))(?![0-9])"  # … or a card's expiry, MM/YY
)
_TIME = re.compile(r"(?<![0-9])[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])")
_MONEY_GLUE = re.compile(r"(?:만|억|조|천|원|달러|불|엔|유로|위안|%|퍼센트|프로)")
_MONEY_WORD = re.compile(
    r"\s?(?:만\s?원|천\s?원|원|달러|불|엔|유로|위안|만|억|조)(?=$|[\s.,!?]|이|을|를|은|는|도|만|씩|정도|쯤|짜리|까지|으로|인데|입니|이요|요|가|에|의|밖에)"
)
# A unit or counter right after the last group ("… 25억", "640일", "6.8 퍼센트"): that group is a quantity.
_COUNTER_AFTER = re.compile(
    r"(?:억|만|천|조|원|달러|불|%|퍼센트|프로|시|분|초|일|개월|개|명|번째|회|년|월|주|층|호|건|배|살|세|점)"
    r"|\s(?:퍼센트|프로|%|개월|억|만\s?원|원|달러|불)(?![가-힣])"
)
# The numbers companies publish (대표번호 1588-1234): never a person's, never part of one.
_SERVICE_NUMBER = re.compile(
    rf"(?<![0-9)\-.{_SINO}십백천])(?<![0-9)\-.{_SINO}십백천]\s)1[5-9][0-9]{{2}}-[0-9]{{4}}(?![0-9]|-[0-9])"
)
# A day of the month read out after its month ("오월 이십칠일"): a date, not digits.
_SPOKEN_DAY = re.compile(r"(?:[이삼]?십[일이삼사오육칠팔구]?|[일이삼사오육칠팔구])일")
_CURRENCY_BEFORE = re.compile(r"(?:₩|\$|€|¥|£|USD|KRW)\s?$")


@dataclass(frozen=True)
class DigitRun:
    """One number as written or read out, in the coordinates of the original text.

    Attributes:
        digits: the digits, in order.
        groups: the length of each group as said or written ([3, 4, 4] for 010-1234-5678).
        bounds: original (start, end) of each group.
        start: start of the number in the original text.
        end: end (exclusive) in the original text.
        spoken: some group was read out in Korean.
        international: written with +82 / 0082; `digits` then holds the national number.
        money: looks like an amount (a money unit follows, a currency sign precedes, or thousands commas).
        code: glued to letters, like a product or reference code (KB-2024-0315).
        counted: a unit or counter follows the last group ("… 25억", "640일"): that group is a quantity.
        tail_readings: other readings of the last group's end, as (digits of the last group, shift of the
            end offset): "…칠이구요" is 7 + 이구요, 72 + 구요 or 729 + 요.
        copula_last: the last group is a lone 이 or 구 before an ending, maybe the copula written apart.
        breaks: indices of groups a label word precedes ("뒷자리는 …").
        inner_readings: (group index, digits) of other readings of groups inside the run ("사이고 …": 4 or 42).
    """

    digits: str
    groups: tuple[int, ...]
    bounds: tuple[tuple[int, int], ...]
    start: int
    end: int
    spoken: bool = False
    international: bool = False
    money: bool = False
    code: bool = False
    counted: bool = False
    tail_readings: tuple[tuple[str, int], ...] = ()
    copula_last: bool = False
    breaks: tuple[int, ...] = ()
    inner_readings: tuple[tuple[int, str], ...] = ()

    def parts(self, start: int, end: int) -> list[tuple[int, int]]:
        """[start, end) cut where a label names the next group ("…이고 뒷자리 …"): the label stays readable."""
        cuts = [self.bounds[i][0] for i in self.breaks if start < self.bounds[i][0] < end]
        ends = [self.bounds[i - 1][1] for i in self.breaks if start < self.bounds[i][0] < end]
        return list(zip([start, *cuts], [*ends, end], strict=True))

    def readings(self) -> list[DigitRun]:
        """This run and the other readings of its end."""
        out = [self]
        last = self.groups[-1]
        a, b = self.bounds[-1]
        for digits, shift in self.tail_readings:
            if not digits or b + shift <= a:
                continue
            out.append(
                replace(
                    self,
                    digits=self.digits[:-last] + digits,
                    groups=self.groups[:-1] + (len(digits),),
                    bounds=self.bounds[:-1] + ((a, b + shift),),
                    end=b + shift,
                    tail_readings=(),
                    copula_last=False,
                )
            )
        for index, digits in self.inner_readings[:3]:
            out += [r._with_group(index, digits) for r in out]
        return out

    def _with_group(self, index: int, digits: str) -> DigitRun:
        offs = [0]
        for g in self.groups:
            offs.append(offs[-1] + g)
        return replace(
            self,
            digits=self.digits[: offs[index]] + digits + self.digits[offs[index + 1] :],
            groups=self.groups[:index] + (len(digits),) + self.groups[index + 1 :],
            tail_readings=(),
            inner_readings=(),
        )

    def sub(self, first: int, last: int) -> DigitRun:
        """The run made of groups first..last-1."""
        offs = [0]
        for g in self.groups:
            offs.append(offs[-1] + g)
        whole_end = last == len(self.groups)
        return replace(
            self,
            digits=self.digits[offs[first] : offs[last]],
            groups=self.groups[first:last],
            bounds=self.bounds[first:last],
            start=self.bounds[first][0],
            end=self.bounds[last - 1][1],
            international=self.international and first == 0,
            money=self.money and whole_end,
            counted=self.counted and whole_end,
            tail_readings=self.tail_readings if whole_end else (),
            copula_last=self.copula_last and whole_end,
            breaks=tuple(i - first for i in self.breaks if first < i < last),
            inner_readings=tuple((i - first, d) for i, d in self.inner_readings if first <= i < last - 1),
        )


def spoken_group_digits(word: str) -> str | None:
    """Digits of a Korean numeral word read digit by digit, by groups, or mixed; None if it is not one.

    "공일공" → "010", "천이백삼십사" → "1234", "공일공천이백삼십사" → "0101234", "천천" → None.
    """
    out: list[str] = []
    i = 0
    n = len(word)
    while i < n:
        m = _POSITIONAL.match(word, i)
        if m and m.group(1):
            out.append(str(_positional_value(m.group(0))))
            i = m.end()
            continue
        ch = word[i]
        if ch not in _SINO_DIGIT:
            return None
        out.append(_SINO_DIGIT[ch])
        i += 1
    return "".join(out)


def _positional_value(word: str) -> int:
    total, current = 0, 0
    for ch in word:
        if ch in "천백십":
            total += (current or 1) * {"천": 1000, "백": 100, "십": 10}[ch]
            current = 0
        else:
            current = int(_SINO_DIGIT[ch])
    return total + current


def _has_final(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


@dataclass
class _Group:
    a: int
    b: int
    digits: str
    spoken: bool
    readings: tuple[tuple[str, int], ...] = ()
    copula: bool = False  # a lone 이 before an ending: the copula written apart ("오육칠팔 이고요")
    mask_end: int = -1  # end including a syllable read as the copula: masked with the group all the same


def _read_core(text: str, a: int, b: int, after_digit: bool) -> _Group | None:
    """One group of a run; None when the characters are a word or a counter, not digits."""
    word = text[a:b]
    if "," in word:
        return None  # 1,234,567: an amount
    if word.isdigit():
        return _Group(a, b, word, False)
    if word in _NATIVE:
        trail = _trail(text, b)
        return _Group(a, b, _NATIVE[word], True) if not trail or _ENDING.fullmatch(trail) else None
    before = text[a - 1] if a else " "
    if "가" <= before <= "힣" and len(word) <= 2 and not after_digit:
        return _GLUED  # "휴대폰이 …": a particle or the tail of a word
    if after_digit and len(word) < 3 and not re.match(r"[\-.]?\d", text[b : b + 2]):
        # "1234이고 …": the copula, which a run reads past; "15일": a counter, which ends it ("공1공-98" is
        # mixed digits).
        return _GLUED if word[0] == "이" and text[a + 1 : a + 2] in _COPULA_NEXT else None
    trail = _trail(text, b)
    if trail and trail[0] not in "만억조원" and not _ending_ok(word, trail):
        # Glued to a word that is no ending ("이번", "일단", "사실", "오늘"): the last syllable starts it.
        if len(word) < 4:
            return None
        word, b = word[:-1], b - 1
        trail = ""
    cuts = _ending_cuts(word, trail)
    # The default reading: a copula after a closed syllable ("팔이에요", "영이구요"); otherwise every digit.
    cut = cuts[0] if cuts and word[-cuts[0]] == "이" and _has_final(word[-cuts[0] - 1]) else 0
    if _SPOKEN_DAY.fullmatch(word) and text[max(0, a - 3) : a].rstrip().endswith("월"):
        return None  # "오월 이십칠일": a date
    digits = spoken_group_digits(word[: len(word) - cut])
    if digits is None:
        return None
    readings = []
    for other in [0, *cuts]:
        if other != cut and (alt := spoken_group_digits(word[: len(word) - other])):
            readings.append((alt, cut - other))
    copula = (word == "이" and (trail[:1] in ("요", "고", "구", "라") or trail[:2] == "에요")) or (
        word == "구" and trail[:1] == "요"
    )
    return _Group(a, b - cut, digits, True, tuple(readings), copula, b)


def _ending_ok(word: str, trail: str) -> bool:
    if len(word) == 1 and trail[0] in "번원":
        return False  # 이번, 일번지 …
    return bool(_ENDING.fullmatch(trail)) or bool(_ending_cuts(word, trail))


def _ending_cuts(word: str, trail: str) -> list[int]:
    """How many final syllables of `word` may belong to the ending `trail` starts (이 of 이에요, 구 of 구요)."""
    if not trail:
        return []
    cuts = []
    if word.endswith("이구") and trail[0] == "요" and len(word) > 2:
        cuts.append(2)
    if (
        len(word) > 1
        and word[-1] == "이"
        and trail[0] in _COPULA_NEXT
        and not (trail[0] == "에" and trail[:2] != "에요")
    ):
        cuts.append(1)
    if len(word) > 1 and word[-1] == "구" and trail[0] == "요":
        cuts.append(1)
    return cuts


def _trail(text: str, b: int) -> str:
    if _NATIVE_START.match(text, b):
        return ""  # "공일공둘", "다섯넷": the next group follows without a space
    m = _HANGUL_WORD.match(text, b)
    return m.group(0) if m else ""


_NATIVE_START = re.compile("|".join(_NATIVE))


_SKIP = _Group(0, 0, "", False)
_GLUED = _Group(0, 0, "", False)  # a particle or counter glued to the previous word or number


def _word_around(text: str, a: int, b: int) -> tuple[int, int]:
    """The Hangul word that holds text[a:b]."""
    while a > 0 and "가" <= text[a - 1] <= "힣":
        a -= 1
    while b < len(text) and "가" <= text[b] <= "힣":
        b += 1
    return a, b


def _runs_in(norm: Normalized, m: re.Match[str], blocked: list[tuple[int, int]]) -> list[DigitRun]:
    text = norm.text
    groups: list[_Group | None] = []
    prev_end = -1
    for c in _CORE_RE.finditer(text, m.start(), m.end()):
        if any(c.start() < y and x < c.end() for x, y in blocked):
            groups.append(None)
            prev_end = c.end()
            continue
        inside = _word_around(text, c.start(), c.end())
        if inside[0] < c.start() and _FILLER_RE.fullmatch(text[inside[0] : inside[1]]):
            groups.append(_SKIP)  # the 이 of 하이픈: part of a filler, not a group
            prev_end = c.end()
            continue
        after_digit = prev_end == c.start() and text[c.start() - 1].isdigit()
        group = _read_core(text, c.start(), c.end(), after_digit)
        # Glued syllables inside a run belong to its joiners ("017이고 중간은 …"); at its edge they end it.
        groups.append(
            None
            if group is _GLUED and not any(g not in (None, _SKIP) for g in groups[-1:])
            else _SKIP
            if group is _GLUED
            else group
        )
        prev_end = c.end()
    for i, g in enumerate(groups):
        # "육육영사 이고요 팔사팔칠": a detached copula between longer groups is no digit.
        if g is not None and g.copula and i + 1 < len(groups) and groups[i + 1] is not None:
            near = [groups[j] for j in (i - 1, i + 1) if 0 <= j < len(groups)]
            if any(x is not None and len(x.digits) > 1 for x in near):
                groups[i] = _SKIP
    runs: list[DigitRun] = []
    current: list[_Group] = []
    for g in groups + [None]:
        if g is _SKIP:
            continue
        if g is not None:
            current.append(g)
            continue
        if current:
            run = _make_run(norm, current)
            breaks = tuple(
                i for i in range(1, len(current)) if _LABEL_RE.search(text, current[i - 1].b, current[i].a)
            )
            runs.append(replace(run, breaks=breaks) if breaks else run)
        current = []
    return runs


def _make_run(norm: Normalized, groups: list[_Group]) -> DigitRun:
    text = norm.text
    digits = "".join(g.digits for g in groups)
    a, b = groups[0].a, groups[-1].b
    international = False
    plus = re.search(r"\+\s?$", text[max(0, a - 2) : a])
    if digits.startswith("82") and plus:
        international = True
        a = max(0, a - 2) + plus.start()
    elif digits.startswith("0082") and len(digits) >= 12:
        international = True
        digits = digits[2:]
    elif len(groups) > 2 and groups[0].digits == "82" and 11 <= len(digits) <= 12 and digits[2] in "123456":
        international = True  # 82-10-1234-5678 written without the plus
    if international:
        digits = digits[2:] if digits[2:3] == "0" else "0" + digits[2:]
    gl = [len(g.digits) for g in groups]
    if international:
        gl = [len(digits) - sum(gl[1:])] + gl[1:] if len(gl) > 1 else [len(digits)]
    before = text[max(0, a - 6) : a]
    after = text[b : b + 12]
    money = bool(_CURRENCY_BEFORE.search(before)) or bool(_MONEY_WORD.match(after))
    money = money or bool(_MONEY_GLUE.match(after))
    counted = bool(_COUNTER_AFTER.match(after))
    if len(groups) > 1 and all(not g.spoken for g in groups):
        seps = [text[x.b : y.a] for x, y in zip(groups, groups[1:], strict=False)]
        if (
            all(s == "," for s in seps)
            and all(len(g.digits) == 3 for g in groups[1:])
            and len(groups[0].digits) <= 3
        ):
            money = True  # 1,234,567
    code = (a > 0 and text[a - 1].isascii() and text[a - 1].isalpha()) or bool(
        re.search(r"[A-Za-z]{1,6}[-_]$", text[max(0, a - 7) : a])
    )
    code = code or (b < len(text) and text[b].isascii() and text[b].isalpha())
    # Inside the run a syllable read as the copula ("삼오팔이요 중간은 …") is masked with its group.
    ends = [max(g.b, g.mask_end) for g in groups[:-1]] + [groups[-1].b]
    bounds = tuple(norm.to_original(g.a, e) for g, e in zip(groups, ends, strict=True))
    if international:
        bounds = ((norm.to_original(a, a + 1)[0], bounds[0][1]),) + bounds[1:]
    return DigitRun(
        digits,
        tuple(gl),
        bounds,
        bounds[0][0],
        bounds[-1][1],
        spoken=any(g.spoken for g in groups),
        international=international,
        money=money,
        code=code,
        counted=counted,
        tail_readings=groups[-1].readings,
        inner_readings=tuple((i, d) for i, g in enumerate(groups[:-1]) for d, _ in g.readings),
        copula_last=groups[-1].copula,
    )


_QUICK = re.compile(rf"[\d{_SINO}십백천둘셋넷]")


def find_digit_runs(text: str, norm: Normalized | None = None, min_digits: int = 6) -> list[DigitRun]:
    """Every number of at least `min_digits` digits in `text`, however it is written or read out.

    Args:
        text: the text as written (transcript turn, memo, free text).
        norm: `normalize(text, numbers=False, fillers=False)` if the caller already has it.
        min_digits: shorter numbers are not returned.

    Returns:
        The runs in text order; their offsets refer to `text`.
    """
    if not _QUICK.search(text):
        return []
    norm = norm or normalize(text, numbers=False, fillers=False)
    flat = norm.text
    blocked = [(d.start(), d.end()) for d in _DATE.finditer(flat)]
    blocked += [(t.start(), t.end()) for t in _TIME.finditer(flat)]
    blocked += [(t.start(), t.end()) for t in _SERVICE_NUMBER.finditer(flat)]
    out: list[DigitRun] = []
    for m in _CHAIN.finditer(flat):
        if m.end() - m.start() < 2:
            continue
        for run in _runs_in(norm, m, blocked):
            if len(run.digits) >= min_digits:
                out.append(run)
    return out
