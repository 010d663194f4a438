"""Korean text normalisation with a map back to the original offsets (issue #4, item 1).

NFKC, control characters and whitespace, fillers (음, 어, 네네), and spoken Korean numerals turned
into digits: digit-by-digit readings (공일공 일이삼사 → 010 1234) and positional amounts
(삼백만 원 → 3000000 원). Every output character remembers the original span it came from, so a
match found on the normalised text can be mapped back and replaced in the text as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["DIGIT_SYLLABLES", "Normalized", "normalize", "parse_korean_number"]

DIGIT_SYLLABLES: dict[str, str] = {
    "공": "0",
    "영": "0",
    "빵": "0",
    "일": "1",
    "이": "2",
    "삼": "3",
    "사": "4",
    "오": "5",
    "육": "6",
    "륙": "6",
    "칠": "7",
    "팔": "8",
    "구": "9",
}
_SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
_BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
# Fillers as whole words only: "어" inside 어디 or 어제 stays (why: fillers carry no content, and they
# split spoken numbers such as "공일공 음 일이삼사").
_FILLERS = re.compile(
    r"(?<!\S)(?:음+|으+음+|어+|어어+|흠+|아아+|네네+|그+니까요?\.\.\.|음\.+|어\.+)[.,…~]*(?!\S)"
)
_SYL = "".join(DIGIT_SYLLABLES)
# One "segment" of a spoken number: ASCII digits and digit syllables without spaces.
_SEGMENT = f"[0-9{_SYL}]+"
# Between segments: spaces, dash, dot, ", " or the spoken joiners 다시 / 에 / 의 ("공일공 다시 일이삼사").
_JOIN = (
    r"(?:\s*[-.~]\s*|\s*,\s+|\s+(?:다시|대시|에|의)\s+|(?:다시|에|의)\s+|에|\s{1,3}"
    r"|음?\s+(?:음|어|아|그|그러니까|저기|잠시만요)[,.]?\s*|음\s*)"
)
_RUN = re.compile(f"{_SEGMENT}(?:(?:{_JOIN}){{1,3}}{_SEGMENT})*")
# Endings after a copula 이: "오육칠팔이에요" keeps 8 as the last digit, not 2.
_COPULA_NEXT = set("에었고구요라니랑다야죠면며지었")
_NUM_CHUNK = "[0-9,일이삼사오육칠팔구십백천만억조]{0,24}[십백천만억조]"
# "3억 4천만", "이억 팔천오백만", "1억 3,500만": chunks ending in a unit, optionally spaced, then digits.
_POSITIONAL = re.compile(
    rf"(?:(?<![가-힣0-9,])|(?<=[0-9]동)){_NUM_CHUNK}(?:\s?{_NUM_CHUNK})*[0-9일이삼사오육칠팔구]{{0,4}}"
)
_POSITIONAL_NEXT = set("원년월일시분초개명살세번회건퍼프점달주배평층호동만억천을를은는에으도정쯤짜가까씩대")
_DECIMAL = re.compile(
    r"(?<![가-힣0-9])([0-9일이삼사오육칠팔구십]{1,6})\s?점\s?([일이삼사오육칠팔구공영0-9]{1,4})(?=\s?(?:퍼센트|프로|%))"
)
_MONTH = re.compile(
    r"(?<![가-힣0-9])(십[일이]?|[일이삼사오육칠팔구])(?=[월시]\s|[월시]$|[월시][에부까]|시간)"
)
_MIN_RUN_DIGITS = 6
_JOINER_WORD = re.compile(r"다시|대시|에|의")


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, for each of its characters, the span of the original it came from.

    Attributes:
        text: the normalised text.
        starts: original start offset of each normalised character.
        ends: original end offset (exclusive) of each normalised character.
        original: the text as written.
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    original: str

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span [a, b) covering normalised characters [start, end)."""
        if not self.text:
            return 0, 0
        start = min(max(start, 0), len(self.text) - 1)
        end = min(max(end, start + 1), len(self.text))
        return self.starts[start], self.ends[end - 1]


