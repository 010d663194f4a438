"""Memo and merchant interests: lexicon first, learned fallback for unseen strings."""

from __future__ import annotations

from cdna.nlp.interests import InterestClassifier


def test_lexicon_fallback_and_none() -> None:
    clf = InterestClassifier().fit()
    got = clf.classify(
        ["관리비", "DB손보 실손보험료", "연세소아과의원", "하나투어 패키지", "홍지영", None, ""]
    )
    assert [g.label for g in got[:4]] == ["maintenance_fee", "insurance", "childcare", "travel"]
    assert got[0].how == "lexicon" and got[0].score > 0.9
    assert got[4].label is None and got[5].label is None and got[6].label is None


def test_short_latin_keywords_need_word_boundaries() -> None:
    clf = InterestClassifier().fit()
    assert clf.classify(["KT 통신요금"])[0].how == "lexicon"
    assert clf.classify(["KTX"])[0].how != "lexicon"


def test_unseen_string_gets_a_model_guess_with_confidence() -> None:
    clf = InterestClassifier(min_score=0.0).fit()
    got = clf.classify(["웨딩드레스샵 잔금"])[0]
    assert got.how in ("lexicon", "model") and 0.0 < got.score <= 1.0


def test_merchant_used_when_memo_is_silent() -> None:
    clf = InterestClassifier().fit()
    got = clf.classify_pair(["카드결제"], ["SK에너지"])[0]
    assert got.label == "auto"
