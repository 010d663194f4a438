"""Normalisation: spoken numerals, fillers, and the map back to original offsets."""

from __future__ import annotations

import pytest

from cdna.nlp.normalize import normalize, parse_korean_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("공일공 일이삼사 오육칠팔", "010 1234 5678"),
        ("삼백만 원", "3000000 원"),
        ("음 제 번호는 공일공 다시 일이삼사 다시 오육칠팔이에요", "제 번호는 010 - 1234 - 5678이에요"),
        ("이천이십사년 삼월 십오일", "2024년 3월 15일"),
        ("연 삼점오 퍼센트", "연 3.5 퍼센트"),
        ("010 일이삼사 5678", "010 1234 5678"),
        ("카드 번호는 사오육칠 일이삼사 오육칠팔 구공일이요", "카드 번호는 4567 1234 5678 9012요"),
        ("이번에 일이 좀 있어서", "이번에 일이 좀 있어서"),  # words, not numbers
        ("２０２４年", "2024年"),  # NFKC
        ("  네네  카드   분실이요 ", "카드 분실이요"),
    ],
)
def test_normalize_examples(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_offsets_map_back_to_the_original() -> None:
    text = "음 번호는 공일공 다시 일이삼사 다시 오육칠팔이요"
    norm = normalize(text)
    a = norm.text.index("010")
    b = norm.text.index("5678") + 4
    start, end = norm.to_original(a, b)
    assert text[start:end] == "공일공 다시 일이삼사 다시 오육칠팔"
    assert len(norm.starts) == len(norm.ends) == len(norm.text)


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("삼백만", 3_000_000),
        ("이천이십사", 2024),
        ("300만", 3_000_000),
        ("일억 이천만".replace(" ", ""), 120_000_000),
        ("십오", 15),
        ("만", 10_000),
        ("카드", None),
        ("공일공", None),
    ],
)
def test_parse_korean_number(word: str, value: int | None) -> None:
    assert parse_korean_number(word) == value


@pytest.mark.parametrize("text", ["", "\x00\x1f", "a" * 100_000, "공" * 30_000, "삼백" * 10_000, "😀"])
def test_bad_input(text: str) -> None:
    norm = normalize(text)
    assert len(norm.starts) == len(norm.text)
