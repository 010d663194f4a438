"""Prompt echoes: transcript segments that are nothing but a (truncated or garbled) configured banking term.

Whisper primed with bank vocabulary repeats it on audio it cannot read: the demo's robotic calls came out as
`주택담보대`, `전세자금대`, `연금저추` and were mined as intents with 0.98 confidence (issue 13). A segment
whose whole text is such a near-copy, with no other speech around it in the segment, says nothing about
what the customer wanted and is dropped before mining.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

__all__ = ["is_term_echo"]

_NOT_TEXT = re.compile(r"[\s\.,!?~…·\"'“”‘’()\-]+")
_MIN_SIMILARITY = 0.75  # "연금저추" against "연금저축" (one syllable off in four)


def _squash(text: str) -> str:
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text)).upper()


def is_term_echo(text: str, terms: Sequence[str]) -> bool:
    """Whether `text` is only configured terms, or one near-copy of a term (a prefix or a one-off garble).

    A term followed by more speech ("주택담보대출이요", "적금 해지하려고요") is not an echo: only
    texts no longer than the term they resemble are.

    Args:
        text: one transcript segment.
        terms: the configured terms (configs/banking_terms.yaml `decoder:`).
    """
    rest = _squash(text)
    if not rest:
        return False
    squashed = sorted({_squash(t) for t in terms if _squash(t)}, key=len, reverse=True)
    stripped = rest
    for term in squashed:
        stripped = stripped.replace(term, "")
    if not stripped:
        return True
    if len(rest) < 2:
        return False
    for term in squashed:
        if len(rest) > len(term):
            continue
        head = term[: len(rest)]
        if rest == head or SequenceMatcher(None, rest, term).ratio() >= _MIN_SIMILARITY:
            return True
        if len(rest) >= 3 and SequenceMatcher(None, rest, head).ratio() >= _MIN_SIMILARITY:
            return True
    return False