class _Buf:
    """Text with per-character original spans; `apply` replaces matches and keeps the spans."""

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self.text, self.starts, self.ends = text, starts, ends

    def apply(self, edits: list[tuple[int, int, str]]) -> None:
        if not edits:
            return
        parts: list[str] = []
        s_out: list[int] = []
        e_out: list[int] = []
        pos = 0
        n = len(self.text)
        for a, b, rep in edits:
            parts.append(self.text[pos:a])
            s_out.extend(self.starts[pos:a])
            e_out.extend(self.ends[pos:a])
            if len(rep) == b - a:
                s_out.extend(self.starts[a:b])
                e_out.extend(self.ends[a:b])
            elif rep:
                s0 = self.starts[a] if a < n else (self.ends[-1] if n else 0)
                e0 = self.ends[b - 1] if b > a else s0
                s_out.extend([s0] * len(rep))
                e_out.extend([e0] * len(rep))
            parts.append(rep)
            pos = b
        parts.append(self.text[pos:])
        s_out.extend(self.starts[pos:])
        e_out.extend(self.ends[pos:])
        self.text, self.starts, self.ends = "".join(parts), s_out, e_out

    def sub(self, pattern: re.Pattern[str], repl: str) -> None:
        self.apply([(m.start(), m.end(), repl) for m in pattern.finditer(self.text)])


def _nfkc(text: str) -> _Buf:
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        idx = list(range(len(text)))
        return _Buf(text, idx, [i + 1 for i in idx])
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        out = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        parts.append(out)
        starts.extend([i] * len(out))
        ends.extend([i + 1] * len(out))
    return _Buf("".join(parts), starts, ends)


def parse_korean_number(text: str) -> int | None:
    """The value of a positional Korean number such as 삼백만, 이천이십사 or 300만; None if not one."""
    total = section = 0
    current: int | None = None
    digits = ""
    seen = False
    text = text.replace(" ", "").replace(",", "")
    for ch in text + "\0":
        if ch.isdigit() and ch.isascii():
            digits += ch
            continue
        if digits:
            if current is not None:
                return None
            current, digits = int(digits), ""
        if ch == "\0":
            break
        if ch in DIGIT_SYLLABLES and ch not in "공영빵":
            if current is not None:
                return None
            current = int(DIGIT_SYLLABLES[ch])
        elif ch in _SMALL_UNITS:
            section += (1 if current is None else current) * _SMALL_UNITS[ch]
            current, seen = None, True
        elif ch in _BIG_UNITS:
            section += current or 0
            total += (section or 1) * _BIG_UNITS[ch]
            section, current, seen = 0, None, True
        else:
            return None
    if not seen:
        return None
    return total + section + (current or 0)


def _spoken_digit_edits(buf: _Buf) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    text = buf.text
    for m in _RUN.finditer(text):
        segments = list(re.finditer(_SEGMENT, m.group(0)))
        if not any(
            any(c in DIGIT_SYLLABLES for c in s.group(0)) for s in segments
        ) and not _JOINER_WORD.search(m.group(0)):
            continue
        # Trim a trailing copula 이 ("팔이에요") from the last segment.
        last = segments[-1]
        end_abs = m.start() + last.end()
        trim_last = (
            last.group(0).endswith("이")
            and len(last.group(0)) > 1
            and end_abs < len(text)
            and text[end_abs] in _COPULA_NEXT
            # The copula 이 follows only a syllable with a final consonant (팔이요); after 사/오/이/구 it is a digit.
            and ((ord(last.group(0)[-2]) - 0xAC00) % 28 != 0 or text[end_abs] == "에")
        )
        # "… 오육칠팔 구공일이요": when every earlier group has the untrimmed length, 이 is a digit.
        if (
            trim_last
            and len(segments) > 1
            and text[end_abs] == "요"
            and all(len(s.group(0)) == len(last.group(0)) for s in segments[:-1])
        ):
            trim_last = False
        # "휴대폰이 공일공 …": a short first segment glued to a word is that word's particle.
        first = segments[0]
        if m.start() > 0 and "가" <= text[m.start() - 1] <= "힣" and len(first.group(0)) <= 2:
            segments = segments[1:]
        # "… 일이삼사오육칠 이거든요": a lone final 이 glued to an ending is the copula.
        if (
            len(segments) > 1
            and segments[-1].group(0) == "이"
            and m.start() + segments[-1].end() < len(text)
            and "가" <= text[m.start() + segments[-1].end()] <= "힣"
        ):
            segments = segments[:-1]
            trim_last = False
        if not segments:
            continue
        keep: list[tuple[int, int, str]] = []
        n_digits = 0
        for k, seg in enumerate(segments):
            value = seg.group(0)
            a = m.start() + seg.start()
            if k == len(segments) - 1 and trim_last:
                value = value[:-1]
            hangul = sum(1 for c in value if c in DIGIT_SYLLABLES)
            has_ascii = len(value) > hangul
            # Single syllables (이, 일, 사 …) are words far more often than numbers: they count only
            # inside a run of longer segments (odd ASR spacing like "공일공 일 이삼사").
            if hangul == 1 and not has_ascii:
                near = [segments[j].group(0) for j in (k - 1, k + 1) if 0 <= j < len(segments)]
                if not any(any(c in DIGIT_SYLLABLES for c in x) for x in near):
                    continue
            if has_ascii and 0 < hangul == 1 and value[-1] in DIGIT_SYLLABLES and k == len(segments) - 1:
                value = value[:-1]  # "15일": a counter, not a digit
                hangul = 0
            keep.append((a, a + len(value), value))
            n_digits += len(value)
        if n_digits < _MIN_RUN_DIGITS or not keep:
            continue
        for a, b, value in keep:
            conv = "".join(DIGIT_SYLLABLES.get(c, c) for c in value)
            if conv != value:
                edits.append((a, b, conv))
        # Spoken joiners become a dash so the digit groups stay one number.
        for (_, b1, _), (a2, _, _) in zip(keep, keep[1:], strict=False):
            gap = text[b1:a2]
            if gap.strip(" ,.") not in ("", "-", ".", "~"):
                edits.append((b1, a2, " - "))
    edits.sort()
    return edits


