"""Find personal data at rest outside the raw zone (issue #14, item 2).

Everything a stage writes outside `raw/`, `audio/`, `transcripts/` and `_truth/` is meant to hold masked text
only: signals, features, reports, run records, rejects, logs, the service's SQLite files, the MLflow store.
`scan_lake` reads every such artefact — string columns of Parquet files, text columns of SQLite databases,
HTML, logs, JSON and other text — and reports each core item (resident/foreigner number, phone, card,
account) with the file and the column and row, or the line, where it sits. A finding shows only a masked
excerpt: the report itself must not become a leak.

Machine files hold long runs of numbers (model trees, epoch milliseconds, chart data) that a Korean masker
would read as accounts; a finding therefore counts where the text around it is Korean, or where the number has
a shape and check that only personal data has (010-1234-5678, a resident number with a valid date, a card
that passes Luhn).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cdna.core.lake import Lake
from cdna.nlp.pii import MaskOptions, PiiSpan, find_pii, luhn_ok, mask

__all__ = ["CORE_TYPES", "Finding", "ScanReport", "scan_lake", "scan_text"]

CORE_TYPES: frozenset[str] = frozenset({"RRN", "PHONE", "CARD", "ACCOUNT"})
_OPTIONS = MaskOptions(types=CORE_TYPES)
_TEXT_SUFFIXES = frozenset(
    [
        ".html",
        ".htm",
        ".log",
        ".txt",
        ".json",
        ".jsonl",
        ".csv",
        ".tsv",
        ".md",
        ".yaml",
        ".yml",
        ".xml",
        ".svg",
        ".out",
        ".err",
        ".ini",
        ".cfg",
        ".toml",
    ]
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HANGUL = re.compile(r"[가-힣]")
_TAG = re.compile(r"<[^>]{0,2000}>")
_DIGIT = re.compile(r"\d")
_NEAR = 12
_WRITTEN_SHAPES = {
    "PHONE": re.compile(
        r"\(?0\d{1,2}\)?[-. ]?\d{3,4}[-. ]\d{4}|\+82[-. ]?\(?0?\)?\d{1,2}[-. ]?\d{3,4}[-. ]?\d{4}|01[016789]\d{7,8}"
    ),
    "RRN": re.compile(r"\d{6}[-. ]?\d{7}"),
    "CARD": re.compile(r"\d{4}[-. ]?\d{4}[-. ]?\d{4}[-. ]?\d{4}|\d{4}[-. ]?\d{6}[-. ]?\d{5}"),
    "ACCOUNT": re.compile(r"\d{2,6}-\d{2,6}-\d{2,7}(?:-\d{1,3})?"),
}


@dataclass(frozen=True)
class Finding:
    """One item of personal data found at rest.

    Attributes:
        path: the file, relative to the lake.
        where: column and row, table.column and rowid, or line.
        type: RRN, PHONE, CARD or ACCOUNT.
        excerpt: the text around it with the item itself masked.
    """

    path: str
    where: str
    type: str
    excerpt: str


@dataclass
class ScanReport:
    """What a scan read and found.

    Attributes:
        findings: every item found, in file order.
        files: files read, by kind (parquet, sqlite, text).
        skipped: files not read (binary, unreadable), with the reason.
        values: text values and lines examined.
    """

    findings: list[Finding] = field(default_factory=list)
    files: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    values: int = 0

    @property
    def clean(self) -> bool:
        """No personal data found."""
        return not self.findings

    def by_type(self) -> dict[str, int]:
        """Findings per type."""
        return dict(Counter(f.type for f in self.findings))

    def to_dict(self, limit: int = 200) -> dict[str, object]:
        """A JSON-ready summary (at most `limit` findings listed)."""
        return {
            "findings": len(self.findings),
            "by_type": self.by_type(),
            "files_read": dict(self.files),
            "values_examined": self.values,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "places": [f.__dict__ for f in self.findings[:limit]],
        }


def _shaped(kind: str, digits: str, span_text: str) -> bool:
    """Whether a number written without any Korean around it still has a shape only personal data has."""
    if not _WRITTEN_SHAPES[kind].fullmatch(span_text.strip()):
        return False
    if kind == "RRN":
        month, day = int(digits[2:4]), int(digits[4:6])
        return 1 <= month <= 12 and 1 <= day <= 31 and digits[6] in "12345678"
    if kind == "CARD":
        return luhn_ok(digits)
    return True


def scan_text(text: str) -> list[PiiSpan]:
    """Core personal-data spans of one value or line, as the scan counts them."""
    if not text or (not _DIGIT.search(text) and not _HANGUL.search(text)):
        return []
    spans = find_pii(text, _OPTIONS)
    out = []
    for s in spans:
        piece = text[s.start : s.end]
        # Korean next to the number (or spoken in it) makes it speech or a memo; bare numbers must look
        # like personal data on their own.
        near = text[max(0, s.start - _NEAR) : s.start] + piece + text[s.end : s.end + _NEAR]
        digits = "".join(ch for ch in piece if ch.isdigit())
        if _HANGUL.search(near) or _shaped(s.type, digits, piece):
            out.append(s)
    return out


def _strings(value: str) -> Iterator[str]:
    """The text in a value: a JSON document's strings (never its numbers), else the value itself."""
    head = value.lstrip()[:1]
    if head in ("{", "["):
        try:
            yield from _json_strings(json.loads(value))
            return
        except (json.JSONDecodeError, RecursionError):
            pass
    yield value


