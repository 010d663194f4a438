"""Intent estimators: sklearn contract, held-out quality on the seed set, transformers backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupShuffleSplit

from cdna.core.config import load_intents
from cdna.nlp.intents import IntentClassifier, TransformersIntentClassifier, load_seed, top_intents


def test_seed_set_covers_every_intent_with_40_varied_lines() -> None:
    texts, labels, groups = load_seed()
    ids = load_intents().ids
    assert len(ids) >= 17 and "auto_loan_inquiry" in ids
    for intent in ids:
        mine = [t for t, y in zip(texts, labels, strict=True) if y == intent]
        assert len(set(mine)) >= 40, intent
        assert any(" " not in t.strip() for t in mine), f"{intent}: no unspaced line"
    assert len(set(groups)) < len(texts)  # variants share their original's group


def test_acceptance_macro_f1_on_held_out_split() -> None:
    texts, labels, groups = load_seed()
    X, y, g = np.array(texts, dtype=object), np.array(labels), np.array(groups)
    train, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=0).split(X, y, g))
    model = IntentClassifier().fit(list(X[train]), list(y[train]))
    predicted = [row[0] for row in model.predict(list(X[test]))]
    assert f1_score(y[test], predicted, average="macro") >= 0.85


def test_estimator_contract_and_multi_label(models) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFittedError):
        IntentClassifier().predict_proba(["카드 분실"])
    clf = models.intents
    proba = clf.predict_proba(["주담대 금리 알아보려고요", "카드를 잃어버렸어요 그리고 주소도 바꾸고 싶어요"])
    assert proba.shape == (2, len(clf.classes_)) and ((proba >= 0) & (proba <= 1)).all()
    assert clf.predict(["주택담보대출 한도 얼마나 나와요"])[0][0] == "mortgage_inquiry"
    two = clf.top(["카드를 잃어버렸어요 정지해 주시고요 이사해서 주소도 변경하려고요"])[0]
    assert {"card_lost", "personal_info_change"} <= {c for c, _ in two}
    # Multi-label rows fit too.
    small = IntentClassifier(cv=2).fit(
        ["카드 분실", "주소 변경", "카드 분실 주소 변경", "카드 정지", "이사 주소"],
        [
            ["card_lost"],
            ["personal_info_change"],
            ["card_lost", "personal_info_change"],
            "card_lost",
            "personal_info_change",
        ],
    )
    assert set(small.classes_) == {"card_lost", "personal_info_change"}


def test_top_intents_threshold_and_best_one() -> None:
    proba = np.array([[0.1, 0.2, 0.05], [0.9, 0.6, 0.1]])
    out = top_intents(proba, ["a", "b", "c"], threshold=0.35, max_intents=2)
    assert out == [[("b", 0.2)], [("a", 0.9), ("b", 0.6)]]


def _tiny_bert(folder: Path, texts: list[str]) -> Path:
    transformers = pytest.importorskip("transformers")
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *[f"##{c}" for c in chars]]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = transformers.BertTokenizerFast(
        vocab_file=str(folder / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=False
    )
    cfg = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    transformers.BertForSequenceClassification(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_transformers_backend_through_the_same_interface(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    texts, labels, _ = load_seed()
    path = _tiny_bert(tmp_path / "tiny", texts)
    clf = TransformersIntentClassifier(path, epochs=2, batch_size=32, learning_rate=1e-3).fit(
        texts[::3], labels[::3]
    )
    proba = clf.predict_proba(["카드 잃어버렸어요", "주담대 금리"])
    assert proba.shape == (2, len(clf.classes_))
    assert len(clf.predict(["해외송금 하려고요"])[0]) >= 1
    clf.save(tmp_path / "tuned")
    again = TransformersIntentClassifier(tmp_path / "tuned", epochs=0).fit(texts[::3], labels[::3])
    assert again.predict_proba(["카드"]).shape[1] == len(again.classes_)


@pytest.mark.slow
def test_cli_loads_a_local_transformers_model(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    pytest.importorskip("torch")
    texts, _, _ = load_seed()
    path = _tiny_bert(tmp_path / "tiny", texts)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdna",
            "intent",
            "--backend",
            "transformers",
            "--model",
            str(path),
            "--top",
            "2",
            "--epochs",
            "0",
        ],
        input="카드 잃어버렸어요\n\n".encode(),
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    recs = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert len(recs) == 2 and len(recs[0]["intents"]) == 2 and recs[1]["error"] == "empty line"
