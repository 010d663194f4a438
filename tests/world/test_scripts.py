"""Call scripts, personas and ASR-like noise of the synthetic bank."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from cdna.ingest.world.scripts import Persona, Turn, asr_like, call_script, make_persona, spoken_digits

INTENTS = [
    row["id"]
    for row in yaml.safe_load((Path(__file__).parents[2] / "configs" / "intents.yaml").read_text("utf-8"))[
        "intents"
    ]
]
_DIGIT_OF = {w: str(i) for i, w in enumerate("공일이삼사오육칠팔구")} | {"영": "0"}


def _digits_heard(text: str) -> str:
    """Every digit in the text, whether written (010) or spoken (공일공), in order; all else dropped."""
    return "".join(_DIGIT_OF.get(c, c if c.isdigit() else "") for c in text)


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        v = int(c) * (2 if i % 2 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def _persona(seed: int, born: datetime.date = datetime.date(1990, 3, 15), gender: str = "F") -> Persona:
    return make_persona(np.random.default_rng(seed), born, gender, "서울특별시", "마포구")


@pytest.fixture(scope="module")
def personas() -> list[Persona]:
    born = [datetime.date(1948, 1, 31), datetime.date(1990, 3, 15), datetime.date(2003, 12, 1)]
    return [_persona(s, born[s % 3], "FM"[s % 2]) for s in range(300)]


# --- personas ------------------------------------------------------------------------------------------


def test_card_numbers_are_luhn_valid_and_grouped(personas: list[Persona]) -> None:
    for p in personas:
        assert re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{4}", p.card), p.card
        assert _luhn_ok(p.card.replace("-", "")), p.card


@pytest.mark.parametrize(
    ("born", "gender", "seventh"),
    [
        (datetime.date(1990, 3, 15), "F", "2"),
        (datetime.date(1990, 3, 15), "M", "1"),
        (datetime.date(2003, 12, 1), "M", "3"),
        (datetime.date(2003, 12, 1), "여", "4"),
        (datetime.date(1899, 7, 7), "male", "9"),
    ],
)
def test_resident_number_matches_birth_date_and_gender(
    born: datetime.date, gender: str, seventh: str
) -> None:
    for seed in range(20):
        rrn = make_persona(np.random.default_rng(seed), born, gender, "부산", "해운대구").rrn
        assert re.fullmatch(r"\d{6}-\d{7}", rrn)
        assert rrn[:6] == born.strftime("%y%m%d")
        assert rrn[7] == seventh
        digits = rrn.replace("-", "")
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        check = (11 - sum(int(d) * w for d, w in zip(digits[:12], weights, strict=True)) % 11) % 10
        assert int(digits[12]) == check


def test_persona_fields_look_korean(personas: list[Persona]) -> None:
    for p in personas:
        assert re.fullmatch(r"[가-힣]{3}", p.name), p.name
        assert re.fullmatch(r"010-\d{4}-\d{4}|0\d{1,2}-\d{3,4}-\d{4}", p.phone), p.phone
        assert re.fullmatch(r"[\d-]+", p.account) and 10 <= len(p.account.replace("-", "")) <= 14, p.account
        assert re.fullmatch(r"[a-z0-9._]+@[a-z]+\.(com|net)", p.email), p.email
        assert p.address.startswith("서울특별시 마포구 "), p.address
    assert sum(not p.phone.startswith("010") for p in personas) > 5  # a few landlines
    assert len({p.name for p in personas}) > 100


def test_short_province_names_become_official_and_pick_the_area_code() -> None:
    phones = []
    for seed in range(200):
        p = make_persona(np.random.default_rng(seed), datetime.date(1980, 1, 1), "M", "충북", "청주시 상당구")
        assert p.address.startswith("충청북도 청주시 상당구 ")
        phones.append(p.phone)
    assert all(ph.startswith(("010-", "043-")) for ph in phones)


def test_persona_rejects_unknown_gender() -> None:
    with pytest.raises(ValueError, match="gender"):
        make_persona(np.random.default_rng(0), datetime.date(1990, 1, 1), "X", "서울", "강남구")


def test_persona_is_deterministic() -> None:
    assert _persona(7) == _persona(7)
    assert _persona(7) != _persona(8)


# --- scripts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent", INTENTS)
def test_every_intent_yields_a_call_script(intent: str, personas: list[Persona]) -> None:
    for seed in range(25):
        persona = personas[seed]
        turns = call_script(np.random.default_rng(seed), [intent], persona)
        assert 8 <= len(turns) <= 20
        assert all(isinstance(t, Turn) and t.text.strip() for t in turns)
        assert turns[0].speaker == "agent" and turns[-1].speaker == "agent"
        assert {t.speaker for t in turns} == {"agent", "customer"}
        assert "은행" in turns[0].text
        assert any(persona.name in t.text for t in turns if t.speaker == "customer")
        assert "{" not in "".join(t.text for t in turns)


def test_two_intent_calls_stay_within_twenty_turns(personas: list[Persona]) -> None:
    rng = np.random.default_rng(3)
    for i in range(400):
        pair = [INTENTS[i % len(INTENTS)], INTENTS[(i * 7 + 3) % len(INTENTS)]]
        turns = call_script(rng, pair, personas[i % len(personas)])
        assert 8 <= len(turns) <= 20, pair


def test_bad_intents_are_refused(personas: list[Persona]) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown intent"):
        call_script(rng, ["pizza_order"], personas[0])
    with pytest.raises(ValueError, match="1 or 2"):
        call_script(rng, [], personas[0])
    with pytest.raises(ValueError, match="1 or 2"):
        call_script(rng, INTENTS[:3], personas[0])


def test_scripts_are_deterministic_for_a_seed(personas: list[Persona]) -> None:
    a = call_script(np.random.default_rng(42), ["card_lost", "fraud_report"], personas[0])
    b = call_script(np.random.default_rng(42), ["card_lost", "fraud_report"], personas[0])
    c = call_script(np.random.default_rng(43), ["card_lost", "fraud_report"], personas[0])
    assert a == b
    assert a != c


def test_identity_check_speaks_personal_numbers_in_many_forms(personas: list[Persona]) -> None:
    spoken = written = 0
    for seed in range(200):
        persona = personas[seed]
        turns = call_script(np.random.default_rng(seed), ["card_lost"], persona)
        said = " ".join(t.text for t in turns if t.speaker == "customer")
        heard = _digits_heard(said)
        numbers = (persona.phone, persona.card, persona.rrn, persona.rrn[:6])
        assert any(n.replace("-", "") in heard for n in numbers), said
        spoken += bool(re.search("[공영일이삼사오육칠팔구]{4}", said))
        written += bool(re.search(r"\d{4}", said))
    assert spoken > 40 and written > 40


def test_card_and_account_are_asked_where_the_topic_needs_them(personas: list[Persona]) -> None:
    card = account = 0
    for seed in range(60):
        p = personas[seed]
        lost = " ".join(t.text for t in call_script(np.random.default_rng(seed), ["card_lost"], p))
        fx = " ".join(t.text for t in call_script(np.random.default_rng(seed), ["fx_remittance"], p))
        card += p.card.replace("-", "") in _digits_heard(lost)
        account += p.account.replace("-", "") in _digits_heard(fx)
    assert card == 60 and account == 60


def test_complaints_sound_angry(personas: list[Persona]) -> None:
    angry = ("몇 번", "민원", "불만", "너무", "답답", "책임", "돌려주", "말이 돼", "금감원", "서비스")
    for seed in range(30):
        turns = call_script(np.random.default_rng(seed), ["complaint"], personas[seed])
        assert any(w in turns[1].text for w in angry), turns[1].text


def test_product_hint_steers_the_wording(personas: list[Persona]) -> None:
    youth = overdraft = 0
    for seed in range(40):
        p = personas[seed]
        t1 = call_script(np.random.default_rng(seed), ["deposit_open"], p, product_hint="youth_savings")
        t2 = call_script(np.random.default_rng(seed), ["credit_loan_overdraft"], p, product_hint="overdraft")
        youth += "청년도약계좌" in t1[1].text
        overdraft += "마이너스통장" in t2[1].text or "마통" in t2[1].text
    assert youth >= 15 and overdraft >= 15


# --- spoken digits and ASR noise -----------------------------------------------------------------------


def test_spoken_digits_reads_every_digit_in_korean() -> None:
    seen_zero = set()
    for seed in range(50):
        said = spoken_digits("010-1234-5678", np.random.default_rng(seed))
        assert not re.search(r"\d", said)
        assert _digits_heard(said) == "01012345678"
        seen_zero.add(said[0])
        assert said == spoken_digits("010-1234-5678", np.random.default_rng(seed))
    assert seen_zero == {"공", "영"}
    assert _digits_heard(spoken_digits("900315 2123456", np.random.default_rng(1))) == "9003152123456"
    with pytest.raises(ValueError):
        spoken_digits("--", np.random.default_rng(0))


def test_asr_like_is_deterministic_and_noisy(personas: list[Persona]) -> None:
    turns = call_script(np.random.default_rng(5), ["mortgage_inquiry", "deposit_open"], personas[5])
    texts = [t.text for t in turns]
    first = [asr_like(t, np.random.default_rng([9, i])) for i, t in enumerate(texts)]
    again = [asr_like(t, np.random.default_rng([9, i])) for i, t in enumerate(texts)]
    assert first == again
    assert sum(a != b for a, b in zip(first, texts, strict=True)) >= len(texts) // 2


def test_asr_like_moves_numbers_both_ways_and_adds_fillers() -> None:
    rng = np.random.default_rng(0)
    to_words = to_digits = fillers = 0
    for _ in range(300):
        out = asr_like("제 번호는 010-1234-5678이고요, 24개월로 할게요.", rng)
        to_words += "공일공" in out or "영일영" in out or "이십사" in out
        back = asr_like("네 번호는 공일공 일이삼사 오육칠팔이요.", rng)
        to_digits += "010" in back or "1234" in back
        fillers += bool(re.match(r"(음|어|그|네네|아|그러니까|저기) ", out))
    assert to_words > 30 and to_digits > 30 and fillers > 20


def test_asr_like_keeps_personal_numbers_recoverable(personas: list[Persona]) -> None:
    checked = 0
    for seed in range(300):
        persona = personas[seed]
        pii = [persona.phone, persona.rrn, persona.card, persona.account]
        intents = [INTENTS[seed % len(INTENTS)]] + (["card_lost"] if seed % 2 else ["fx_remittance"])
        for i, turn in enumerate(call_script(np.random.default_rng(seed), intents, persona)):
            clean = _digits_heard(turn.text)
            noisy = _digits_heard(asr_like(turn.text, np.random.default_rng([seed, i])))
            for number in pii:
                digits = number.replace("-", "")
                if digits in clean:
                    assert digits in noisy, (turn.text, number)
                    checked += 1
    assert checked > 300