def _excerpt(text: str, span: PiiSpan) -> str:
    a, b = max(0, span.start - 30), min(len(text), span.end + 30)
    piece = mask(text[a:b], _OPTIONS).text
    return ("…" if a else "") + " ".join(piece.split()) + ("…" if b < len(text) else "")


def _in_areas(path: Path, areas: Iterable[Path]) -> bool:
    return any(path == a or a in path.parents for a in areas)


def _files(lake: Lake) -> Iterator[Path]:
    skip = [a.resolve() for a in (*lake.unmasked_areas, lake.backups, lake.locks)]
    for path in sorted(lake.root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not _in_areas(path.resolve(), skip):
            yield path


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return None
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if suffix in _TEXT_SUFFIXES or not suffix or path.name == "MLmodel":
        if b"\x00" in head:
            return None
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
                return None
        return "text"
    return None


def _scan_parquet(path: Path, rel: str, report: ScanReport) -> None:
    table = pq.read_table(path)
    for name in table.column_names:
        column = table.column(name)
        typ = column.type
        if pa.types.is_dictionary(typ):
            column = column.cast(typ.value_type)
            typ = typ.value_type
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            continue
        # Each distinct value once: ids and labels repeat over millions of rows.
        for value in pc.unique(column).to_pylist():
            if value is None:
                continue
            report.values += 1
            for text in _strings(value):
                for span in scan_text(text):
                    row = pc.index(column, value).as_py()
                    report.findings.append(
                        Finding(rel, f"column {name}, row {row}", span.type, _excerpt(text, span))
                    )


def _scan_sqlite(path: Path, rel: str, report: ScanReport) -> None:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({quoted})")]
            for col in columns:
                qc = '"' + col.replace('"', '""') + '"'
                rows = con.execute(
                    f"SELECT {qc}, MIN(rowid) FROM {quoted} WHERE typeof({qc}) = 'text' GROUP BY {qc}"
                    if _has_rowid(con, quoted)
                    else f"SELECT DISTINCT {qc}, NULL FROM {quoted} WHERE typeof({qc}) = 'text'"
                )
                for value, rowid in rows:
                    report.values += 1
                    where = f"{table}.{col}" + (f", rowid {rowid}" if rowid is not None else "")
                    for text in _strings(value):
                        for span in scan_text(text):
                            report.findings.append(Finding(rel, where, span.type, _excerpt(text, span)))
    finally:
        con.close()


def _has_rowid(con: sqlite3.Connection, quoted: str) -> bool:
    try:
        con.execute(f"SELECT rowid FROM {quoted} LIMIT 0")
        return True
    except sqlite3.Error:
        return False


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def _scan_text_file(path: Path, rel: str, report: ScanReport) -> None:
    html = path.suffix.lower() in (".html", ".htm", ".svg", ".xml")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            # In markup each text node is one value: joining a table row's cells ("400 400 400 400") would
            # read figures in neighbouring cells as one long number.
            pieces = [t for t in _TAG.split(line) if t.strip()] if html else [line]
            for piece in pieces:
                for text in _strings(piece):
                    report.values += 1
                    for span in scan_text(text):
                        report.findings.append(Finding(rel, f"line {n}", span.type, _excerpt(text, span)))


def _scan_json_document(path: Path, rel: str, report: ScanReport) -> bool:
    """A whole JSON document: its strings, each reported by the line it sits on; False if it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    for n, line in enumerate(text.splitlines(), start=1):
        # One JSON value per line in pretty-printed files: scan the string literals only, never numbers.
        for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', line):
            try:
                value = json.loads(f'"{literal}"')
            except json.JSONDecodeError:
                value = literal
            report.values += 1
            for span in scan_text(value):
                report.findings.append(Finding(rel, f"line {n}", span.type, _excerpt(value, span)))
    return True


def scan_lake(lake: Lake) -> ScanReport:
    """Scan every artefact of `lake` outside the raw zone for core personal data.

    Args:
        lake: the lake to scan.

    Returns:
        The findings (file and place, type, masked excerpt), files read by kind, and files skipped.
    """
    report = ScanReport()
    for path in _files(lake):
        rel = lake.rel(path)
        kind = _kind(path)
        if kind is None:
            report.skipped.append((rel, "binary"))
            continue
        try:
            if kind == "parquet":
                _scan_parquet(path, rel, report)
            elif kind == "sqlite":
                _scan_sqlite(path, rel, report)
            elif path.suffix.lower() == ".json" and _scan_json_document(path, rel, report):
                pass
            else:
                _scan_text_file(path, rel, report)
        except (OSError, pa.ArrowException, sqlite3.Error) as exc:
            report.skipped.append((rel, f"unreadable: {type(exc).__name__}"))
            continue
        report.files[kind] += 1
    return report