def _positional_edits(buf: _Buf) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    text = buf.text
    for m in _DECIMAL.finditer(text):
        whole = m.group(1) if m.group(1).isdigit() else parse_korean_number(m.group(1))
        if whole is None and len(m.group(1)) == 1:
            whole = DIGIT_SYLLABLES.get(m.group(1))
        frac = "".join(DIGIT_SYLLABLES.get(c, c) for c in m.group(2))
        if whole is not None:
            edits.append((m.start(), m.end(), f"{whole}.{frac}"))
    taken = [(a, b) for a, b, _ in edits]
    for m in _POSITIONAL.finditer(text):
        a, b = m.start(), m.end()
        if b - a < 2 or any(a < y and x < b for x, y in taken):
            continue
        if b < len(text) and "가" <= text[b] <= "힣" and text[b] not in _POSITIONAL_NEXT:
            continue
        value = parse_korean_number(m.group(0))
        if value is None and m.group(0)[-1] in "일이":  # 십오일 = 15 + 일 (day)
            b -= 1
            value = parse_korean_number(m.group(0)[:-1])
        if value is not None and not text[a:b].isdigit():
            edits.append((a, b, str(value)))
            taken.append((a, b))
    for m in _MONTH.finditer(text):
        if not any(m.start() < y and x < m.end(1) for x, y in taken):
            word = m.group(1)
            value = int(DIGIT_SYLLABLES[word]) if word in DIGIT_SYLLABLES else parse_korean_number(word)
            if value is not None:
                edits.append((m.start(1), m.end(1), str(value)))
    edits.sort()
    return edits


def normalize(text: str, numbers: bool = True, fillers: bool = True) -> Normalized:
    """Normalise `text` (NFKC, spaces, fillers, spoken numerals) keeping a map to original offsets.

    Args:
        text: the text as written or transcribed.
        numbers: turn spoken Korean numerals into digits.
        fillers: drop filler words (음, 어, 네네 …).

    Returns:
        The normalised text with per-character original spans.
    """
    buf = _nfkc(text)
    buf.sub(_CONTROL, " ")
    if fillers:
        buf.sub(_FILLERS, " ")
    buf.sub(_SPACES, " ")
    if numbers and any(
        c in DIGIT_SYLLABLES or c in _SMALL_UNITS or c in _BIG_UNITS or c.isdigit() for c in buf.text
    ):
        buf.apply(_spoken_digit_edits(buf))
        buf.apply(_positional_edits(buf))
    # Strip the ends last so offsets stay valid.
    lead = len(buf.text) - len(buf.text.lstrip(" "))
    trail = len(buf.text.rstrip(" "))
    text_out = buf.text[lead:trail]
    return Normalized(text_out, tuple(buf.starts[lead:trail]), tuple(buf.ends[lead:trail]), text)
