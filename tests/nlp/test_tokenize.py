"""Tokenisers behind one konlpy-style interface, with the banking user dictionary."""

from __future__ import annotations

import pytest

from cdna.nlp.tokenize import Tokenizer, load_banking_terms

COMPOUNDS = ["주택담보대출", "마이너스통장", "전세자금대출", "연금저축"]


def test_banking_terms_load() -> None:
    terms = load_banking_terms()
    assert set(COMPOUNDS) <= set(terms)


@pytest.mark.parametrize("backend", ["kiwi", "mecab"])
def test_compounds_stay_whole_even_without_spaces(backend: str) -> None:
    tok = Tokenizer(backend)  # type: ignore[arg-type]
    morphs = tok.morphs("주택담보대출이랑마이너스통장 그리고 전세자금대출 연금저축도요")
    for term in COMPOUNDS:
        assert term in morphs, (backend, morphs)
    assert "마이너스통장" in tok.nouns("마이너스통장 한도 올려주세요")
    assert all(isinstance(p, tuple) and len(p) == 2 for p in tok.pos("카드 분실했어요"))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["okt", "komoran"])
def test_konlpy_jvm_backends(backend: str) -> None:
    pytest.importorskip("konlpy")
    tok = Tokenizer(backend)  # type: ignore[arg-type]
    assert "주택담보대출" in tok.morphs("주택담보대출 금리 알려주세요")


def test_cache_and_batch_agree() -> None:
    tok = Tokenizer("kiwi", num_workers=2)
    texts = ["카드 분실했어요", "", "급여"] * 30
    batch = tok.pos_many(texts)
    assert batch[0] == tok.pos("카드 분실했어요")
    assert batch[1] == []
    assert tok.pos("카드 분실했어요") is tok.pos("카드 분실했어요")  # cached object


def test_unknown_backend_is_a_config_error() -> None:
    from cdna.core.errors import ConfigError

    with pytest.raises(ConfigError):
        Tokenizer("hannanum")  # type: ignore[arg-type]
