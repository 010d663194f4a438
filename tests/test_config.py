"""Configuration loading: defaults, user files, env overrides and errors that name file, key, allowed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdna.core.config import load_config, load_intents, load_memo_categories, load_products
from cdna.core.errors import ConfigError


def test_defaults_load_typed() -> None:
    cfg = load_config(environ={})
    assert cfg.world.customers == 2000
    assert cfg.asr.language == "ko"
    assert cfg.timezone == "Asia/Seoul"


def test_env_overrides_lake_and_nested_keys(tmp_path: Path) -> None:
    cfg = load_config(
        environ={"CDNA_LAKE": str(tmp_path), "CDNA_ASR__DEVICE": "cuda", "CDNA_WORLD__SEED": "11"}
    )
    assert cfg.lake == tmp_path
    assert cfg.asr.device == "cuda"
    assert cfg.world.seed == 11


def test_bad_value_names_source_key_and_allowed_values() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ={"CDNA_ASR__DEVICE": "tpu"})
    text = str(err.value)
    assert "asr.device" in text and "'cpu'" in text and "'cuda'" in text and "tpu" in text


def test_unknown_key_in_user_file_is_an_error(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text("world:\n  customerz: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(user, environ={})
    assert "world.customerz" in str(err.value) and str(user) in str(err.value)
    assert "unknown key" in str(err.value)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    user = tmp_path / "broken.yaml"
    user.write_text("world:\n  customers: [1, 2\nlake: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(user, environ={})
    assert str(user) in str(err.value) and "line" in str(err.value)


def test_bad_timezone_rejected() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        load_config(environ={"CDNA_TIMEZONE": "Mars/Olympus"})


def test_product_catalogue_is_korean_and_complete() -> None:
    catalog = load_products()
    names = {p.name for p in catalog.products}
    for required in (
        "정기예금",
        "자유적금",
        "주택담보대출",
        "전세자금대출",
        "신용대출",
        "마이너스통장",
        "신용카드",
        "체크카드",
        "펀드",
        "ISA",
        "연금저축",
        "IRP",
        "외화예금/해외송금",
    ):
        assert required in names
    assert len(catalog.products) >= 14
    youth = next(p for p in catalog.products if p.max_age <= 34)
    assert youth.eligible(25, "30_50m") and not youth.eligible(40, "30_50m")
    assert not catalog.get("mortgage").eligible(30, "none")
    assert not catalog.get("jeonse_loan").eligible(30, "50_70m", held={"mortgage"})
    with pytest.raises(ConfigError, match="not in the catalogue"):
        catalog.get("bitcoin_etf")


def test_taxonomies_have_enough_classes() -> None:
    assert len(load_intents().intents) >= 15
    assert len(load_memo_categories().categories) >= 12


def test_bad_taxonomy_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "products.yaml"
    bad.write_text("products:\n  - id: x1\n    name: 테스트\n    family: crypto\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_products(bad)
    assert (
        str(bad) in str(err.value) and "products.0.family" in str(err.value) and "deposit" in str(err.value)
    )


def test_memo_category_first_in_taxonomy_order_wins_everywhere() -> None:
    """Issue 12: one copy of the memo lexicon rule, used by spend shares (features) and reasons (recommend)."""
    import inspect

    from cdna.core.config import load_memo_categories
    from cdna.features import sources
    from cdna.recommend import scoring

    memo = load_memo_categories()
    first, second = memo.categories[0], memo.categories[1]
    text = f"{second.keywords[0]} {first.keywords[0]}"  # both match: the earlier category must win
    assert memo.category_of(text) == first.id
    assert memo.category_of(text.upper()) == first.id
    assert memo.category_of("전혀 관계없는 적요") is None
    for mod in (sources, scoring):
        assert "category_of" in inspect.getsource(mod)


def test_a_misspelt_section_key_lists_that_sections_keys() -> None:
    from cdna.core.config import load_config
    from cdna.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(environ={"CDNA_ASR__BEAMSIZE": "3"})
    assert "asr.beamsize" in str(err.value)
    assert err.value.hint is not None and "allowed keys in `asr`" in err.value.hint
    assert "beam_size" in err.value.hint and "retention" not in err.value.hint
