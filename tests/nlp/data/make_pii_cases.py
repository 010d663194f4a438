"""Regenerate the generated half of pii_cases.tsv (the hand-written half is kept as is).

Usage: python tests/nlp/data/make_pii_cases.py > /tmp/generated.tsv

Numbers are drawn at random (valid RRN dates, Luhn-valid cards, real bank account layouts) and then
written as a caller or an ASR system would: digits with dashes/dots/spaces/none, Hangul numerals
(공/영), mixed digits and Hangul, odd ASR spacing, and the spoken joiner 다시. Spans are {{TYPE:…}}.
"""

from __future__ import annotations

import random

SYL = {
    "0": ["공", "영"],
    "1": ["일"],
    "2": ["이"],
    "3": ["삼"],
    "4": ["사"],
    "5": ["오"],
    "6": ["육"],
    "7": ["칠"],
    "8": ["팔"],
    "9": ["구"],
}


def luhn_complete(prefix: str) -> str:
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
    raise AssertionError


def speak(groups: list[str], rng: random.Random) -> str:
    style = rng.choice(["digits", "digits", "hangul", "hangul", "mixed", "odd"])
    sep = rng.choice(["-", " ", " ", ".", "", " - ", " 다시 "]) if style != "odd" else " "
    if style == "digits" and sep == " 다시 ":
        sep = "-"
    out = []
    for g in groups:
        if style == "digits" or (style == "mixed" and rng.random() < 0.5):
            out.append(g)
        else:
            out.append("".join(rng.choice(SYL[c]) for c in g))
    if style == "odd":  # ASR spacing ignores the groups
        flat = "".join(out)
        pieces, i = [], 0
        while i < len(flat):
            k = rng.randint(2, 4)
            pieces.append(flat[i : i + k])
            i += k
        return " ".join(pieces)
    if style == "hangul" and sep == "" and rng.random() < 0.5:
        sep = " "
    return sep.join(out)


def rrn(rng: random.Random) -> list[str]:
    y, m, d = rng.randint(40, 99), rng.randint(1, 12), rng.randint(1, 28)
    return [
        f"{y:02d}{m:02d}{d:02d}",
        str(rng.choice([1, 2, 3, 4])) + "".join(str(rng.randint(0, 9)) for _ in range(6)),
    ]


def phone(rng: random.Random) -> list[str]:
    kind = rng.random()
    if kind < 0.7:
        return ["010", f"{rng.randint(2000, 9999)}", f"{rng.randint(0, 9999):04d}"]
    if kind < 0.85:
        return ["02", f"{rng.randint(200, 9999)}", f"{rng.randint(0, 9999):04d}"]
    return [
        rng.choice(["031", "051", "032", "042", "062"]),
        f"{rng.randint(200, 999)}",
        f"{rng.randint(0, 9999):04d}",
    ]


def card(rng: random.Random) -> list[str]:
    prefix = rng.choice(["4", "51", "52", "9410", "3560", "4579"])
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
    d = luhn_complete(body)
    return [d[0:4], d[4:8], d[8:12], d[12:16]]


def account(rng: random.Random) -> list[str]:
    layouts = [[3, 3, 6], [6, 2, 6], [4, 3, 6], [3, 6, 5], [3, 4, 4, 2], [3, 6, 2, 3], [4, 2, 7], [3, 2, 6]]
    lay = rng.choice(layouts)
    first = rng.choice(["1", "3", "9", "2"])
    digits = first + "".join(str(rng.randint(0, 9)) for _ in range(sum(lay) - 1))
    out, i = [], 0
    for n in lay:
        out.append(digits[i : i + n])
        i += n
    return out


TEMPLATES = {
    "RRN": [
        "주민번호 {x} 입니다",
        "주민등록번호는 {x}이에요",
        "네 주민번호 뒷자리까지 불러드릴게요 {x}",
        "본인 확인차 주민번호가 {x}요",
        "제 주민 번호 {x} 맞아요",
        "주민등록번호 {x} 으로 조회해 주세요",
    ],
    "PHONE": [
        "제 번호는 {x}이에요",
        "연락처는 {x} 입니다",
        "핸드폰 {x}로 문자 주세요",
        "{x} 으로 전화 주시면 돼요",
        "휴대폰 번호 바꿨어요 {x}요",
        "집 전화는 {x} 이고요",
        "네 {x} 맞습니다",
        "콜백은 {x} 로 부탁드려요",
    ],
    "CARD": [
        "카드번호 {x} 분실했어요",
        "카드 번호가 {x} 이거든요",
        "{x} 카드 정지해 주세요",
        "신용카드 {x} 한도 조회요",
        "제 체크카드 번호는 {x}예요",
    ],
    "ACCOUNT": [
        "계좌번호는 {x} 입니다",
        "{x} 계좌로 이체해 주세요",
        "통장 번호 {x} 맞아요",
        "입금 계좌 {x}요",
        "신한은행 {x} 로 보내 주세요",
        "국민 {x} 예금주 확인이요",
        "환불은 {x} 계좌로 받을게요",
    ],
}
MAKERS = {"RRN": rrn, "PHONE": phone, "CARD": card, "ACCOUNT": account}


def main() -> None:
    rng = random.Random(20250401)
    lines = []
    for kind, count in (("RRN", 30), ("PHONE", 45), ("CARD", 35), ("ACCOUNT", 40)):
        for i in range(count):
            spoken = speak(MAKERS[kind](rng), rng)
            tpl = TEMPLATES[kind][i % len(TEMPLATES[kind])]
            lines.append(f"gen-{kind.lower()}-{i:02d}\t" + tpl.format(x="{{" + kind + ":" + spoken + "}}"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
